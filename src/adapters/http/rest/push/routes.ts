import websocket from '@fastify/websocket';
import Type from 'typebox';
import { MAX_GLOB_LENGTH } from '../../../../domain/glob.js';
import { principalOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import type { PushService } from './service.js';
import { handleSse, type SseQuery } from './sse.js';
import { handleSocket } from './ws.js';

const SseQuerySchema = Type.Object(
  {
    tags: Type.Optional(
      // One parameter may hold a comma-separated list; each name or glob in it is limited to 1,024 characters.
      Type.Array(Type.String({ minLength: 1, maxLength: 10_000 }), {
        maxItems: 1_000,
        description: 'Tag names or globs (each at most 1,024 characters); repeat the parameter or comma-separate',
      }),
    ),
    alarms: Type.Optional(Type.Boolean({ description: 'Also stream alarm archive events (needs alarms:read)' })),
    deadband: Type.Optional(Type.Number({ minimum: 0, description: 'Absolute deadband in the tag unit' })),
    deadbandPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Deadband as % of the tag min–max range' })),
    minIntervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    class: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH })),
    minPriority: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
    maxPriority: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH, description: 'Alarm filter: tag name or glob' })),
    alarm: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH, description: 'Alarm filter: alarm name glob' })),
    state: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH })),
    lastEventId: Type.Optional(
      Type.String({ maxLength: 20, description: 'Same as the Last-Event-ID header, for clients that cannot set it' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Live push: `GET /ws` (WebSocket) and `GET /events` (Server-Sent Events), thin adapters over the runtime's
 * PushHub. The WebSocket route is public at the HTTP level because a client may authenticate with its first
 * message; the socket itself refuses everything until it has.
 */
export const pushRoutes =
  (service: PushService): ApiPlugin =>
  async (app, { runtime, services }) => {
    await app.register(websocket, { options: { maxPayload: service.ws.maxMessageBytes } });

    app.get(
      '/ws',
      {
        websocket: true,
        config: { public: true },
        // OpenAPI cannot describe a WebSocket; docs/push.md does.
        schema: { hide: true },
      },
      (socket, request) => handleSocket(socket, request, runtime, services.tags, service.hub, service.ws),
    );

    app.get(
      '/events',
      {
        schema: {
          summary: 'Stream tag values and alarm events (Server-Sent Events)',
          description:
            'Events `value` (data: a value object) and `alarm` (data: an archive event, `id:` = eventId). ' +
            'Send Last-Event-ID to resume alarm events. A comment line every 15 s keeps proxies open.',
          tags: ['push'],
          querystring: SseQuerySchema,
          response: problems(400, 401, 403, 404, 503),
        },
      },
      async (request, reply) => {
        handleSse(request, reply, runtime, principalOf(request), service.hub, service.sse, request.query as SseQuery);
      },
    );
  };
