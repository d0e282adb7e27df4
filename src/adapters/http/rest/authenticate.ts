import { fastifyCookie } from '@fastify/cookie';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../../auth/principal.js';
import { principalFromToken } from '../../../auth/principal-from-token.js';
import { TagwayError } from '../../../domain/problems.js';
import type { Runtime } from '../../../runtime/runtime.js';

export const SESSION_COOKIE = 'tagway_session';

/**
 * One way of proving identity. Each returns the principal, undefined when the request does not use it, or
 * throws TagwayError when it uses it wrongly. The chain is open so that Basic, JWT and others can be added.
 */
export type Authenticator = (request: FastifyRequest, runtime: Runtime) => Principal | undefined | Promise<Principal | undefined>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const bearerSession: Authenticator = (request, runtime) => {
  const h = request.headers.authorization;
  if (!h || !/^Bearer\s/i.test(h)) return undefined;
  const token = h.slice(7).trim();
  // JWTs (three dot-separated parts) are for the JWT authenticator; session tokens have no dots.
  if (token.includes('.')) return undefined;
  return principalFromToken(runtime, token);
};

/**
 * The session cookie of a request, parsed only when a Cookie header is there (no per-request parsing hook: most API
 * clients send no cookies). The cookie plugin's parser; the plugin itself is registered by the auth routes, which
 * every app has, before the first request.
 */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  return fastifyCookie.parse(header)[SESSION_COOKIE];
}

export const cookieSession: Authenticator = (request, runtime) => {
  const token = sessionCookie(request);
  if (!token) return undefined;
  const p = runtime.sessions.authenticate(token);
  if (!p) throw new TagwayError('UNAUTHENTICATED', 'The session cookie is unknown, expired or revoked; log in again');
  // A cookie is sent by the browser on its own, so a state-changing request must also prove it came from our page.
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !p.csrfToken || !sameSecret(sent, p.csrfToken)) {
      throw new TagwayError(
        'CSRF_FAILED',
        'A request authenticated by the session cookie needs the header X-CSRF-Token with the csrfToken from login',
      );
    }
  }
  return p;
};

export const defaultAuthenticators: Authenticator[] = [bearerSession, cookieSession];

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** The route needs no authentication (health, docs, login). */
    public?: boolean;
    /** The route writes its 200 answer itself, security headers included (see direct-answer.ts). */
    directAnswer?: boolean;
  }
}

// Shared with the other HTTP front ends (the WinCC OA profile).
export { actorOf, principalOf } from '../shared/actor.js';
