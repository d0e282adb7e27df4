/**
 * GET one tag value over HTTPS, authenticated by session token, JWT and HTTP Basic, each as a ratio to the same
 * request with authentication off, all in one run (targets: session and JWT >= 0.9, Basic >= 0.8).
 *
 * The server runs in a child process (so the load generator does not share its event loop) with two listeners
 * on one runtime: the normal app, and one whose only authenticator returns a full-permission principal
 * ("auth off"). Modes are measured in interleaved rounds, so drift of the machine hits them all alike.
 *
 * Each ratio is the median of per-round ratios (the four modes of one round run back to back), which is robust
 * against other load on a shared machine; the req/s figures are means.
 *
 *   npx tsx bench/auth.bench.ts [--seconds 2] [--rounds 6] [--connections 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { load } from './lib/load.js';
import { report, type Figure } from './lib/report.js';

const TAG = 'Tank1.Level';
const PASSWORD = 'Bench-Admin-Pass-1';

interface Endpoints {
  port: number;
  offPort: number;
  session: string;
  jwt: string;
}

async function serve(dataDir: string): Promise<void> {
  const pino = (await import('pino')).default;
  const { defaultConfig } = await import('../src/config.js');
  const { loadProjectFile, DEMO_PROJECT_FILE } = await import('../src/project/load.js');
  const { ensureTls } = await import('../src/server/tls.js');
  const { Runtime } = await import('../src/runtime/runtime.js');
  const { compose } = await import('../src/main.js');
  const { openSqliteStorage } = await import('../src/storage/sqlite/open-sqlite.js');
  const { buildApp } = await import('../src/adapters/http/rest/app.js');
  const { PermissionSet, PERMISSIONS } = await import('../src/domain/permissions.js');
  (await import('../src/server/built-ins.js')).registerBuiltIns();
  const config = defaultConfig();
  Object.assign(config, { port: 0, host: '127.0.0.1', dataDir, adminPassword: PASSWORD, logLevel: 'silent', sqliteSynchronous: 'NORMAL' });
  const logger = pino({ level: 'silent' });
  const tls = await ensureTls(dataDir);
  const storage = openSqliteStorage({ dataDir, sqliteSynchronous: 'NORMAL' });
  const runtime = new Runtime({ config, project: loadProjectFile(DEMO_PROJECT_FILE), logger, print: () => {}, storage });
  const ext = await compose(runtime);
  await runtime.start();
  const app = await buildApp(runtime, { https: tls, authenticators: ext.authenticators, plugins: ext.plugins, services: ext.services });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const everything = new PermissionSet(PERMISSIONS.map((permission) => ({ permission })));
  const anonymous = { username: 'anonymous', displayName: 'Anonymous', groups: [], permissions: everything, authMethod: 'none' as const };
  const off = await buildApp(runtime, { https: tls, authenticators: [() => anonymous], plugins: ext.plugins, services: ext.services });
  await off.listen({ port: 0, host: '127.0.0.1' });
  const session = runtime.sessions.create('admin', '127.0.0.1').token;
  const { client } = await runtime.security.clients.create({ name: 'bench', groups: ['admins'] });
  const jwt = (await runtime.security.jwt.issue({ clientId: client.clientId, groups: client.groups })).token;
  const port = (app.server.address() as { port: number }).port;
  const offPort = (off.server.address() as { port: number }).port;
  process.stdout.write(JSON.stringify({ port, offPort, session, jwt } satisfies Endpoints) + '\n');
}

async function measure(
  port: number,
  headers: Record<string, string>,
  seconds: number,
  connections: number,
): Promise<{ rps: number; errors: number }> {
  const r = await load({ url: `https://127.0.0.1:${port}/tags/${encodeURIComponent(TAG)}/value`, headers, connections, duration: seconds });
  return { rps: r.rps, errors: r.errors + r.non2xx };
}

async function main(): Promise<void> {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const seconds = arg('--seconds', 2);
  const rounds = arg('--rounds', 6);
  const connections = arg('--connections', 10);
  const dataDir = mkdtempSync(join(tmpdir(), 'tagway-bench-auth-'));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (c) => reject(new Error(`bench server exited with ${c}`)));
      createInterface({ input: child.stdout! }).once('line', resolve);
    });
    const ep = JSON.parse(line) as Endpoints;
    const modes: Array<{ name: string; port: number; headers: Record<string, string> }> = [
      { name: 'off', port: ep.offPort, headers: {} },
      { name: 'session', port: ep.port, headers: { authorization: `Bearer ${ep.session}` } },
      { name: 'jwt', port: ep.port, headers: { authorization: `Bearer ${ep.jwt}` } },
      { name: 'basic', port: ep.port, headers: { authorization: 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64') } },
    ];
    for (const m of modes) await measure(m.port, m.headers, 1, connections); // warm-up: JIT, TLS session caches, Basic cache
    const sums = new Map<string, number[]>(modes.map((m) => [m.name, []]));
    let errors = 0;
    for (let r = 0; r < rounds; r++) {
      for (const m of r % 2 === 0 ? modes : [...modes].reverse()) {
        const x = await measure(m.port, m.headers, seconds, connections);
        sums.get(m.name)!.push(x.rps);
        errors += x.errors;
      }
    }
    const mean = (n: string) => {
      const a = sums.get(n)!;
      return a.reduce((s, v) => s + v, 0) / a.length;
    };
    const median = (a: number[]) => {
      const s = [...a].sort((x, y) => x - y);
      const m = s.length >> 1;
      return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    };
    const offs = sums.get('off')!;
    const figures: Figure[] = [{ name: 'GET value, auth off', value: mean('off'), unit: 'req/s' }];
    for (const [n, target] of [
      ['session', '>= 0.9'],
      ['jwt', '>= 0.9'],
      ['basic', '>= 0.8'],
    ] as const) {
      const ratio = median(sums.get(n)!.map((v, i) => v / offs[i]!));
      figures.push({
        name: `GET value, ${n}`,
        value: mean(n),
        unit: 'req/s',
        ratio,
        baseline: 'auth off (median of per-round ratios)',
        target,
      });
    }
    figures.push({ name: 'errors (non-2xx or socket)', value: errors, unit: 'count' });
    report('auth', figures);
  } finally {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else await main();
