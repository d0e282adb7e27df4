import { useEffect, useState, type FormEvent } from 'react';
import type { ApiClient, AuditEntry, AuditParams, CreatedApiClient, Group, PermissionGrant, User } from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';
import { useAuth } from '../auth.js';
import { formatDateTime } from '../format.js';
import { useI18n } from '../i18n.js';

export function AdminPage() {
  const { t } = useI18n();
  const { rights } = useAuth();
  return (
    <section>
      <h1>{t.administration}</h1>
      {rights.can('users:admin') && (
        <>
          <Users />
          <Groups />
          <Clients />
        </>
      )}
      {rights.can('audit:read') && <Audit />}
    </section>
  );
}

function useList<T>(load: () => Promise<{ items: T[] }>): [T[], () => void, string | undefined] {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    load().then(
      (r) => setItems(r.items),
      (e: Error) => setError(e.message),
    );
  }, [tick]);
  return [items, () => setTick((x) => x + 1), error];
}

function Users() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [users, reload, error] = useList<User>(client.users);
  const [problem, setProblem] = useState<string | undefined>();
  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const form = e.currentTarget;
    try {
      await client.createUser({
        username: String(f.get('username')),
        password: String(f.get('password')),
        groups: String(f.get('groups') ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      } as never);
      form.reset();
      setProblem(undefined);
      reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <section aria-label={t.users} className="card">
      <h2>{t.users}</h2>
      {(error || problem) && <p role="alert">{problem ?? error}</p>}
      <table>
        <thead>
          <tr>
            <th>{t.username}</th>
            <th>{t.groups}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.username}>
              <td>
                {u.username} {u.disabled ? '(disabled)' : ''}
              </td>
              <td>{u.groups.join(', ')}</td>
              <td>
                <button
                  type="button"
                  aria-label={`${t.delete} ${u.username}`}
                  onClick={() => void client.deleteUser(u.username).then(reload, (e: Error) => setProblem(e.message))}
                >
                  {t.delete}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="filters" onSubmit={create}>
        <label>
          {t.username}
          <input name="username" required />
        </label>
        <label>
          {t.password}
          <input name="password" type="password" required autoComplete="new-password" />
        </label>
        <label>
          {t.groups}
          <input name="groups" placeholder="operators, viewers" />
        </label>
        <button type="submit">{t.create}</button>
      </form>
    </section>
  );
}

/** One grant per line: `permission [tag glob]`, e.g. `tags:write Line1.**`. */
function parseGrants(text: string): PermissionGrant[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [permission, tags] = l.split(/\s+/, 2);
      return { permission: permission as PermissionGrant['permission'], ...(tags ? { tags } : {}) };
    });
}

function Groups() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [groups, reload] = useList<Group>(client.groups);
  const [problem, setProblem] = useState<string | undefined>();
  const save = async (e: FormEvent<HTMLFormElement>, name: string) => {
    e.preventDefault();
    const text = String(new FormData(e.currentTarget).get('grants') ?? '');
    try {
      await client.updateGroup(name, { permissions: parseGrants(text) });
      setProblem(undefined);
      reload();
    } catch (err) {
      setProblem(`${name}: ${(err as Error).message}`);
    }
  };
  return (
    <section aria-label={t.groups} className="card">
      <h2>{t.groups}</h2>
      {problem && <p role="alert">{problem}</p>}
      {groups.map((g) => (
        <form key={g.name + g.permissions.length} className="filters" onSubmit={(e) => void save(e, g.name)}>
          <label className="grow">
            {g.name} — {t.permissions}
            <textarea
              name="grants"
              rows={Math.max(2, g.permissions.length)}
              defaultValue={g.permissions.map((p) => (p.tags ? `${p.permission} ${p.tags}` : p.permission)).join('\n')}
            />
          </label>
          <button type="submit" aria-label={`${t.save} ${g.name}`}>
            {t.save}
          </button>
        </form>
      ))}
    </section>
  );
}

function Clients() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [clients, reload, error] = useList<ApiClient>(client.apiClients);
  const [created, setCreated] = useState<CreatedApiClient | undefined>();
  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setCreated(
      await client.createApiClient({
        name: String(f.get('name')),
        groups: String(f.get('groups') ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      } as never),
    );
    reload();
  };
  return (
    <section aria-label={t.apiClients} className="card">
      <h2>{t.apiClients}</h2>
      {error && <p role="alert">{error}</p>}
      {created && (
        <div role="status" className="secret">
          <p>{t.secretOnce}</p>
          <code>{created.clientId}</code> <code>{created.clientSecret}</code>
          <button type="button" onClick={() => setCreated(undefined)}>
            {t.close}
          </button>
        </div>
      )}
      <ul>
        {clients.map((c) => (
          <li key={c.clientId}>
            {c.name} <code>{c.clientId}</code> {c.groups.join(', ')}{' '}
            <button type="button" aria-label={`${t.delete} ${c.name}`} onClick={() => void client.deleteApiClient(c.clientId).then(reload)}>
              {t.delete}
            </button>
          </li>
        ))}
      </ul>
      <form className="filters" onSubmit={(e) => void create(e)}>
        <label>
          {t.name}
          <input name="name" required />
        </label>
        <label>
          {t.groups}
          <input name="groups" placeholder="viewers" />
        </label>
        <button type="submit">{t.create}</button>
      </form>
    </section>
  );
}

function Audit() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [filter, setFilter] = useState<AuditParams>({ limit: 50 });
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const load = async (f: AuditParams, cursor?: string) => {
    const page = await client.audit({ ...f, ...(cursor ? { cursor } : {}) });
    setItems((old) => (cursor ? [...old, ...page.items] : page.items));
    setNext(page.next);
  };
  useEffect(() => {
    void load(filter);
  }, []);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => String(f.get(k) ?? '').trim() || undefined;
    const nf: AuditParams = { limit: 50 };
    if (s('user')) nf.user = s('user');
    if (s('action')) nf.action = s('action');
    if (s('from')) nf.from = new Date(s('from')!).toISOString();
    if (s('to')) nf.to = new Date(s('to')!).toISOString();
    setFilter(nf);
    void load(nf);
  };
  const csv: AuditParams = { ...filter };
  delete csv.limit;
  return (
    <section aria-label={t.audit} className="card">
      <h2>{t.audit}</h2>
      <form className="filters" onSubmit={submit}>
        <label>
          {t.from}
          <input type="datetime-local" name="from" />
        </label>
        <label>
          {t.to}
          <input type="datetime-local" name="to" />
        </label>
        <label>
          {t.user}
          <input name="user" />
        </label>
        <label>
          {t.action}
          <input name="action" placeholder="auth.login,tag.write" />
        </label>
        <button type="submit">{t.apply}</button>
        <a className="button" href={client.auditCsvUrl({ ...csv, limit: 10_000 })} download="audit.csv">
          {t.downloadCsv}
        </a>
      </form>
      <table>
        <thead>
          <tr>
            <th>{t.at}</th>
            <th>{t.action}</th>
            <th>{t.user}</th>
            <th>{t.target}</th>
            <th>{t.result}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.id}>
              <td>{formatDateTime(r.at)}</td>
              <td>{r.action}</td>
              <td>{r.user}</td>
              <td>{r.target}</td>
              <td>{r.result}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <button type="button" onClick={() => void load(filter, next)}>
          {t.loadMore}
        </button>
      )}
    </section>
  );
}
