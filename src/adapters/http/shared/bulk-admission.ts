import type { FastifyRequest, preParsingHookHandler } from 'fastify';
import type { Actor } from '../../../services/actor.js';
import type { TagService } from '../../../services/tag-service.js';

/**
 * A preParsing hook by which a bulk tag request holds one of its principal's bulk slots (TagService.admitBulk)
 * from before its body is read (so that a refused one costs no parsing) until its answer has left or its
 * connection closed. `applies` picks the requests it concerns when one route serves several (default: all).
 */
export function bulkAdmission(
  tags: Pick<TagService, 'admitBulk'>,
  actor: (request: FastifyRequest) => Actor,
  applies: (request: FastifyRequest) => boolean = () => true,
): preParsingHookHandler {
  return (request, reply, payload, done) => {
    if (!applies(request)) {
      done(null, payload);
      return;
    }
    let release: () => void;
    try {
      const length = request.headers['content-length'];
      release = tags.admitBulk(actor(request), length === undefined ? undefined : Number(length));
    } catch (err) {
      done(err as Error);
      return;
    }
    reply.raw.once('close', release);
    done(null, payload);
  };
}
