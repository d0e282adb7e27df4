import type { Group } from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';
import { useAuth } from '../auth.js';
import { useI18n } from '../i18n.js';
import { Audit } from './admin/audit.js';
import { Clients } from './admin/clients.js';
import { Groups } from './admin/groups.js';
import { Users } from './admin/users.js';
import { useList } from './admin/use-list.js';

/** Administration: each section only with its permission (the server checks every call again). */
export function AdminPage() {
  const { t } = useI18n();
  const { rights } = useAuth();
  return (
    <section>
      <h1>{t.administration}</h1>
      {rights.can('users:admin') && <UserAdmin />}
      {rights.can('audit:read') && <Audit />}
    </section>
  );
}

/** Users, groups and API clients share the list of groups (a new group is at once pickable for a user or client). */
function UserAdmin() {
  const { client } = useTagway();
  const groups = useList<Group>(client.groups);
  return (
    <>
      <Users groups={groups.items} />
      <Groups groups={groups.items} error={groups.error} reload={groups.reload} />
      <Clients groups={groups.items} />
    </>
  );
}
