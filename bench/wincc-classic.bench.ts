// Classic WinCC's POST /WinCCRestService/tagManagement/Values with 100 and 1,000 names against the native
// POST /tags/values with the same names, both with a session token; and the WinCC route with HTTP Basic on every
// request (cached verification) against the session token. wrk load, server CPU per request; ratios measured in
// the same run. Short by default (BENCH_SECONDS, 3 s per run): the machine is shared.
import { BENCH_PASSWORD, startBenchTagway } from './lib/servers.js';
import { report, type Figure } from './lib/report.js';
import { ensureWrk, wrk, type WrkResult } from './lib/wrk.js';

ensureWrk();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const t = await startBenchTagway(1000);
const names = (n: number) => Array.from({ length: n }, (_, i) => `Bench.T${i}`);
const bearer = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json', accept: 'application/json' };
const basic = {
  authorization: `Basic ${Buffer.from(`admin:${BENCH_PASSWORD}`).toString('base64')}`,
  'content-type': 'application/json',
  accept: 'application/json',
};

const run = async (path: string, body: string, headers: Record<string, string>): Promise<WrkResult> => {
  const r = await wrk({ url: t.url + path, method: 'POST', headers, body, connections: 10, seconds: SECONDS });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${path}: ${r.non2xx} non-2xx answers, ${r.errors} socket errors`);
  return r;
};

const figures: Figure[] = [];
for (const n of [100, 1000]) {
  const native = await run('/tags/values', JSON.stringify({ names: names(n) }), bearer);
  const wincc = await run('/WinCCRestService/tagManagement/Values', JSON.stringify({ variableNames: names(n) }), bearer);
  const winccBasic = await run('/WinCCRestService/tagManagement/Values', JSON.stringify({ variableNames: names(n) }), basic);
  figures.push(
    { name: `native POST /tags/values ${n} names, token: req/s`, value: native.rps, unit: 'req/s' },
    { name: `native ${n} names: p50`, value: native.p50, unit: 'ms' },
    { name: `native ${n} names: server CPU/request`, value: native.cpuUsPerRequest, unit: 'µs' },
    {
      name: `WinCC POST tagManagement/Values ${n} names, token: req/s`,
      value: wincc.rps,
      unit: 'req/s',
      ratio: wincc.rps / native.rps,
      baseline: 'native POST /tags/values (ratio = wincc/native)',
    },
    { name: `WinCC ${n} names, token: p50`, value: wincc.p50, unit: 'ms' },
    {
      name: `WinCC ${n} names, token: server CPU/request`,
      value: wincc.cpuUsPerRequest,
      unit: 'µs',
      ratio: wincc.cpuUsPerRequest / native.cpuUsPerRequest,
      baseline: 'native CPU/request (ratio = wincc/native)',
    },
    {
      name: `WinCC ${n} names, Basic per request: req/s`,
      value: winccBasic.rps,
      unit: 'req/s',
      ratio: winccBasic.rps / wincc.rps,
      baseline: 'WinCC with session token (ratio = basic/token)',
    },
    {
      name: `WinCC ${n} names, Basic per request: server CPU/request`,
      value: winccBasic.cpuUsPerRequest,
      unit: 'µs',
      ratio: winccBasic.cpuUsPerRequest / wincc.cpuUsPerRequest,
      baseline: 'WinCC with session token (ratio = basic/token)',
    },
  );
}
report('wincc-classic', figures);
await t.stop();
