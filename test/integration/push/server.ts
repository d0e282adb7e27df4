import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import selfsigned from 'selfsigned';
import { Agent } from 'undici';
import { pushRoutes } from '../../../src/api/push/routes.js';
import type { PushPrincipal, PushRuntime } from '../../../src/api/push/port.js';
import { PermissionSet, type Grant } from '../../../src/domain/permissions.js';
import { TagwayError, PROBLEMS } from '../../../src/domain/problems.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { PushHub } from '../../../src/runtime/push/hub.js';
import type { PushHubOptions } from '../../../src/runtime/push/types.js';
import type { TagDefinition } from '../../../src/runtime/tag-definition.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import { MemoryAlarmSource } from '../../helpers/push.js';

/**
 * A real HTTPS server (self-signed certificate for 127.0.0.1) with the push routes over a real tag engine.
 * Stand-in for the project's app builder and session service until they are merged: tokens map to principals,
 * checked by the same Bearer/cookie rules.
 */
export interface PushServer {
  url: string;
  wsUrl: string;
  ca: string;
  agent: Agent;
  engine: TagEngine;
  hub: PushHub;
  alarms: MemoryAlarmSource;
  tokens: Map<string, PushPrincipal>;
  app: FastifyInstance;
  close(): Promise<void>;
}

export function principal(username: string, ...grants: Grant[]): PushPrincipal {
  return { username, displayName: username, groups: [], permissions: new PermissionSet(grants), authMethod: 'session' };
}

export async function startPushServer(defs: TagDefinition[], hubOptions: PushHubOptions = {}, wsOpts: { authTimeoutMs?: number; keepAliveMs?: number } = {}): Promise<PushServer> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  } as Parameters<typeof selfsigned.generate>[1]);
  const engine = new TagEngine(defs, systemClock);
  // Writes go to a driver that accepts everything, as the internal driver does for internal tags.
  engine.bindDriver('sim', { start: async () => {}, stop: async () => {}, write: async () => {} });
  const alarms = new MemoryAlarmSource();
  const hub = new PushHub(engine, { alarms, ...hubOptions });
  const tokens = new Map<string, PushPrincipal>();
  const runtime: PushRuntime = { tags: engine, clock: systemClock, push: hub, alarms, sessions: { authenticate: (t) => tokens.get(t) } };
  const app = Fastify({ https: { key: pems.private, cert: pems.cert } });
  await app.register(cookie);
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const h = request.headers.authorization;
    const token = h?.startsWith('Bearer ') ? h.slice(7) : request.cookies.tagway_session;
    const p = token === undefined ? undefined : tokens.get(token);
    if (!p) throw new TagwayError('UNAUTHENTICATED', 'Log in first');
    (request as unknown as { principal: PushPrincipal }).principal = p;
  });
  app.setErrorHandler((err, _request, reply) => {
    const te = err instanceof TagwayError ? err : (err as { validation?: unknown }).validation ? new TagwayError('VALIDATION_FAILED', (err as Error).message) : new TagwayError('INTERNAL_ERROR', 'unexpected');
    return reply.status(PROBLEMS[te.code].status).type('application/problem+json').send({ code: te.code, detail: te.message, status: te.status });
  });
  await app.register(pushRoutes, { runtime, ws: { authTimeoutMs: wsOpts.authTimeoutMs ?? 10_000 }, sse: { keepAliveMs: wsOpts.keepAliveMs ?? 15_000 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const agent = new Agent({ connect: { ca: pems.cert } });
  return {
    url: `https://127.0.0.1:${port}`, wsUrl: `wss://127.0.0.1:${port}/ws`, ca: pems.cert, agent, engine, hub, alarms, tokens, app,
    async close() { hub.close(); await app.close(); await agent.close(); },
  };
}
