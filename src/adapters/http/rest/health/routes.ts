import Type from 'typebox';
import type { ApiPlugin } from '../plugin.js';

export const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  tags: Type.Integer(),
  connections: Type.Object({ total: Type.Integer(), connected: Type.Integer() }),
  storage: Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), reason: Type.Optional(Type.String()) })),
    disk: Type.Optional(
      Type.Object(
        { freeBytes: Type.Number(), totalBytes: Type.Number() },
        { description: "Free space (for this process's user) and size of the data directory's file system" },
      ),
    ),
  }),
});

const VERSION = process.env.npm_package_version ?? '0.1.0';

/**
 * Public liveness and a coarse readiness view: `degraded` when any connection is not CONNECTED or any storage
 * check fails (a full disk, a database at its size limit, a recent failed write), with the failing checks' reasons.
 */
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
      const checks = await runtime.storageHealth.states();
      const storageOk = checks.every((c) => c.ok);
      const disk = runtime.storageHealth.diskSpace();
      return {
        status: connected === conns.length && storageOk ? 'ok' : 'degraded',
        version: VERSION,
        uptimeSeconds: Math.round((runtime.clock.now() - runtime.startedAt) / 1000),
        tags: runtime.tags.size,
        connections: { total: conns.length, connected },
        storage: { status: storageOk ? 'ok' : 'degraded', checks, ...(disk ? { disk } : {}) },
      };
    },
  );
};
