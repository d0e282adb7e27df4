// GET /tags/{name}/value with a session token, as a ratio to a bare fastify route that returns the same JSON
// over the same TLS setup, measured in the same run. Target: ≥ 0.8 of the baseline.
import { load } from './lib/load.js';
import { report } from './lib/report.js';
import { startBaseline, startBenchTagway } from './lib/servers.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const t = await startBenchTagway(1000);
const engine = t.tagway.runtime.tags;
const body = engine.valueJson(engine.require('Bench.T7'));
const base = await startBaseline(t.dataDir, (app) => {
  app.get('/tags/:name/value', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
});
// Warm up both, then measure alternately to spread machine noise over both.
await load({ url: `${base.url}/tags/Bench.T7/value`, duration: 1 });
await load({ url: `${t.url}/tags/Bench.T7/value`, headers: { authorization: `Bearer ${t.token}` }, duration: 1 });
// Three alternating rounds; the median of each side damps the noise of a shared machine.
const bs = [],
  rs = [];
for (let i = 0; i < 3; i++) {
  bs.push(await load({ url: `${base.url}/tags/Bench.T7/value`, duration: DURATION }));
  rs.push(await load({ url: `${t.url}/tags/Bench.T7/value`, headers: { authorization: `Bearer ${t.token}` }, duration: DURATION }));
}
const median = <T extends { rps: number }>(xs: T[]): T => [...xs].sort((a, b) => a.rps - b.rps)[1]!;
const b1 = median(bs);
const r1 = median(rs);
if (r1.non2xx || r1.errors) throw new Error(`tagway answered ${r1.non2xx} non-2xx and ${r1.errors} errors`);
report('GET one value (session token)', [
  { name: 'baseline bare fastify', value: b1.rps, unit: 'req/s' },
  {
    name: 'tagway GET /tags/{name}/value',
    value: r1.rps,
    unit: 'req/s',
    ratio: r1.rps / b1.rps,
    baseline: 'bare fastify',
    target: '≥ 0.8',
  },
  { name: 'tagway p50 latency', value: r1.p50, unit: 'ms' },
  { name: 'tagway p99 latency', value: r1.p99, unit: 'ms' },
]);
await base.close();
await t.stop();
