import { defaultConfig, type Config } from '../../src/config.js';
import { DEMO_PROJECT_FILE } from '../../src/project/load.js';
import type { Clock } from '../../src/domain/clock.js';
import type { RunningServer } from '../../src/main.js';
import { ADMIN_PASSWORD, startTestServer as startShared } from './server.js';

/**
 * The security suites' view of the shared test server (helpers/server.ts): the demo plant's tags and groups,
 * a settings callback, OAuth-style form bodies, and replies whose `body` is the parsed JSON (or the text).
 */
export { ADMIN_PASSWORD };

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  call(
    method: string,
    path: string,
    opts?: { headers?: Record<string, string>; body?: unknown; form?: Record<string, string> },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any; text: string }>;
  close(): Promise<void>;
}

export async function startTestServer(opts: { clock?: Clock; config?: (c: Config) => void } = {}): Promise<TestServer> {
  const config = defaultConfig();
  opts.config?.(config);
  const t = await startShared({ projectFile: DEMO_PROJECT_FILE, clock: opts.clock, config: { security: config.security } });
  return {
    server: t.server,
    dataDir: t.dataDir,
    async call(method, path, o = {}) {
      const headers = { ...o.headers };
      let rawBody: string | undefined;
      if (o.form) {
        rawBody = new URLSearchParams(o.form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      const r = await t.request(method, path, { headers, body: o.form ? undefined : o.body, rawBody });
      return { status: r.status, headers: r.headers, body: r.json ?? r.text, text: r.text };
    },
    close: () => t.stop(),
  };
}

export const basicHeader = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
