import Type from 'typebox';
import type { ApiPlugin } from '../plugin.js';

const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  tags: Type.Integer(),
  connections: Type.Object({ total: Type.Integer(), connected: Type.Integer() }),
});

const VERSION = process.env.npm_package_version ?? '0.1.0';

/** Public liveness and a coarse readiness view: `degraded` when any connection is not CONNECTED. */
export const healthRoutes: ApiPlugin = async (app, { runtime }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: { summary: 'Health', tags: ['health'], security: [], response: { 200: HealthReply } },
    },
    async () => {
      const conns = runtime.connections.list();
      const connected = conns.filter((c) => c.state === 'CONNECTED').length;
      return {
        status: connected === conns.length ? 'ok' : 'degraded',
        version: VERSION,
        uptimeSeconds: Math.round((runtime.clock.now() - runtime.startedAt) / 1000),
        tags: runtime.tags.size,
        connections: { total: conns.length, connected },
      };
    },
  );
};
