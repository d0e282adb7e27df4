// `npm run bench -- peers`: Tagway against FUXA and Node-RED, the same 100 tags and the same four requests on each,
// with and without login, all measured with wrk in one run on this machine, each also as the server's CPU time per
// request and as a ratio to a bare fastify route serving the same bytes. Writes the table and a chart into
// docs/performance.md (between the peers markers) and docs/images/performance-peers.png.
import Fastify from 'fastify';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderBarChart } from './lib/peers/chart.js';
import { startFuxa } from './lib/peers/fuxa.js';
import { ensurePeers, PEER_VERSIONS } from './lib/peers/install.js';
import { startNodeRed } from './lib/peers/node-red.js';
import { report, type Figure } from './lib/report.js';
import { startBaseline, startBenchTagway } from './lib/servers.js';
import { bestOfRounds, ROUNDS } from './lib/rounds.js';
import { ensureWrk, wrk, type WrkResult } from './lib/wrk.js';

ensureWrk();
const loadAtStart = loadavg()[0]!;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const N = 100;
const { fuxaDir, nodeRedDir } = ensurePeers();
const names = Array.from({ length: N }, (_, i) => `Bench.T${i}`);

interface Request {
  path: string;
  method: string;
  body?: string | undefined;
  headers?: Record<string, string>;
}
interface Target {
  name: string;
  url: string;
  pid?: number | undefined;
  headers: Record<string, string>;
  requests: Record<Endpoint, Request>;
}
type Endpoint = 'GET one tag' | 'bulk read 100' | 'PUT one tag' | 'PUT 100 items';
const ENDPOINTS: Endpoint[] = ['GET one tag', 'bulk read 100', 'PUT one tag', 'PUT 100 items'];
const json = { 'content-type': 'application/json' };
let counter = 0;
const writeMany = () => JSON.stringify({ items: names.map((name) => ({ name, value: ++counter })) });

// Tagway's own API shape (Tagway, bare fastify and the Node-RED flow serve the same routes).
const tagwayShape: Record<Endpoint, Request> = {
  'GET one tag': { path: '/tags/Bench.T7/value', method: 'GET' },
  'bulk read 100': { path: '/tags/values', method: 'POST', body: JSON.stringify({ names }), headers: json },
  'PUT one tag': { path: '/tags/Bench.T7/value', method: 'PUT', body: '{"value":42.5}', headers: json },
  'PUT 100 items': { path: '/tags/values', method: 'PUT', body: writeMany(), headers: json },
};

const started: Array<{ stop(): Promise<void> }> = [];
const targets: Target[] = [];

const https = await startBenchTagway(N);
started.push(https);
const http = await startBenchTagway(N, { http: true });
started.push(http);
const engine = https.tagway.runtime.tags;
const one = engine.valueJson(engine.require('Bench.T7'));
const many = `{"items":[${names.map((n) => engine.valueJson(engine.require(n))).join(',')}]}`;
const written = JSON.stringify({ items: names.map((name) => ({ name, status: 'OK' })) });
const bareRoutes = (app: import('fastify').FastifyInstance) => {
  const send = (body: string) => async (_q: unknown, r: import('fastify').FastifyReply) =>
    r.type('application/json; charset=utf-8').send(body);
  app.get('/tags/:name/value', send(one));
  app.post('/tags/values', send(many));
  app.put('/tags/:name/value', send(one));
  app.put('/tags/values', send(written));
};
const bareTls = await startBaseline(https.dataDir, bareRoutes);
started.push({ stop: () => bareTls.close() });
const bareHttp = Fastify({ bodyLimit: 10 * 1024 * 1024 });
bareRoutes(bareHttp);
await bareHttp.listen({ port: 0, host: '127.0.0.1' });
started.push({ stop: () => bareHttp.close() });
const bareHttpUrl = `http://127.0.0.1:${(bareHttp.server.address() as { port: number }).port}`;

targets.push(
  { name: 'bare fastify, HTTP', url: bareHttpUrl, headers: {}, requests: tagwayShape },
  { name: 'bare fastify, HTTPS', url: bareTls.url, headers: {}, requests: tagwayShape },
  { name: 'Tagway, HTTP, login', url: http.url, headers: { authorization: `Bearer ${http.token}` }, requests: tagwayShape },
  { name: 'Tagway, HTTPS, login', url: https.url, headers: { authorization: `Bearer ${https.token}` }, requests: tagwayShape },
);

for (const secure of [false, true]) {
  const f = await startFuxa(fuxaDir, N, secure);
  started.push(f);
  const ids = (list: string[]) => `/api/getTagValue?ids=${encodeURIComponent(JSON.stringify(list))}`;
  const set = (list: string[]) => JSON.stringify({ tags: list.map((id) => ({ id, value: ++counter })) });
  targets.push({
    name: `FUXA ${PEER_VERSIONS.fuxa}${secure ? ', login' : ', no login'}`,
    url: f.url,
    pid: f.pid,
    headers: f.auth,
    requests: {
      'GET one tag': { path: ids([f.tagIds[7]!]), method: 'GET' },
      'bulk read 100': { path: ids(f.tagIds), method: 'GET' },
      'PUT one tag': { path: '/api/setTagValue', method: 'POST', body: set([f.tagIds[7]!]), headers: json },
      'PUT 100 items': { path: '/api/setTagValue', method: 'POST', body: set(f.tagIds), headers: json },
    },
  });
  const r = await startNodeRed(nodeRedDir, N, secure);
  started.push(r);
  targets.push({
    name: `Node-RED ${PEER_VERSIONS.nodeRed}${secure ? ', login' : ', no login'}`,
    url: r.url,
    pid: r.pid,
    headers: r.auth,
    requests: tagwayShape,
  });
}

const results = new Map<string, Map<Endpoint, { rps: number; cpu: number; p99: number; failed: number }>>();
for (const t of targets) results.set(t.name, new Map());
// Tagway and its bare baselines (the first four targets) are measured in interleaved rounds, each keeping its best
// (bench/lib/rounds.ts), like the hot-path benchmarks: their ratios are the figures this table is read for. The
// peers are measured once: they sit an order of magnitude away, far beyond this machine's noise.
const own = new Set(['bare fastify, HTTP', 'bare fastify, HTTPS', 'Tagway, HTTP, login', 'Tagway, HTTPS, login']);
for (const e of ENDPOINTS) {
  const runOf = (t: Target, seconds = SECONDS): Promise<WrkResult> => {
    const q = t.requests[e];
    return wrk({ url: t.url + q.path, method: q.method, body: q.body, headers: { ...q.headers, ...t.headers }, pid: t.pid, seconds });
  };
  for (const t of targets) await runOf(t, 1);
  const best: Record<string, WrkResult> = await bestOfRounds(
    Object.fromEntries(targets.filter((t) => own.has(t.name)).map((t) => [t.name, () => runOf(t)])),
  );
  for (const t of targets) {
    const r = best[t.name] ?? (await runOf(t));
    results.get(t.name)!.set(e, { rps: r.rps, cpu: r.cpuUsPerRequest, p99: r.p99, failed: r.non2xx + r.errors });
  }
}
for (const s of started.reverse()) await s.stop();

const figures: Figure[] = [];
for (const [name, row] of results)
  for (const [e, r] of row) {
    const base = results.get(name.includes('HTTPS') ? 'bare fastify, HTTPS' : 'bare fastify, HTTP')!.get(e)!;
    figures.push({ name: `${e}: ${name}`, value: r.rps, unit: 'req/s', ratio: r.rps / base.rps, baseline: 'bare fastify (same scheme)' });
    figures.push({
      name: `${e}: ${name} CPU/request`,
      value: r.cpu,
      unit: 'µs',
      ratio: base.cpu / r.cpu,
      baseline: 'bare fastify CPU (higher is better)',
    });
    if (r.failed) figures.push({ name: `${e}: ${name} failed answers`, value: r.failed, unit: 'requests' });
  }
report(`Tagway vs FUXA ${PEER_VERSIONS.fuxa} vs Node-RED ${PEER_VERSIONS.nodeRed} (wrk -t1 -c50, ${SECONDS} s each, ${N} tags)`, figures);

// docs/performance.md and its chart.
const root = join(import.meta.dirname, '..');
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.split(' Copyright')[0]!.trim()}`;
const fmt = (v: number) => Math.round(v).toLocaleString('en');
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; wrk and the server share the machine's cores; load average ${loadAtStart.toFixed(1)} at the start of the run and ${loadavg()[0]!.toFixed(1)} at its end (other work on the machine lowers every figure, the ratios less than the rates).`,
  `Command: \`npm run bench -- peers\` (FUXA ${PEER_VERSIONS.fuxa} and Node-RED ${PEER_VERSIONS.nodeRed} from npm, ${N} tags, wrk -t1 -c50 for ${SECONDS} s per cell; Tagway and bare fastify best of ${ROUNDS} interleaved rounds, the peers once).`,
  '',
  `| server | ${ENDPOINTS.join(' | ')} | CPU per GET |`,
  `|---|${ENDPOINTS.map(() => '---:').join('|')}|---:|`,
];
for (const [name, row] of results) {
  const cells = ENDPOINTS.map((e) => {
    const r = row.get(e)!;
    return `${fmt(r.rps)} req/s${r.failed ? ` (${r.failed} failed)` : ''}`;
  });
  lines.push(`| ${name} | ${cells.join(' | ')} | ${row.get('GET one tag')!.cpu.toFixed(1)} µs |`);
}
lines.push('', '![Requests per second by server and endpoint (log scale)](images/performance-peers.png)');
const docFile = join(root, 'docs', 'performance.md');
const doc = readFileSync(docFile, 'utf8');
const begin = '<!-- peers:begin (written by npm run bench -- peers) -->';
const end = '<!-- peers:end -->';
const i = doc.indexOf(begin);
const j = doc.indexOf(end);
if (i < 0 || j < i) throw new Error(`docs/performance.md lacks the markers ${begin} … ${end}`);
writeFileSync(docFile, doc.slice(0, i + begin.length) + '\n' + lines.join('\n') + '\n' + doc.slice(j));
const palette = ['#9e9e9e', '#616161', '#1e88e5', '#0d47a1', '#ffb74d', '#e65100', '#81c784', '#2e7d32'];
await renderBarChart(
  {
    title: `Requests per second, ${N} tags (wrk -t1 -c50, higher is better)`,
    groups: ENDPOINTS,
    yLabel: 'req/s (log)',
    series: [...results].map(([name, row], k) => ({
      name,
      color: palette[k % palette.length]!,
      values: ENDPOINTS.map((e) => row.get(e)!.rps),
    })),
  },
  join(root, 'docs', 'images', 'performance-peers.png'),
);
console.log('Wrote docs/performance.md (peers table) and docs/images/performance-peers.png');
