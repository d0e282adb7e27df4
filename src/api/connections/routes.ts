import Type from 'typebox';
import { requirePermission } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

const ConnectionStatus = Type.Object({
  name: Type.String(),
  driver: Type.String(),
  description: Type.Optional(Type.String()),
  state: Type.Enum(['CONNECTING', 'CONNECTED', 'DISCONNECTED', 'ERROR']),
  since: Type.String({ format: 'date-time' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  tagCount: Type.Integer(),
  stats: Type.Object({ reads: Type.Integer(), writes: Type.Integer(), errors: Type.Integer(), rttMs: Type.Optional(Type.Number()) }),
});

export const connectionRoutes: ApiPlugin = async (app, { runtime }) => {
  app.get('/connections', {
    schema: { summary: 'Connections and their state', tags: ['connections'], response: { 200: Type.Object({ items: Type.Array(ConnectionStatus) }), ...problems(401, 403) } },
  }, async (request) => {
    requirePermission(request, 'tags:read');
    return { items: runtime.connections.list() };
  });

  app.get('/connections/:name', {
    schema: {
      summary: 'One connection', tags: ['connections'], params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: ConnectionStatus, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    requirePermission(request, 'tags:read');
    return runtime.connections.get((request.params as { name: string }).name);
  });
};
