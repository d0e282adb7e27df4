import type { FastifyRequest } from 'fastify';
import { parseBasic } from '../../../../auth/basic-cache.js';
import { principalFromToken } from '../../../../auth/principal-from-token.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { Authenticator } from '../authenticate.js';

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms: the only peers for which plain-HTTP Basic is acceptable. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** True when the request reached us over TLS (fastify's own HTTPS server; no proxy is trusted). */
export function overTls(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * `Authorization: Basic …`: refused over plain HTTP except from loopback, where the password would otherwise
 * cross the network in clear text. Verification is cached (see Security.basic), so Basic costs one HMAC per
 * request, not one argon2.
 */
export const basicAuthenticator: Authenticator = async (request, runtime) => {
  const h = request.headers.authorization;
  if (!h || !/^Basic\s/i.test(h)) return undefined;
  if (!overTls(request) && !isLoopback(request.socket.remoteAddress)) {
    throw new TagwayError('UNAUTHENTICATED', 'HTTP Basic is refused over plain HTTP except from loopback; use HTTPS or a session token');
  }
  const creds = parseBasic(h);
  if (!creds) throw new TagwayError('UNAUTHENTICATED', 'Malformed Basic credentials');
  return runtime.security.basic(creds.username, creds.password, { clientAddress: request.ip });
};

/** `Authorization: Bearer <JWT>` from the client-credentials grant (session tokens never contain dots). */
export const jwtAuthenticator: Authenticator = async (request, runtime) => {
  const h = request.headers.authorization;
  if (!h || !/^Bearer\s/i.test(h)) return undefined;
  const token = h.slice(7).trim();
  if (!token.includes('.')) return undefined;
  return principalFromToken(runtime, token);
};

export const securityAuthenticators: Authenticator[] = [jwtAuthenticator, basicAuthenticator];
