import Type from 'typebox';
import type { Principal } from '../../../../auth/principal.js';
import { TAG_SCOPED_PERMISSIONS, type PermissionSet } from '../../../../domain/permissions.js';

const Grant = Type.Object({
  permission: Type.String(),
  tags: Type.Optional(Type.String({ description: 'Tag-name glob the permission is limited to; absent = all tags' })),
});

export const CurrentUser = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  groups: Type.Array(Type.String()),
  permissions: Type.Array(Type.String(), { description: 'The permission names held (for some tags at least); scopes in `grants`' }),
  grants: Type.Array(Grant, {
    description: 'Each permission with its tag scope, e.g. {"permission":"tags:read","tags":"Line1.*"}; no `tags` = all tags',
  }),
  authMethod: Type.Union([Type.Literal('session'), Type.Literal('basic'), Type.Literal('jwt'), Type.Literal('none')]),
  sessionExpiresAt: Type.Optional(Type.String({ format: 'date-time' })),
});

/** The grants of a principal, one per permission and scope, without those an unscoped grant covers. */
export function grantsOf(permissions: PermissionSet): Array<{ permission: string; tags?: string }> {
  const out: Array<{ permission: string; tags?: string }> = [];
  for (const p of permissions.names()) {
    if (permissions.unscoped(p)) {
      out.push({ permission: p });
      continue;
    }
    if (!TAG_SCOPED_PERMISSIONS.has(p)) continue;
    const seen = new Set<string>();
    for (const g of permissions.grants)
      if (g.permission === p && g.tags !== undefined && !seen.has(g.tags)) {
        seen.add(g.tags);
        out.push({ permission: p, tags: g.tags });
      }
  }
  return out;
}

export function currentUser(p: Principal): Record<string, unknown> {
  return {
    username: p.username,
    displayName: p.displayName,
    groups: [...p.groups],
    permissions: p.permissions.names(),
    grants: grantsOf(p.permissions),
    authMethod: p.authMethod,
    ...(p.sessionExpiresAt !== undefined ? { sessionExpiresAt: new Date(p.sessionExpiresAt).toISOString() } : {}),
  };
}
