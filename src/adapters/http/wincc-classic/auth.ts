import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../../services/actor.js';
import { actorOf } from '../shared/actor.js';

/**
 * Authentication is the app's, attached to every route of this profile like any other (src/adapters/http/rest/
 * app.ts): HTTP Basic with the login throttle and lockout, refused over plain HTTP off loopback; Bearer session
 * tokens and JWTs. This profile only names its front end in the actor and asks for Basic on a 401, as WinCC does.
 */
export function actor(request: FastifyRequest): Actor {
  return actorOf(request, 'wincc-classic');
}

export function challenge(reply: FastifyReply): void {
  reply.header('www-authenticate', 'Basic realm="WinCCRestService", charset="UTF-8"');
}
