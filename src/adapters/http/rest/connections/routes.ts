import Type from 'typebox';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

export const ConnectionStatus = Type.Object({
  name: Type.String(),
  driver: Type.String(),
  description: Type.Optional(Type.String()),
  state: Type.Enum(['CONNECTING', 'CONNECTED', 'DISCONNECTED', 'ERROR']),
  since: Type.String({ format: 'date-time' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  reconnects: Type.Integer({
    minimum: 0,
    description: 'Times the connection was established again after it had been lost, since the server started',
  }),
  lastConnected: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the connection was last established; null while it never was',
  }),
  tagCount: Type.Integer(),
  stats: Type.Object({ reads: Type.Integer(), writes: Type.Integer(), errors: Type.Integer(), rttMs: Type.Optional(Type.Number()) }),
  owner: Type.Optional(Type.String({ description: 'In a cluster: the node that runs the connection (absent while none holds its lease)' })),
});

export const ReloadReply = Type.Object({
  changed: Type.Array(Type.String()),
  added: Type.Array(Type.String()),
  removed: Type.Array(Type.String()),
  unchanged: Type.Array(Type.String()),
});

export const BrowseReply = Type.Object({
  items: Type.Array(
    Type.Object({
      nodeId: Type.String(),
      browseName: Type.String(),
      displayName: Type.String(),
      nodeClass: Type.String(),
      dataType: Type.Optional(Type.String()),
    }),
  ),
});

export const connectionRoutes: ApiPlugin = async (app, { services }) => {
  const service = services.connections;
  app.get(
    '/connections',
    {
      schema: {
        summary: 'Connections and their state',
        description:
          "A caller whose 'tags:read' is scoped sees only the connections that supply tags it may read, with the count of those tags.",
        tags: ['connections'],
        response: { 200: Type.Object({ items: Type.Array(ConnectionStatus) }), ...problems(401, 403) },
      },
    },
    async (request) => ({ items: service.list(actorOf(request)) }),
  );

  app.get(
    '/connections/:name',
    {
      schema: {
        summary: 'One connection',
        tags: ['connections'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: ConnectionStatus, ...problems(401, 403, 404) },
      },
    },
    async (request) => service.get(actorOf(request), (request.params as { name: string }).name),
  );

  app.post(
    '/connections/reload',
    {
      schema: {
        summary: 'Reload connection configuration from the project file',
        description:
          'Re-reads the project file and applies changed connections (options, driver, tag addresses) without a restart. ' +
          'Connections whose definition is unchanged are not touched. Changes that need a restart (tags added or removed, alarms, users…) ' +
          'are refused with 409 and the list of them; nothing is changed then.',
        tags: ['connections'],
        response: {
          200: ReloadReply,
          ...problems(400, 401, 403, 409),
        },
      },
    },
    async (request) => service.reload(actorOf(request)),
  );

  app.get(
    '/connections/:name/browse',
    {
      schema: {
        summary: 'Browse a device address space (OPC UA)',
        description:
          'Children of a node (default: the Objects folder) on a running OPC UA connection, to help configure tags. Variables carry their data type. ' +
          "Needs 'tags:read' for all tags (a device's address space goes beyond any tag scope).",
        tags: ['connections'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object(
          { nodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'NodeId to browse, e.g. ns=2;s=Line1' })) },
          { additionalProperties: false },
        ),
        response: {
          200: BrowseReply,
          ...problems(400, 401, 403, 404, 503, 504),
        },
      },
    },
    async (request) => ({
      items: await service.browse(
        actorOf(request),
        (request.params as { name: string }).name,
        (request.query as { nodeId?: string }).nodeId,
      ),
    }),
  );
};
