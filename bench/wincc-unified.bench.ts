// WinCC Unified GraphQL profile against the native API, in the same run on a loaded machine:
//   reads — `tagValues` of 1 and 1,000 tags (POST /graphql) vs `POST /tags/values` with the same names: wrk,
//           10 connections, requests/s, p50 and server CPU per request;
//   fan-out — 1,000 tags changing at BENCH_RATE changes/s to 100 WebSocket clients subscribed to all of them:
//           tag values delivered per second over `/graphql` (graphql-transport-ws, one `next` per value, shaped by
//           the subscription's selection) vs the native `/ws` (batched `values` messages), and server CPU per value.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Quality } from '../src/domain/quality.js';
import { report, type Figure } from './lib/report.js';
import { startBenchTagway } from './lib/servers.js';
import { ensureWrk, wrk } from './lib/wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const TAGS = 1_000;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

ensureWrk();
const t = await startBenchTagway(TAGS, { maxConnectionsPerAddress: 1000 });
const figures: Figure[] = [];
const names = (n: number) => Array.from({ length: n }, (_, i) => `Bench.T${i}`);
const auth = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' };

for (const n of [1, 1000]) {
  const rest = await wrk({
    url: `${t.url}/tags/values`,
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ names: names(n) }),
    connections: 10,
    seconds: SECONDS,
  });
  const query = `query ($n: [String!]!) { tagValues(names: $n) { name value { value timestamp quality { quality } } error { code } } }`;
  const gql = await wrk({
    url: `${t.url}/graphql`,
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ query, variables: { n: names(n) } }),
    connections: 10,
    seconds: SECONDS,
  });
  if (rest.non2xx || gql.non2xx) throw new Error(`non-2xx answers: REST ${rest.non2xx}, GraphQL ${gql.non2xx}`);
  figures.push({ name: `REST POST /tags/values ${n} tag(s)`, value: rest.rps, unit: 'req/s' });
  figures.push({ name: `GraphQL tagValues ${n} tag(s)`, value: gql.rps, unit: 'req/s', ratio: gql.rps / rest.rps, baseline: 'REST req/s' });
  figures.push({ name: `REST ${n} p50`, value: rest.p50, unit: 'ms' });
  figures.push({ name: `GraphQL ${n} p50`, value: gql.p50, unit: 'ms', ratio: rest.p50 / gql.p50, baseline: 'REST p50 / GraphQL p50' });
  figures.push({
    name: `GraphQL ${n} CPU/request`,
    value: gql.cpuUsPerRequest,
    unit: 'µs',
    ratio: rest.cpuUsPerRequest / gql.cpuUsPerRequest,
    baseline: `REST ${rest.cpuUsPerRequest.toFixed(0)} µs`,
  });
}

async function fanout(protocol: 'tagway' | 'unified'): Promise<{ itemsPerSec: number; cpuUsPerItem: number }> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'lib', 'unified-clients.ts'), [], { execArgv: ['--import', 'tsx'] });
  const url = `${t.url.replace('https:', 'wss:')}${protocol === 'unified' ? '/graphql' : '/ws'}`;
  child.send({ cmd: 'start', url, token: t.token, ca: t.tagway.certificate, clients: CLIENTS, pattern: 'Bench.*', protocol });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m: { cmd: string }) => (m.cmd === 'ready' ? resolve() : reject(new Error(m.cmd))));
    child.once('exit', (code) => reject(new Error(`clients exited ${code}`)));
  });
  const engine = t.tagway.runtime.tags;
  child.send({ cmd: 'measure' });
  const cpu = process.cpuUsage();
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE) - done;
    for (let k = 0; k < due; k++) engine.update((done + k) % TAGS, done + k, Quality.GOOD);
    done += Math.max(0, due);
    await sleep(10);
  }
  const items = await new Promise<number>((resolve) => {
    child.on('message', (m: { cmd: string; items: number }) => m.cmd === 'report' && resolve(m.items));
    child.send({ cmd: 'report' });
  });
  const used = process.cpuUsage(cpu);
  const secs = (performance.now() - start) / 1000;
  await new Promise((r) => child.once('exit', r));
  return { itemsPerSec: items / secs, cpuUsPerItem: (used.user + used.system) / Math.max(1, items) };
}

const native = await fanout('tagway');
const unified = await fanout('unified');
figures.push({ name: `/ws fan-out ${TAGS} tags → ${CLIENTS} clients (${RATE} changes/s)`, value: native.itemsPerSec, unit: 'values/s' });
figures.push({
  name: `/graphql fan-out ${TAGS} tags → ${CLIENTS} clients`,
  value: unified.itemsPerSec,
  unit: 'values/s',
  ratio: unified.itemsPerSec / native.itemsPerSec,
  baseline: '/ws values/s',
});
figures.push({ name: '/ws server CPU per delivered value', value: native.cpuUsPerItem, unit: 'µs' });
figures.push({
  name: '/graphql server CPU per delivered value',
  value: unified.cpuUsPerItem,
  unit: 'µs',
  ratio: native.cpuUsPerItem / unified.cpuUsPerItem,
  baseline: '/ws µs / graphql µs',
});
report('wincc-unified', figures);
await t.stop();
