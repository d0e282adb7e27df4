import { useEffect, useId, useState, type FormEvent } from 'react';
import type { AuditEntry, AuditParams } from '../../../../client/src/index.js';
import { useTagway } from '../../../../client/src/react.js';
import type { AuditAction } from '../../../../src/runtime/audit.js';
import { formatDateTime } from '../../format.js';
import { useI18n } from '../../i18n.js';
import { auditCsvQuery, auditQuery, fill, type AuditForm } from './forms.js';
import { ErrorLine } from './notice.js';

// Suggestions for the action filter; typed against the server's list so that a new or renamed action is a type error here.
const ACTIONS = Object.keys({
  'auth.login': 1,
  'auth.login_failed': 1,
  'auth.login_throttled': 1,
  'auth.lockout': 1,
  'auth.logout': 1,
  'auth.refresh': 1,
  'auth.token': 1,
  'auth.token_failed': 1,
  'tag.write': 1,
  'alarm.acknowledge': 1,
  'alarm.reset': 1,
  'alarm.enable': 1,
  'alarm.disable': 1,
  'alarm.shelve': 1,
  'alarm.unshelve': 1,
  'user.create': 1,
  'user.update': 1,
  'user.unlock': 1,
  'user.delete': 1,
  'user.disable': 1,
  'user.password': 1,
  'group.create': 1,
  'group.update': 1,
  'group.delete': 1,
  'client.create': 1,
  'client.delete': 1,
  'signing_key.rotate': 1,
  'connections.reload': 1,
  'exports.run': 1,
  'exports.retry': 1,
  'exports.discard': 1,
  'board.create': 1,
  'board.update': 1,
  'board.delete': 1,
} satisfies Record<AuditAction, 1>);

const EMPTY: AuditForm = { from: '', to: '', user: '', action: '', tag: '', order: 'desc' };

/** The audit trail: filters the API has (time range, user, actions, tag, order), keyset "Load more", CSV of the filter. */
export function Audit() {
  const { t } = useI18n();
  const { client } = useTagway();
  const listId = useId();
  const [form, setForm] = useState<AuditForm>(EMPTY);
  const [params, setParams] = useState<AuditParams>(() => {
    const q = auditQuery(EMPTY, t);
    return q.ok ? q.params : {};
  });
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const load = async (p: AuditParams, cursor?: string) => {
    setLoading(true);
    try {
      const page = await client.audit({ ...p, ...(cursor ? { cursor } : {}) });
      setItems((old) => (cursor ? [...old, ...page.items] : page.items));
      setNext(page.next);
      setProblem(undefined);
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setLoading(false);
    }
  };
  // The first page once; later pages follow the form.
  useEffect(() => {
    void load(params);
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = auditQuery(form, t);
    if (!q.ok) {
      setProblem(q.message);
      return;
    }
    setParams(q.params);
    void load(q.params);
  };
  const set = (k: keyof AuditForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  return (
    <section aria-labelledby="admin-audit" className="card">
      <h2 id="admin-audit">{t.audit}</h2>
      <form className="filters" aria-label={`${t.audit}: ${t.apply}`} onSubmit={submit}>
        <label>
          {t.from}
          <input type="datetime-local" step={1} value={form.from} onChange={set('from')} />
        </label>
        <label>
          {t.to}
          <input type="datetime-local" step={1} value={form.to} onChange={set('to')} />
        </label>
        <label>
          {t.user}
          <input value={form.user} maxLength={128} autoComplete="off" onChange={set('user')} />
        </label>
        <label>
          {t.action}
          <input value={form.action} maxLength={512} list={listId} title={t.adminActionHint} autoComplete="off" onChange={set('action')} />
          <datalist id={listId}>
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          {t.adminTag}
          <input value={form.tag} maxLength={1024} title={t.adminTagHint} autoComplete="off" spellCheck={false} onChange={set('tag')} />
        </label>
        <label>
          {t.adminOrder}
          <select value={form.order} onChange={set('order')}>
            <option value="desc">{t.adminNewestFirst}</option>
            <option value="asc">{t.adminOldestFirst}</option>
          </select>
        </label>
        <button type="submit">{t.apply}</button>
        <a className="button" href={client.auditCsvUrl(auditCsvQuery(params))} download="audit.csv">
          {t.downloadCsv}
        </a>
      </form>
      <ErrorLine text={problem} />
      <p className="muted" aria-live="polite">
        {fill(t.adminRows, { count: items.length })}
      </p>
      <table className="admin-table audit-table">
        <thead>
          <tr>
            <th>{t.at}</th>
            <th>{t.action}</th>
            <th>{t.user}</th>
            <th>{t.target}</th>
            <th>{t.result}</th>
            <th>{t.adminAddress}</th>
            <th>{t.adminDetails}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.id}>
              <td data-label={t.at}>{formatDateTime(r.at)}</td>
              <td data-label={t.action}>{r.action}</td>
              <td data-label={t.user}>{r.user}</td>
              <td data-label={t.target} className="break">
                {r.target ?? bulkTarget(r.details, t.adminBulkTarget)}
              </td>
              <td data-label={t.result}>{r.result}</td>
              <td data-label={t.adminAddress}>{r.clientAddress}</td>
              <td data-label={t.adminDetails} className="break">
                <small>{r.details ? JSON.stringify(r.details) : ''}</small>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.length === 0 && !loading && <p className="muted">{t.adminNothing}</p>}
      {next && (
        <button type="button" disabled={loading} onClick={() => void load(params, next)}>
          {t.loadMore}
        </button>
      )}
    </section>
  );
}

/** A bulk write's row has no target; its items are the targets, so the cell says how many. */
function bulkTarget(details: unknown, template: string): string | null {
  const d = details as { items?: unknown; refused?: unknown } | null;
  if (!Array.isArray(d?.items)) return null;
  // A refused bulk write lists its first 100 items and counts them all.
  return fill(template, { count: typeof d.refused === 'number' ? d.refused : d.items.length });
}
