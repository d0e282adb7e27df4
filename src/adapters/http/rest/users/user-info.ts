import Type from 'typebox';
import type { Principal } from '../../../../auth/principal.js';

export const CurrentUser = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  groups: Type.Array(Type.String()),
  permissions: Type.Array(Type.String()),
  authMethod: Type.Union([Type.Literal('session'), Type.Literal('basic'), Type.Literal('jwt'), Type.Literal('none')]),
  sessionExpiresAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export function currentUser(p: Principal): Record<string, unknown> {
  return {
    username: p.username,
    displayName: p.displayName,
    groups: [...p.groups],
    permissions: p.permissions.names(),
    authMethod: p.authMethod,
    ...(p.sessionExpiresAt !== undefined ? { sessionExpiresAt: new Date(p.sessionExpiresAt).toISOString() } : {}),
  };
}
