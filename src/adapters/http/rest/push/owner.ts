import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../../../auth/principal.js';
import type { ChannelOwner } from '../../../../runtime/push/types.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import { sessionCookie } from '../authenticate.js';

/** The session token or JWT behind a request's credentials (Bearer header or session cookie), for re-checks. */
export function credentialToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (h && /^Bearer\s/i.test(h)) return h.slice(7).trim();
  return sessionCookie(request);
}

/** A session token, or a JWT from /auth/token (three dot-separated parts; session tokens have no dots). */
export async function principalOfToken(runtime: Runtime, token: string): Promise<Principal | undefined> {
  if (!token.includes('.')) return runtime.sessions.authenticate(token);
  try {
    return await runtime.security.jwtPrincipal(token);
  } catch {
    return undefined;
  }
}

/**
 * The owner of a live channel opened with `p`: how revocation re-resolves it from the same credentials.
 * Session and JWT channels check their token again; Basic channels (no token kept) check that the user still
 * exists, is enabled and has the password it authenticated with.
 */
export function channelOwner(
  runtime: Runtime,
  p: Principal,
  token: string | undefined,
  hooks: Pick<ChannelOwner<Principal>, 'revoked' | 'rescoped'> = {},
): ChannelOwner<Principal> {
  const passwordHash = p.authMethod === 'basic' ? runtime.users.get(p.username)?.passwordHash : undefined;
  const recheck = (): Principal | undefined | Promise<Principal | undefined> => {
    switch (p.authMethod) {
      case 'session':
      case 'jwt':
        return token === undefined ? undefined : principalOfToken(runtime, token);
      case 'basic': {
        const u = runtime.users.get(p.username);
        if (!u || u.disabled || passwordHash === undefined || u.passwordHash !== passwordHash) return undefined;
        return runtime.security.principalOf(u, 'basic');
      }
      default:
        // No credentials to lose (authentication switched off): the principal stands.
        return p;
    }
  };
  return { principal: p, recheck, ...hooks };
}
