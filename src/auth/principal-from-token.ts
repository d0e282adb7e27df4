import { TagwayError } from '../domain/problems.js';
import { JwtService } from './jwt.js';
import type { Principal } from './principal.js';

/** What resolving a bearer token needs: the session cache and the JWT verifier (the runtime has both). */
export interface TokenResolvers {
  sessions: { authenticate(token: string): Principal | undefined };
  security: { jwtPrincipal(token: string): Promise<Principal> };
}

/**
 * The principal of a bearer token, for every transport (REST `Authorization: Bearer`, WebSocket `auth` messages,
 * later GraphQL): an opaque session token (no dots) or a JWT from POST /auth/token (three dot-separated parts).
 * Session tokens resolve synchronously (one hash, one Map lookup: the request hot path stays off the await);
 * JWTs return a promise. Throws TagwayError UNAUTHENTICATED for an unknown, expired or revoked token.
 */
export function principalFromToken(r: TokenResolvers, token: string): Principal | Promise<Principal> {
  if (!token.includes('.')) {
    const p = r.sessions.authenticate(token);
    if (!p) throw new TagwayError('UNAUTHENTICATED', 'The session token is unknown, expired or revoked; log in again');
    return p;
  }
  if (!JwtService.looksLikeJwt(token)) throw new TagwayError('UNAUTHENTICATED', 'The access token is malformed');
  return r.security.jwtPrincipal(token);
}
