// Durable writes (issue 13, item 3): PUT /tags/values of 100 internal tags and PUT of one tag, each answered only
// after its values and audit rows are committed (SQLite, synchronous FULL). Figures: values/s, p50/p99, server CPU
// per request and per value, and the ratio to a bare fastify route answering the same bytes in the same run.
import { report, type Figure } from './lib/report.js';
import { startBaseline, startBenchTagway } from './lib/servers.js';
import { ensureWrk, wrk, type WrkResult } from './lib/wrk.js';

ensureWrk();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const t = await startBenchTagway(100);
const engine = t.tagway.runtime.tags;
const one = engine.valueJson(engine.require('Bench.T7'));
const names = Array.from({ length: 100 }, (_, i) => `Bench.T${i}`);
const writeAnswer = JSON.stringify({ items: names.map((name) => ({ name, status: 'OK' })) });
const base = await startBaseline(t.dataDir, (app) => {
  app.put('/tags/:name/value', async (_req, reply) => reply.type('application/json; charset=utf-8').send(one));
  app.put('/tags/values', async (_req, reply) => reply.type('application/json; charset=utf-8').send(writeAnswer));
});
const auth = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' };
const json = { 'content-type': 'application/json' };
const bulkWrite = JSON.stringify({ items: names.map((name, i) => ({ name, value: i + 0.5 })) });

const cases = [
  { name: 'PUT /tags/values (100 items)', path: '/tags/values', body: bulkWrite, values: 100 },
  { name: 'PUT one tag', path: '/tags/Bench.T7/value', body: '{"value":42.5}', values: 1 },
];
const only = process.env.BENCH_CASE;
const figures: Figure[] = [];
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  const run = (url: string, headers: Record<string, string>, seconds = SECONDS): Promise<WrkResult> =>
    wrk({ url: url + c.path, method: 'PUT', headers, body: c.body, seconds });
  await run(base.url, json, 1);
  await run(t.url, auth, 1);
  const b = await run(base.url, json);
  const auditBefore = await t.tagway.runtime.storage.audit.count();
  const r = await run(t.url, auth);
  if (r.non2xx || r.errors) throw new Error(`${c.name}: tagway answered ${r.non2xx} non-2xx and ${r.errors} socket errors`);
  const audited = (await t.tagway.runtime.storage.audit.count()) - auditBefore;
  figures.push(
    { name: `${c.name}: bare fastify`, value: b.rps, unit: 'req/s' },
    { name: `${c.name}: tagway`, value: r.rps, unit: 'req/s', ratio: r.rps / b.rps, baseline: 'bare fastify' },
    { name: `${c.name}: tagway values/s`, value: r.rps * c.values, unit: 'values/s', target: c.values > 1 ? '≥ 300,000' : '' },
    { name: `${c.name}: tagway p50`, value: r.p50, unit: 'ms' },
    { name: `${c.name}: tagway p99`, value: r.p99, unit: 'ms', target: c.values > 1 ? '≤ 50' : '' },
    {
      name: `${c.name}: tagway CPU/request`,
      value: r.cpuUsPerRequest,
      unit: 'µs',
      ratio: b.cpuUsPerRequest / r.cpuUsPerRequest,
      baseline: `bare fastify ${b.cpuUsPerRequest.toFixed(1)} µs (higher is better)`,
    },
    { name: `${c.name}: tagway CPU/value`, value: r.cpuUsPerRequest / c.values, unit: 'µs' },
    // At least one audit row per value written (rows of requests still in flight when wrk stopped count too).
    { name: `${c.name}: audit rows per value`, value: audited / Math.max(1, r.requests * c.values), unit: 'rows' },
  );
}
report('Durable writes (wrk -t1 -c50, HTTPS, session token, SQLite synchronous FULL)', figures);
await base.close();
await t.stop();
