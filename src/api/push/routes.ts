import websocket from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { TagwayError } from '../../domain/problems.js';
import { hubFor, type PushPrincipal, type PushRuntime } from './port.js';
import { handleSse, type SseOptions } from './sse.js';
import { handleSocket, type WsOptions } from './ws.js';

export interface PushRoutesOptions {
  runtime: PushRuntime;
  ws?: Partial<WsOptions>;
  sse?: Partial<SseOptions>;
  /** Largest client message in bytes; larger ones close the socket with 1009. Default 1 MiB. */
  maxMessageBytes?: number;
}

const SSE_QUERY = {
  type: 'object',
  properties: {
    tags: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Tag names or globs; repeat or comma-separate' },
    alarms: { type: 'boolean', description: 'Also stream alarm archive events' },
    deadband: { type: 'number', minimum: 0 },
    deadbandPercent: { type: 'number', minimum: 0, maximum: 100 },
    minIntervalMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    class: { type: 'string' },
    minPriority: { type: 'integer', minimum: 0, maximum: 16 },
    maxPriority: { type: 'integer', minimum: 0, maximum: 16 },
    tag: { type: 'string' },
    alarm: { type: 'string' },
    state: { type: 'string' },
    lastEventId: { type: 'string' },
  },
  additionalProperties: false,
} as const;

function principalOf(request: FastifyRequest): PushPrincipal {
  const p = (request as { principal?: PushPrincipal | undefined }).principal;
  if (!p) throw new TagwayError('UNAUTHENTICATED', 'Log in first: send Authorization: Bearer <token> or the session cookie');
  return p;
}

/**
 * Live push: `GET /ws` (WebSocket) and `GET /events` (Server-Sent Events), thin adapters over the runtime's
 * PushHub. The WebSocket route is public at the HTTP level because a client may authenticate with its first
 * message; the socket itself refuses everything until it has.
 */
export const pushRoutes: FastifyPluginAsync<PushRoutesOptions> = async (app, opts) => {
  const { runtime } = opts;
  const hub = hubFor(runtime);
  const wsOpts: WsOptions = { authTimeoutMs: 10_000, revalidateMs: 60_000, heartbeatMs: 30_000, ...opts.ws };
  const sseOpts: SseOptions = { keepAliveMs: 15_000, retryMs: 3_000, ...opts.sse };
  await app.register(websocket, { options: { maxPayload: opts.maxMessageBytes ?? 1024 * 1024 } });

  app.get('/ws', {
    websocket: true,
    config: { public: true },
  }, (socket, request) => handleSocket(socket, request, runtime, hub, wsOpts));

  app.get('/events', {
    schema: {
      summary: 'Stream tag values and alarm events (Server-Sent Events)',
      description: 'Events `value` (data: a value object) and `alarm` (data: an archive event, `id:` = eventId). '
        + 'Send Last-Event-ID to resume alarm events. A comment line every 15 s keeps proxies open.',
      tags: ['push'],
      querystring: SSE_QUERY,
    },
  }, async (request, reply) => {
    handleSse(request, reply, principalOf(request), hub, sseOpts);
  });
};
