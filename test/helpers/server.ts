import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as undiciRequest } from 'undici';
import { defaultConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { parseProject, loadProjectFile } from '../../src/project/load.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { registerBuiltIns } from '../../src/server/built-ins.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const FIXTURE_PROJECT = join(import.meta.dirname, '..', 'fixtures', 'project.yaml');
/** The fixture project's tag whose name holds a slash, a space and other characters that travel URL-encoded. */
export const SPECIAL_TAG = 'Line1/Filler Speed:rpm.[1]#a';

export interface Reply<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: T;
}

export interface RequestOptions {
  token?: string | undefined;
  body?: unknown;
  /** Sent as is (for malformed JSON tests). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  dataDir: string;
  ca: string;
  agent: Agent;
  server: RunningServer;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<Reply<T>>;
  login(username?: string, password?: string): Promise<string>;
  /** Stops and starts again on the same data dir (new port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** YAML text of the project, or a path to it; default: test/fixtures/project.yaml. */
  projectYaml?: string;
  projectFile?: string;
  config?: Partial<Config>;
  dataDir?: string;
  /** The server's clock (a ManualClock makes throttling and token expiry testable without waiting). */
  clock?: Clock | undefined;
  /**
   * Run on PostgreSQL instead of SQLite (same as `config.databaseUrl`): a database made by `startTestCluster()` /
   * `cluster.createDatabase()` of test/helpers/postgres.ts.
   */
  databaseUrl?: string | undefined;
}

/** A real Tagway over HTTPS on an ephemeral loopback port with a temporary data dir. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tagway-test-'));
  const ownsDir = opts.dataDir === undefined;
  const config: Config = {
    ...defaultConfig(),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: process.env.TAGWAY_TEST_LOG ?? 'silent',
    adminPassword: ADMIN_PASSWORD,
    ...opts.config,
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
  };
  registerBuiltIns(); // the project below is parsed before startServer would register the drivers
  const load = () =>
    opts.projectYaml !== undefined ? parseProject(opts.projectYaml, 'test.yaml') : loadProjectFile(opts.projectFile ?? FIXTURE_PROJECT);
  const projectFile = opts.projectYaml !== undefined ? undefined : (opts.projectFile ?? FIXTURE_PROJECT);
  const boot = () =>
    startServer(config, { project: load(), projectFile, logger: createLogger(config.logLevel), print: () => undefined, clock: opts.clock });
  let server = await boot();
  const ca = server.certificate ?? '';
  const agent = new Agent({ connect: { ca: ca || undefined }, pipelining: 0 });
  const t: TestServer = {
    url: server.url.replace('localhost', '127.0.0.1'),
    dataDir,
    ca,
    agent,
    server,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      let body: string | Buffer | undefined;
      if (o.rawBody !== undefined) body = o.rawBody;
      else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      const r = await undiciRequest(t.url + path, { method: method as 'GET', headers, body, dispatcher: agent });
      const text = await r.body.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: r.statusCode, headers: r.headers, text, json: json as any };
    },
    async login(username = 'admin', password = ADMIN_PASSWORD) {
      const r = await t.request('POST', '/auth/login', { body: { username, password } });
      if (r.status !== 200) throw new Error(`login as ${username} failed: ${r.status} ${r.text}`);
      return r.json.token as string;
    },
    async restart() {
      await server.stop();
      server = await boot();
      t.server = server;
      t.url = server.url.replace('localhost', '127.0.0.1');
    },
    async stop() {
      await server.stop();
      await agent.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
