import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.js';
import { parseProject } from '../../src/project/load.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { registerBuiltIns } from '../../src/server/built-ins.js';
import { ensureTls } from '../../src/server/tls.js';

export const BENCH_PASSWORD = 'bench-admin-password';

/** A project with `n` internal Float64 tags named Bench.T0 … and a few of every type. */
export function benchProjectYaml(n: number, extra: (i: number) => string = () => ''): string {
  const lines = [
    'name: Bench',
    'connections:',
    '  - { name: internal, driver: internal }',
    '  - { name: sim, driver: simulator }',
    'tags:',
  ];
  for (let i = 0; i < n; i++) lines.push(`  - { name: Bench.T${i}, type: Float64, connection: internal, initial: ${i}${extra(i)} }`);
  return lines.join('\n') + '\n';
}

export interface BenchServer {
  tagway: RunningServer;
  url: string;
  token: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** `tagExtra(i)` adds YAML to tag i's flow mapping (e.g. `, history: {…}`). */
export async function startBenchTagway(
  n = 10_000,
  overrides: Partial<Config> = {},
  tagExtra?: (i: number) => string,
): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagway-bench-'));
  const config: Config = {
    ...defaultConfig(),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'warn',
    adminPassword: BENCH_PASSWORD,
    sqliteSynchronous: 'FULL',
    ...overrides,
  };
  registerBuiltIns();
  const tagway = await startServer(config, {
    project: parseProject(benchProjectYaml(n, tagExtra)),
    print: () => undefined,
    logger: createLogger('warn'),
  });
  const url = tagway.url.replace('localhost', '127.0.0.1');
  const res = await fetchJson(url + '/auth/login', 'POST', { username: 'admin', password: BENCH_PASSWORD }, tagway.certificate);
  return {
    tagway,
    url,
    token: (res as { token: string }).token,
    dataDir,
    stop: async () => {
      await tagway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The baseline: a bare fastify server over the same TLS certificate, with routes the benchmark adds. */
export async function startBaseline(
  dataDir: string,
  setup: (app: FastifyInstance) => void,
  opts: { http?: boolean } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const app = opts.http
    ? Fastify({ bodyLimit: 10 * 1024 * 1024 })
    : await ensureTls(dataDir).then((tls) => Fastify({ https: { cert: tls.cert, key: tls.key }, bodyLimit: 10 * 1024 * 1024 }));
  setup(app as FastifyInstance);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  return { url: `${opts.http ? 'http' : 'https'}://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, close: () => app.close() };
}

import { Agent, request } from 'undici';
export async function fetchJson(url: string, method: string, body: unknown, ca: string | undefined, token?: string): Promise<unknown> {
  const agent = new Agent({ connect: { rejectUnauthorized: false, ca } });
  const r = await request(url, {
    method: method as 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const t = await r.body.text();
  await agent.close();
  return t ? JSON.parse(t) : undefined;
}
