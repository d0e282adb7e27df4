// POST /tags/values with 1,000 and 10,000 names and PUT /tags/values with 1,000 items: p50 latency of one
// request at a time, each as a ratio to a bare fastify route that answers the same JSON (read) or parses the
// same body and answers the same reply (write), over the same TLS setup in the same run.
// Targets: 1,000-name read p50 ≤ 3 ms, 10,000-name read p50 ≤ 25 ms.
import { Agent, request } from 'undici';
import { percentile, report, type Figure } from './lib/report.js';
import { sequentialLatencies } from './lib/load.js';
import { startBaseline, startBenchTagway } from './lib/servers.js';

const N = Number(process.env.BENCH_REQUESTS ?? 200);
const t = await startBenchTagway(10_000, { sqliteSynchronous: 'FULL' });
const agent = new Agent({ connect: { rejectUnauthorized: false }, connections: 1 });
const engine = t.tagway.runtime.tags;
const names = (n: number) => Array.from({ length: n }, (_, i) => `Bench.T${i}`);
const readReply = (n: number) =>
  `{"items":[${names(n)
    .map((x) => engine.valueJson(engine.require(x)))
    .join(',')}]}`;
const replies = new Map([
  [1000, readReply(1000)],
  [10_000, readReply(10_000)],
]);
const writeReply = `{"items":[${names(1000)
  .map((x) => `{"name":"${x}","status":"OK"}`)
  .join(',')}]}`;

const base = await startBaseline(t.dataDir, (app) => {
  app.post('/tags/values', async (req, reply) =>
    reply.type('application/json; charset=utf-8').send(replies.get((req.body as { names: string[] }).names.length)),
  );
  app.put('/tags/values', async (req, reply) => {
    void (req.body as { items: unknown[] }).items.length;
    return reply.type('application/json; charset=utf-8').send(writeReply);
  });
});

async function call(url: string, method: 'POST' | 'PUT', body: string, token?: string): Promise<void> {
  const r = await request(url, {
    method,
    dispatcher: agent,
    body,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const text = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`${method} ${url}: ${r.statusCode} ${text.slice(0, 200)}`);
}

const figures: Figure[] = [];
for (const n of [1000, 10_000]) {
  const body = JSON.stringify({ names: names(n) });
  const rounds = n === 1000 ? N : Math.max(20, N / 4);
  await sequentialLatencies(10, () => call(`${base.url}/tags/values`, 'POST', body));
  await sequentialLatencies(10, () => call(`${t.url}/tags/values`, 'POST', body, t.token));
  const b = percentile(await sequentialLatencies(rounds, () => call(`${base.url}/tags/values`, 'POST', body)), 50);
  const r = percentile(await sequentialLatencies(rounds, () => call(`${t.url}/tags/values`, 'POST', body, t.token)), 50);
  figures.push({ name: `baseline POST ${n} names p50`, value: b, unit: 'ms' });
  figures.push({
    name: `tagway POST /tags/values ${n} names p50`,
    value: r,
    unit: 'ms',
    ratio: b / r,
    baseline: 'bare fastify (ratio = baseline/tagway)',
    target: n === 1000 ? '≤ 3 ms' : '≤ 25 ms',
  });
}
{
  let k = 0;
  const body = () => JSON.stringify({ items: names(1000).map((name) => ({ name, value: k++ })) });
  await sequentialLatencies(5, () => call(`${base.url}/tags/values`, 'PUT', body()));
  await sequentialLatencies(5, () => call(`${t.url}/tags/values`, 'PUT', body(), t.token));
  const rounds = Math.max(20, N / 4);
  const b = percentile(await sequentialLatencies(rounds, () => call(`${base.url}/tags/values`, 'PUT', body())), 50);
  const r = percentile(await sequentialLatencies(rounds, () => call(`${t.url}/tags/values`, 'PUT', body(), t.token)), 50);
  figures.push({ name: 'baseline PUT 1000 items p50', value: b, unit: 'ms' });
  figures.push({
    name: 'tagway PUT /tags/values 1000 items p50 (durable, one fsync)',
    value: r,
    unit: 'ms',
    ratio: b / r,
    baseline: 'bare fastify (ratio = baseline/tagway)',
  });
}
report('bulk read and write', figures);
await agent.close();
await base.close();
await t.stop();
