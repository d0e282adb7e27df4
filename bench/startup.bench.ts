// Start-up time and memory with a generated 100,000-tag project: the time from spawning `tagway start` until
// GET /health answers, and the server's RSS then. Baseline: the same for a bare Node process that starts a
// fastify HTTPS server (the floor any Node server pays). Targets: ≤ 3 s and ≤ 400 MB RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { report } from './lib/report.js';

const TAGS = Number(process.env.BENCH_TAGS ?? 100_000);

function projectYaml(n: number): string {
  const types = ['Float64', 'Float32', 'Int16', 'UInt32', 'Bool', 'Int64', 'String'];
  const lines = [
    'name: Startup bench',
    'connections:',
    '  - { name: sim, driver: simulator }',
    '  - { name: internal, driver: internal }',
    'tags:',
  ];
  for (let i = 0; i < n; i++) {
    const type = types[i % types.length]!;
    if (i % 2 === 0 && type !== 'String')
      lines.push(
        `  - { name: Area${i % 50}.Unit${i % 997}.Tag${i}, type: ${type}, unit: bar, connection: sim, simulation: { kind: ${type === 'Bool' ? 'square' : 'sine'}, cycleMs: ${[1000, 2000, 5000, 10000][i % 4]} } }`,
      );
    else lines.push(`  - { name: Area${i % 50}.Unit${i % 997}.Tag${i}, type: ${type}, connection: internal, description: Setpoint ${i} }`);
  }
  return lines.join('\n') + '\n';
}

async function waitForHealth(url: string, agent: Agent, deadline: number): Promise<void> {
  for (;;) {
    try {
      const r = await request(url, { dispatcher: agent });
      await r.body.text();
      if (r.statusCode === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function measure(args: string[], env: NodeJS.ProcessEnv, port: number, holdMs = 0): Promise<{ ms: number; rss: number }> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitForHealth(`https://127.0.0.1:${port}/health`, agent, Date.now() + 60_000);
    const ms = performance.now() - t0;
    const rss = rssMb(child.pid!);
    // A server that keeps running writes its validated-project cache shortly after start; a restart then uses it.
    if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
    return { ms, rss };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await agent.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-startup-'));
const projectFile = join(dir, 'big.yaml');
writeFileSync(projectFile, projectYaml(TAGS));
const basePort = 20000 + Math.floor(Math.random() * 20000);
const baselineScript = join(dir, 'baseline.mjs');
writeFileSync(
  baselineScript,
  `
import Fastify from '${join(process.cwd(), 'node_modules/fastify/fastify.js')}';
import { readFileSync } from 'node:fs';
const app = Fastify({ https: { cert: readFileSync(process.argv[2]), key: readFileSync(process.argv[3]) } });
app.get('/health', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.argv[4]), host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`,
);
const env = {
  TAGWAY_DATA_DIR: join(dir, 'data'),
  TAGWAY_HOST: '127.0.0.1',
  TAGWAY_ADMIN_PASSWORD: 'startup-bench-pw',
  TAGWAY_LOG_LEVEL: 'warn',
};
// The first start generates the certificate and the admin; measure the second (a normal restart) and the first.
const first = await measure(['bin/tagway.js', 'start', '--project', projectFile, '--port', String(basePort)], env, basePort, 4000);
const second = await measure(['bin/tagway.js', 'start', '--project', projectFile, '--port', String(basePort + 1)], env, basePort + 1);
const base = await measure(
  [baselineScript, join(dir, 'data/tls/server.crt'), join(dir, 'data/tls/server.key'), String(basePort + 2)],
  {},
  basePort + 2,
);
report(`start-up with ${TAGS} tags`, [
  { name: 'baseline: bare fastify HTTPS start', value: base.ms, unit: 'ms' },
  {
    name: 'tagway first start (generates certificate and admin)',
    value: first.ms,
    unit: 'ms',
    ratio: first.ms / base.ms,
    baseline: 'bare fastify start (ratio = tagway/baseline)',
    target: '≤ 3000 ms',
  },
  {
    name: 'tagway restart (validated project from the cache)',
    value: second.ms,
    unit: 'ms',
    ratio: second.ms / base.ms,
    baseline: 'bare fastify start (ratio = tagway/baseline)',
    target: '≤ 3000 ms',
  },
  { name: 'baseline RSS', value: base.rss, unit: 'MB' },
  {
    name: 'tagway RSS after start',
    value: second.rss,
    unit: 'MB',
    ratio: second.rss / base.rss,
    baseline: 'bare fastify RSS',
    target: '≤ 400 MB',
  },
]);
rmSync(dir, { recursive: true, force: true });
