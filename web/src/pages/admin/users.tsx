import { useState, type FormEvent } from 'react';
import type { Group, User } from '../../../../client/src/index.js';
import { useTagway } from '../../../../client/src/react.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { GroupPicker } from '../../components/group-picker.js';
import { Modal } from '../../components/modal.js';
import { useI18n } from '../../i18n.js';
import { fill, usernameProblem } from './forms.js';
import { AdminSection, DialogFooter, ErrorLine, type Notice } from './notice.js';
import { useList } from './use-list.js';

type Open = { kind: 'edit' | 'password' | 'delete'; user: User } | undefined;

/** Users: list with groups and state, create, edit groups, reset password, unlock, delete. */
export function Users({ groups }: { groups: Group[] }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const { items: users, reload, error } = useList<User>(client.users);
  const [notice, setNotice] = useState<Notice>();
  const [open, setOpen] = useState<Open>();
  const groupNames = groups.map((g) => g.name);
  const unlock = async (u: User) => {
    try {
      const r = await client.unlockUser(u.username);
      setNotice({
        kind: 'ok',
        text: fill(r.enabled ? t.adminUnlockedEnabled : t.adminUnlocked, { name: u.username, count: r.clearedCounters }),
      });
      reload();
    } catch (err) {
      setNotice({ kind: 'error', text: (err as Error).message });
    }
  };
  return (
    <AdminSection id="admin-users" title={t.users} error={error} notice={notice}>
      <table className="admin-table">
        <thead>
          <tr>
            <th>{t.username}</th>
            <th>{t.groups}</th>
            <th>{t.adminState}</th>
            <th>{t.adminActions}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.username}>
              <td>
                <strong>{u.username}</strong>
                {u.displayName && u.displayName !== u.username && <div className="muted">{u.displayName}</div>}
                {u.source !== 'local' && <div className="muted">{u.source}</div>}
              </td>
              <td data-label={t.groups}>{u.groups.length ? u.groups.join(', ') : <span className="muted">{t.adminNoGroups}</span>}</td>
              <td data-label={t.adminState}>
                <span className={u.disabled ? 'state-off' : 'state-on'}>{u.disabled ? `⛔ ${t.adminDisabled}` : `✓ ${t.adminActive}`}</span>
              </td>
              <td>
                <div className="row-actions">
                  <button type="button" aria-label={`${t.edit} ${u.username}`} onClick={() => setOpen({ kind: 'edit', user: u })}>
                    {t.edit}
                  </button>
                  {u.source === 'local' && (
                    <button
                      type="button"
                      aria-label={`${t.adminResetPassword} ${u.username}`}
                      onClick={() => setOpen({ kind: 'password', user: u })}
                    >
                      {t.adminResetPassword}
                    </button>
                  )}
                  <button type="button" aria-label={`${t.adminUnlock} ${u.username}`} onClick={() => void unlock(u)}>
                    {t.adminUnlock}
                  </button>
                  <button type="button" aria-label={`${t.delete} ${u.username}`} onClick={() => setOpen({ kind: 'delete', user: u })}>
                    {t.delete}
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewUser
        groups={groupNames}
        onCreated={(name) => {
          setNotice({ kind: 'ok', text: fill(t.adminUserCreated, { name }) });
          reload();
        }}
      />
      {open?.kind === 'edit' && (
        <EditUser
          user={open.user}
          groups={groupNames}
          onClose={() => setOpen(undefined)}
          onSaved={() => {
            setNotice({ kind: 'ok', text: fill(t.adminUserSaved, { name: open.user.username }) });
            reload();
          }}
        />
      )}
      {open?.kind === 'password' && (
        <ResetPassword
          user={open.user}
          onClose={() => setOpen(undefined)}
          onDone={() => setNotice({ kind: 'ok', text: fill(t.adminPasswordChanged, { name: open.user.username }) })}
        />
      )}
      {open?.kind === 'delete' && (
        <ConfirmDialog
          title={`${t.delete} ${open.user.username}`}
          message={fill(t.adminConfirmDelete, { name: open.user.username })}
          confirmLabel={t.delete}
          onClose={() => setOpen(undefined)}
          onConfirm={async () => {
            await client.deleteUser(open.user.username);
            setNotice({ kind: 'ok', text: fill(t.adminDeleted, { name: open.user.username }) });
            reload();
          }}
        />
      )}
    </AdminSection>
  );
}

function NewUser({ groups, onCreated }: { groups: string[]; onCreated: (username: string) => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [member, setMember] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const nameProblem = username === '' ? undefined : usernameProblem(username, t);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await client.createUser({ username, password, groups: member, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) });
      setUsername('');
      setDisplayName('');
      setPassword('');
      setMember([]);
      setProblem(undefined);
      onCreated(username);
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="admin-form" aria-label={t.adminNewUser} onSubmit={(e) => void submit(e)}>
      <h3>{t.adminNewUser}</h3>
      <div className="filters">
        <label>
          {t.username}
          <input
            value={username}
            required
            maxLength={64}
            autoComplete="off"
            aria-invalid={nameProblem !== undefined}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          {t.adminDisplayName}
          <input value={displayName} maxLength={128} autoComplete="off" onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label>
          {t.password}
          <input
            type="password"
            value={password}
            required
            maxLength={1024}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
      </div>
      {nameProblem && <p className="error">{nameProblem}</p>}
      <GroupPicker all={groups} value={member} onChange={setMember} />
      <ErrorLine text={problem} />
      <button type="submit" className="primary" disabled={busy || nameProblem !== undefined}>
        {t.create}
      </button>
    </form>
  );
}

function EditUser(props: { user: User; groups: string[]; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [member, setMember] = useState<string[]>(props.user.groups);
  const [displayName, setDisplayName] = useState(props.user.displayName);
  const [disabled, setDisabled] = useState(props.user.disabled);
  const [problem, setProblem] = useState<string | undefined>();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await client.updateUser(props.user.username, { groups: member, displayName: displayName.trim(), disabled });
      props.onSaved();
      props.onClose();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <Modal title={fill(t.adminEditUser, { name: props.user.username })} onClose={props.onClose}>
      <form className="editor" onSubmit={(e) => void save(e)}>
        <label>
          {t.adminDisplayName}
          <input value={displayName} maxLength={128} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <GroupPicker all={props.groups} value={member} onChange={setMember} />
        <label className="check">
          <input type="checkbox" checked={disabled} onChange={(e) => setDisabled(e.target.checked)} />
          {t.adminDisable}
        </label>
        <DialogFooter problem={problem} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}

function ResetPassword(props: { user: User; onClose: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await client.updateUser(props.user.username, { password });
      props.onDone();
      props.onClose();
    } catch (err) {
      // The server's password policy speaks here (length, the user name inside it, …).
      setProblem((err as Error).message);
    }
  };
  return (
    <Modal title={fill(t.adminResetPasswordOf, { name: props.user.username })} onClose={props.onClose}>
      <form className="editor" onSubmit={(e) => void save(e)}>
        <label>
          {t.adminNewPassword}
          <input
            type="password"
            value={password}
            required
            maxLength={1024}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <DialogFooter problem={problem} onCancel={props.onClose} />
      </form>
    </Modal>
  );
}
