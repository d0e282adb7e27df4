import { useRef, useState, type FormEvent } from 'react';
import type { ApiClient, CreatedApiClient, Group } from '../../../../client/src/index.js';
import { useTagway } from '../../../../client/src/react.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { GroupPicker } from '../../components/group-picker.js';
import { Modal } from '../../components/modal.js';
import { formatDateTime } from '../../format.js';
import { useI18n } from '../../i18n.js';
import { fill } from './forms.js';
import { AdminSection, ErrorLine, type Notice } from './notice.js';
import { useList } from './use-list.js';

/** API clients (client-credentials grant): list, create with the secret shown once, revoke. */
export function Clients({ groups }: { groups: Group[] }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const { items: clients, reload, error } = useList<ApiClient>(client.apiClients);
  const [notice, setNotice] = useState<Notice>();
  const [revoking, setRevoking] = useState<ApiClient | undefined>();
  // The secret lives in this state only, until the dialog closes: never in storage, never fetched again.
  const [created, setCreated] = useState<CreatedApiClient | undefined>();
  return (
    <AdminSection id="admin-clients" title={t.apiClients} error={error} notice={notice}>
      <table className="admin-table">
        <thead>
          <tr>
            <th>{t.name}</th>
            <th>{t.adminClientId}</th>
            <th>{t.groups}</th>
            <th>{t.adminCreatedAt}</th>
            <th>{t.adminActions}</th>
          </tr>
        </thead>
        <tbody>
          {clients.map((c) => (
            <tr key={c.clientId}>
              <td>{c.name}</td>
              <td data-label={t.adminClientId}>
                <code className="break">{c.clientId}</code>
              </td>
              <td data-label={t.groups}>{c.groups.join(', ')}</td>
              <td data-label={t.adminCreatedAt}>
                {formatDateTime(c.createdAt)}
                {c.createdBy && <div className="muted">{c.createdBy}</div>}
              </td>
              <td>
                <button type="button" aria-label={`${t.adminRevoke} ${c.name}`} onClick={() => setRevoking(c)}>
                  {t.adminRevoke}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewClient
        groups={groups.map((g) => g.name)}
        onCreated={(c) => {
          setCreated(c);
          reload();
        }}
      />
      {created && <SecretDialog created={created} onClose={() => setCreated(undefined)} />}
      {revoking && (
        <ConfirmDialog
          title={`${t.adminRevoke} ${revoking.name}`}
          message={fill(t.adminConfirmRevoke, { name: revoking.name })}
          confirmLabel={t.adminRevoke}
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            await client.deleteApiClient(revoking.clientId);
            setNotice({ kind: 'ok', text: fill(t.adminRevoked, { name: revoking.name }) });
            reload();
          }}
        />
      )}
    </AdminSection>
  );
}

function NewClient({ groups, onCreated }: { groups: string[]; onCreated: (c: CreatedApiClient) => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [name, setName] = useState('');
  const [member, setMember] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | undefined>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const c = await client.createApiClient({ name: name.trim(), groups: member });
      setName('');
      setMember([]);
      setProblem(undefined);
      onCreated(c);
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <form className="admin-form" aria-label={t.adminNewClient} onSubmit={(e) => void submit(e)}>
      <h3>{t.adminNewClient}</h3>
      <div className="filters">
        <label className="grow">
          {t.name}
          <input value={name} required maxLength={128} autoComplete="off" onChange={(e) => setName(e.target.value)} />
        </label>
      </div>
      <GroupPicker all={groups} value={member} onChange={setMember} />
      <ErrorLine text={problem} />
      <button type="submit" className="primary" disabled={name.trim() === ''}>
        {t.create}
      </button>
    </form>
  );
}

function SecretDialog({ created, onClose }: { created: CreatedApiClient; onClose: () => void }) {
  const { t } = useI18n();
  const secret = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.clientSecret);
      setCopied('yes');
    } catch {
      // No clipboard permission: leave the secret selected for a manual copy.
      secret.current?.select();
      setCopied('failed');
    }
  };
  return (
    <Modal title={fill(t.adminClientCreated, { name: created.name })} onClose={onClose}>
      <div className="secret">
        <p role="status">{t.secretOnce}</p>
        <label>
          {t.adminClientId}
          <input readOnly value={created.clientId} onFocus={(e) => e.target.select()} />
        </label>
        <label>
          {t.adminClientSecret}
          <input ref={secret} readOnly value={created.clientSecret} onFocus={(e) => e.target.select()} />
        </label>
      </div>
      {copied && <p className={copied === 'failed' ? 'error' : undefined}>{copied === 'yes' ? t.adminCopied : t.adminCopyFailed}</p>}
      <div className="buttons">
        <button type="button" onClick={() => void copy()}>
          {t.adminCopy}
        </button>
        <button type="button" className="primary" onClick={onClose}>
          {t.close}
        </button>
      </div>
    </Modal>
  );
}
