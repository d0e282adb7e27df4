import { useState, type FormEvent } from 'react';
import type { Group } from '../../../../client/src/index.js';
import { useTagway } from '../../../../client/src/react.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { Modal } from '../../components/modal.js';
import { useI18n } from '../../i18n.js';
import { fill, grantsOf, grantsValid, groupNameProblem, rowsOf, type GrantRow } from './forms.js';
import { GrantEditor } from './grant-editor.js';
import { AdminSection, DialogFooter, ErrorLine, type Notice } from './notice.js';

type Open = { kind: 'edit' | 'delete'; group: Group } | undefined;

/** Groups: list with their grants, create, edit grants and tag scopes, delete (the server refuses one in use). */
export function Groups({ groups, error, reload }: { groups: Group[]; error: string | undefined; reload: () => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [notice, setNotice] = useState<Notice>();
  const [open, setOpen] = useState<Open>();
  return (
    <AdminSection id="admin-groups" title={t.groups} error={error} notice={notice}>
      <ul className="admin-list">
        {groups.map((g) => (
          <li key={g.name} aria-label={g.name}>
            <div className="grow">
              <strong>{g.name}</strong> {g.source !== 'local' && <span className="muted">({g.source})</span>}
              {g.description && <div className="muted">{g.description}</div>}
              <ul className="grant-list">
                {g.permissions.length === 0 && <li className="muted">{t.adminNoGrants}</li>}
                {g.permissions.map((p) => (
                  <li key={`${p.permission} ${p.tags ?? ''}`}>
                    <code>{p.permission}</code> <span className="muted">{p.tags ?? t.adminAllTags}</span>
                  </li>
                ))}
              </ul>
            </div>
            <div className="row-actions">
              <button type="button" aria-label={`${t.edit} ${g.name}`} onClick={() => setOpen({ kind: 'edit', group: g })}>
                {t.edit}
              </button>
              <button type="button" aria-label={`${t.delete} ${g.name}`} onClick={() => setOpen({ kind: 'delete', group: g })}>
                {t.delete}
              </button>
            </div>
          </li>
        ))}
      </ul>
      <NewGroup
        onCreated={(name) => {
          setNotice({ kind: 'ok', text: fill(t.adminGroupCreated, { name }) });
          reload();
        }}
      />
      {open?.kind === 'edit' && (
        <EditGroup
          group={open.group}
          onClose={() => setOpen(undefined)}
          onSaved={() => {
            setNotice({ kind: 'ok', text: fill(t.adminGroupSaved, { name: open.group.name }) });
            reload();
          }}
        />
      )}
      {open?.kind === 'delete' && (
        <ConfirmDialog
          title={`${t.delete} ${open.group.name}`}
          message={fill(t.adminConfirmDelete, { name: open.group.name })}
          confirmLabel={t.delete}
          onClose={() => setOpen(undefined)}
          onConfirm={async () => {
            await client.deleteGroup(open.group.name);
            setNotice({ kind: 'ok', text: fill(t.adminDeleted, { name: open.group.name }) });
            reload();
          }}
        />
      )}
    </AdminSection>
  );
}

function NewGroup({ onCreated }: { onCreated: (name: string) => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [rows, setRows] = useState<GrantRow[]>([{ permission: 'tags:read', tags: '' }]);
  const [problem, setProblem] = useState<string | undefined>();
  const nameProblem = name === '' ? undefined : groupNameProblem(name, t);
  const valid = name !== '' && nameProblem === undefined && grantsValid(rows, t);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    try {
      await client.createGroup({ name, permissions: grantsOf(rows), ...(description.trim() ? { description: description.trim() } : {}) });
      setName('');
      setDescription('');
      setRows([{ permission: 'tags:read', tags: '' }]);
      setProblem(undefined);
      onCreated(name);
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <form className="admin-form" aria-label={t.adminNewGroup} onSubmit={(e) => void submit(e)}>
      <h3>{t.adminNewGroup}</h3>
      <div className="filters">
        <label>
          {t.name}
          <input value={name} required maxLength={64} aria-invalid={nameProblem !== undefined} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="grow">
          {t.description}
          <input value={description} maxLength={256} onChange={(e) => setDescription(e.target.value)} />
        </label>
      </div>
      {nameProblem && <p className="error">{nameProblem}</p>}
      <GrantEditor rows={rows} onChange={setRows} />
      <ErrorLine text={problem} />
      <button type="submit" className="primary" disabled={!valid}>
        {t.create}
      </button>
    </form>
  );
}

function EditGroup(props: { group: Group; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [description, setDescription] = useState(props.group.description ?? '');
  const [rows, setRows] = useState<GrantRow[]>(() => rowsOf(props.group.permissions));
  const [problem, setProblem] = useState<string | undefined>();
  const valid = grantsValid(rows, t);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    try {
      await client.updateGroup(props.group.name, { description: description.trim(), permissions: grantsOf(rows) });
      props.onSaved();
      props.onClose();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <Modal title={fill(t.adminEditGroup, { name: props.group.name })} onClose={props.onClose}>
      <form className="editor" onSubmit={(e) => void save(e)}>
        <label>
          {t.description}
          <input value={description} maxLength={256} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <GrantEditor rows={rows} onChange={setRows} />
        <DialogFooter problem={problem} onCancel={props.onClose} saveDisabled={!valid} />
      </form>
    </Modal>
  );
}
