// The HTTP hot paths measured with wrk (a C load generator), each as req/s and as server CPU per request, and each
// as a ratio to a bare baseline serving the same bytes over the same TLS setup in the same run (issue 13):
// GET one tag (session token) over HTTPS and over plain HTTP, POST /tags/values of 100 names, PUT one tag,
// PUT /tags/values of 100 items (durable).
import { report, type Figure } from './lib/report.js';
import { startBaseline, startBenchTagway } from './lib/servers.js';
import { bestOfRounds, ROUNDS } from './lib/rounds.js';
import { ensureWrk, wrk, type WrkResult } from './lib/wrk.js';

ensureWrk();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const t = await startBenchTagway(100);
const engine = t.tagway.runtime.tags;
const one = engine.valueJson(engine.require('Bench.T7'));
const names = Array.from({ length: 100 }, (_, i) => `Bench.T${i}`);
const many = `{"items":[${names.map((n) => engine.valueJson(engine.require(n))).join(',')}]}`;
const writeAnswer = JSON.stringify({ items: names.map((name) => ({ name, status: 'OK' })) });
const base = await startBaseline(t.dataDir, (app) => {
  app.get('/tags/:name/value', async (_req, reply) => reply.type('application/json; charset=utf-8').send(one));
  app.post('/tags/values', async (_req, reply) => reply.type('application/json; charset=utf-8').send(many));
  app.put('/tags/:name/value', async (_req, reply) => reply.type('application/json; charset=utf-8').send(one));
  app.put('/tags/values', async (_req, reply) => reply.type('application/json; charset=utf-8').send(writeAnswer));
});
// The same read over plain HTTP (--http): a Tagway and a bare fastify of their own.
const th = await startBenchTagway(100, { http: true });
const baseHttp = await startBaseline(
  th.dataDir,
  (app) => {
    app.get('/tags/:name/value', async (_req, reply) => reply.type('application/json; charset=utf-8').send(one));
  },
  { http: true },
);
const auth = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' };
const json = { 'content-type': 'application/json' };
const bulkRead = JSON.stringify({ names });
let n = 0;
const bulkWrite = () => JSON.stringify({ items: names.map((name) => ({ name, value: ++n })) });

interface Case {
  name: string;
  path: string;
  method: string;
  body?: string;
  values?: number;
  http?: boolean;
  /** The goal for both ratios, where it set one. */
  goal?: string;
}
const cases: Case[] = [
  { name: 'GET one tag', path: '/tags/Bench.T7/value', method: 'GET', goal: '≥ 0.8' },
  { name: 'GET one tag, HTTP', path: '/tags/Bench.T7/value', method: 'GET', http: true, goal: '≥ 0.8' },
  { name: 'POST /tags/values (100 names)', path: '/tags/values', method: 'POST', body: bulkRead, values: 100 },
  { name: 'PUT one tag', path: '/tags/Bench.T7/value', method: 'PUT', body: '{"value":42.5}' },
  { name: 'PUT /tags/values (100 items, durable)', path: '/tags/values', method: 'PUT', body: bulkWrite(), values: 100 },
];

const figures: Figure[] = [];
for (const c of cases) {
  const [tw, bs] = c.http ? [th, baseHttp] : [t, base];
  const tAuth = { ...auth, authorization: `Bearer ${tw.token}` };
  const run = (url: string, headers: Record<string, string>): Promise<WrkResult> =>
    wrk({
      url: url + c.path,
      method: c.method,
      headers: c.method === 'GET' ? { authorization: headers.authorization ?? '' } : headers,
      body: c.body,
      seconds: SECONDS,
    });
  // Warm both, then measure baseline and Tagway interleaved, best of BENCH_ROUNDS (bench/lib/rounds.ts).
  const tUrl = c.http ? tw.url.replace('https:', 'http:') : tw.url;
  await wrk({ url: bs.url + c.path, method: c.method, headers: json, body: c.body, seconds: 1 });
  await run(tUrl, tAuth);
  const { bare: b, tagway: r } = await bestOfRounds({
    bare: () => wrk({ url: bs.url + c.path, method: c.method, headers: json, body: c.body, seconds: SECONDS }),
    tagway: async () => {
      const r = await run(tUrl, tAuth);
      if (r.non2xx || r.errors) throw new Error(`${c.name}: tagway answered ${r.non2xx} non-2xx and ${r.errors} socket errors`);
      return r;
    },
  });
  figures.push(
    { name: `${c.name}: bare fastify`, value: b.rps, unit: 'req/s' },
    { name: `${c.name}: tagway`, value: r.rps, unit: 'req/s', ratio: r.rps / b.rps, baseline: 'bare fastify', target: c.goal },
    {
      name: `${c.name}: tagway CPU/request`,
      value: r.cpuUsPerRequest,
      unit: 'µs',
      ratio: b.cpuUsPerRequest / r.cpuUsPerRequest,
      baseline: 'bare fastify CPU (higher is better)',
      target: c.goal,
    },
    { name: `${c.name}: tagway p50 / p99`, value: r.p50, unit: `ms (p99 ${r.p99.toFixed(2)} ms)` },
  );
  if (c.values) figures.push({ name: `${c.name}: values/s`, value: r.rps * c.values, unit: 'values/s' });
}
report(`HTTP hot paths (wrk -t1 -c50, HTTPS unless marked HTTP, session token; best of ${ROUNDS} interleaved rounds)`, figures);
await base.close();
await baseHttp.close();
await t.stop();
await th.stop();
