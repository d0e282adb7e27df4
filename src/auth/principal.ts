import type { PermissionSet } from '../domain/permissions.js';

export type AuthMethod = 'session' | 'basic' | 'jwt' | 'none';

/** Who is making a request, resolved once per request by the authentication hook. */
export interface Principal {
  username: string;
  displayName: string;
  groups: readonly string[];
  permissions: PermissionSet;
  authMethod: AuthMethod;
  /** For session principals: when the session ends if left idle (never past its absolute lifetime). */
  sessionExpiresAt?: number | undefined;
  /** For session principals: the hash that identifies the session (for logout/refresh). */
  sessionId?: string | undefined;
  csrfToken?: string | undefined;
}
