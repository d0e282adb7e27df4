import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../../auth/principal.js';
import { TagwayError } from '../../../domain/problems.js';
import type { Actor, Via } from '../../../services/actor.js';

/** The authenticated principal of a request (set by the app's authentication hook), or UNAUTHENTICATED. */
export function principalOf(request: FastifyRequest): Principal {
  const p = (request as FastifyRequest & { principal?: Principal | undefined }).principal;
  if (!p) throw new TagwayError('UNAUTHENTICATED', 'Log in first: send Authorization: Bearer <token> or the session cookie');
  return p;
}

/** The service-layer actor of an authenticated request (UNAUTHENTICATED without a principal). */
export function actorOf(request: FastifyRequest, via: Via = 'rest'): Actor {
  return { principal: principalOf(request), clientAddress: request.ip, requestId: request.id, via };
}
