import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent, request as undiciRequest } from 'undici';
import { defaultConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/runtime/clock.js';
import { startServer, type RunningServer } from '../../src/server/start.js';

/** A real Tagway server on 127.0.0.1 (HTTPS with its generated certificate, trusted by the returned client). */
export interface TestServer {
  server: RunningServer;
  dataDir: string;
  call(method: string, path: string, opts?: { headers?: Record<string, string>; body?: unknown; form?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any; text: string }>;
  close(): Promise<void>;
}

export const ADMIN_PASSWORD = 'Admin-Pass-For-Tests-1';

export async function startTestServer(opts: { clock?: Clock; config?: (c: Config) => void } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagway-sec-'));
  const config = defaultConfig();
  config.port = 0;
  config.host = '127.0.0.1';
  config.dataDir = dataDir;
  config.adminPassword = ADMIN_PASSWORD;
  config.logLevel = 'silent';
  opts.config?.(config);
  const server = await startServer(config, { clock: opts.clock, print: () => {}, logger: pino({ level: 'silent' }) });
  const agent = new Agent({ connect: { ca: server.certificate }, keepAliveTimeout: 1000 });
  const base = server.url.replace('localhost', '127.0.0.1');
  return {
    server, dataDir,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      let body: string | undefined;
      if (o.form) { body = new URLSearchParams(o.form).toString(); headers['content-type'] = 'application/x-www-form-urlencoded'; }
      else if (o.body !== undefined) { body = JSON.stringify(o.body); headers['content-type'] = 'application/json'; }
      const r = await undiciRequest(base + path, { method: method as 'GET', headers, body, dispatcher: config.http ? undefined : agent });
      const text = await r.body.text();
      let parsed: unknown = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: r.statusCode, headers: r.headers as Record<string, string | string[] | undefined>, body: parsed, text };
    },
    async close() {
      await server.stop();
      await agent.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const basicHeader = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
