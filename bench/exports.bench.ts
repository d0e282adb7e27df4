/**
 * Exports. (1) A 50-field shift report (delta, avg, min, max, last, timeTrue over 50 tags) over 8 h of 1 s
 * history (1.44 M samples in SQLite), through ReportEngine.compute as the scheduler calls it; baseline, same
 * run: reading the same 50 series from the repository without aggregating. Target ≤ 200 ms (median).
 * (2) 10,000 pending outbox entries drained in order by the OutboxDispatcher and the webhook sender (HMAC, one
 * HTTPS POST each, SQLite lease + settle per entry) into a local HTTPS receiver; baseline, same run: the same
 * number of bare HTTPS POSTs over one connection, one at a time. Target ≥ 1,000 deliveries/s.
 * Run: `npm run bench -- exports` (BENCH_ENTRIES, BENCH_RUNS to shorten).
 */
import { createServer } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { WebhookSender } from '../src/adapters/erp/targets.js';
import { systemClock } from '../src/domain/clock.js';
import { Quality } from '../src/domain/quality.js';
import type { ExportReportConfig, ExportTargetConfig, ExportsConfig } from '../src/project/exports.js';
import { OutboxDispatcher } from '../src/runtime/exports/delivery.js';
import { ReportEngine, type ReportSource } from '../src/runtime/exports/reports.js';
import { ensureTls } from '../src/server/tls.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteHistoryRepository } from '../src/storage/sqlite/sqlite-history-repository.js';
import { SqliteOutboxRepository } from '../src/storage/sqlite/sqlite-outbox-repository.js';
import { percentile, report, type Figure } from './lib/report.js';

const FIELDS = 50;
const SECONDS = 8 * 3600;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 10_000);
const FROM = Date.UTC(2026, 0, 1, 5);
const TO = FROM + SECONDS * 1000;
const AGGS = ['delta', 'avg', 'min', 'max', 'last', 'timeTrue'] as const;

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-exports-'));
const figures: Figure[] = [];
try {
  // (1) history: tag i is a counter (delta), an analog value or a Bool, by its aggregate.
  const db = openDatabase(join(dir, 'tagway.db'));
  const history = new SqliteHistoryRepository(db);
  const ids: number[] = [];
  for (let t = 0; t < FIELDS; t++) ids.push(await history.tagId(`T${t}`));
  const per = 1800;
  for (let s0 = 0; s0 < SECONDS; s0 += per) {
    const n = per * FIELDS;
    const b = {
      count: n,
      tagIds: new Array<number>(n),
      ts: new Array<number>(n),
      values: new Array<number>(n),
      quality: new Array<number>(n),
    };
    for (let s = 0, k = 0; s < per; s++)
      for (let t = 0; t < FIELDS; t++, k++) {
        const sec = s0 + s;
        const agg = AGGS[t % AGGS.length]!;
        b.tagIds[k] = ids[t]!;
        b.ts[k] = FROM + sec * 1000;
        b.values[k] =
          agg === 'delta' ? (sec * 3) % 65536 : agg === 'timeTrue' ? (sec % 600 < 500 ? 1 : 0) : 50 + 40 * Math.sin(sec / 600 + t);
        b.quality[k] = Quality.GOOD;
      }
    await history.insertBatch(b);
  }
  const source: ReportSource = {
    flush: async () => undefined,
    tagInfo: (name) => ({ type: AGGS[Number(name.slice(1)) % AGGS.length] === 'delta' ? 'UInt16' : 'Float64' }),
    rolledSeries: async (tag, plan, max, fields) => history.rolledSeries(ids[Number(tag.slice(1))]!, plan, max, fields),
    countRaised: async () => 0,
  };
  const rep: ExportReportConfig = {
    name: 'bench',
    trigger: 'shiftEnd',
    delayMs: 0,
    targets: [],
    fields: Array.from({ length: FIELDS }, (_, t) => ({ name: `f${t}`, tag: `T${t}`, aggregate: AGGS[t % AGGS.length]! })),
  };
  const config: ExportsConfig = { calendar: undefined, reports: [rep], targets: [] };
  const engine = new ReportEngine(config, source, new SqliteOutboxRepository(db), new Map(), () => Date.now());
  const computeMs: number[] = [];
  const readMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let t0 = performance.now();
    for (let t = 0; t < FIELDS; t++) await history.series(ids[t]!, FROM, TO);
    readMs.push(performance.now() - t0);
    t0 = performance.now();
    const doc = await engine.compute(rep, { start: FROM, end: TO, shift: 'Early' });
    computeMs.push(performance.now() - t0);
    if (doc.values.f0 === null) throw new Error('no value computed');
  }
  const compute = percentile(computeMs, 50);
  const read = percentile(readMs, 50);
  figures.push(
    {
      name: '50-field report over 8 h of 1 s history (median)',
      value: compute,
      unit: 'ms',
      ratio: compute / read,
      baseline: 'reading the 50 series',
      target: '<= 200 ms',
    },
    { name: 'reading the same 50 series (median)', value: read, unit: 'ms' },
  );
  db.close();

  // (2) outbox drain into a local HTTPS webhook receiver.
  const tls = await ensureTls(join(dir, 'tls'));
  const received: string[] = [];
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['idempotency-key']));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  // Baseline: bare POSTs, one at a time, same body size.
  const agent = new Agent({ connect: { ca: tls.cert } });
  const body = JSON.stringify({
    report: 'bench',
    period: { start: '', end: '', shift: 'Early' },
    values: { a: 1, b: 2, c: 'x' },
    flags: {},
    generatedAt: '',
  });
  let t0 = performance.now();
  for (let i = 0; i < ENTRIES; i++)
    await (await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent })).body.text();
  const bareRate = ENTRIES / ((performance.now() - t0) / 1000);
  await agent.close();
  received.length = 0;

  const odb = openDatabase(join(dir, 'outbox.db'));
  const outbox = new SqliteOutboxRepository(odb);
  const target: ExportTargetConfig = {
    name: 'hook',
    kind: 'webhook',
    url,
    secret: 'bench-secret',
    ca: tls.certFile,
    timeoutMs: 10_000,
    maxPending: 1_000_000,
    giveUpAfterMs: 86_400_000,
  };
  const sender = new WebhookSender(target);
  const keys: string[] = [];
  const entries = Array.from({ length: ENTRIES }, (_, i) => {
    const key = `bench/${i}/hook`;
    keys.push(key);
    return { topic: 'hook', key, group: 'bench', payload: { key, report: 'bench', periodStart: i, body: JSON.parse(body) as unknown } };
  });
  await outbox.enqueue(entries, Date.now());
  const dispatcher = new OutboxDispatcher(outbox, new Map([['hook', sender]]), [target], systemClock, undefined);
  t0 = performance.now();
  dispatcher.start();
  while (received.length < ENTRIES) await new Promise((r) => setTimeout(r, 5));
  const drainS = (performance.now() - t0) / 1000;
  await dispatcher.stop();
  const inOrder = received.every((k, i) => k === keys[i]);
  const rate = ENTRIES / drainS;
  figures.push(
    {
      name: `outbox: ${ENTRIES} pending entries drained to a local HTTPS webhook`,
      value: rate,
      unit: 'deliveries/s',
      ratio: rate / bareRate,
      baseline: 'bare sequential HTTPS POSTs',
      target: '>= 1,000/s',
    },
    { name: 'bare sequential HTTPS POSTs', value: bareRate, unit: 'requests/s' },
    { name: 'drained in period order', value: inOrder ? 1 : 0, unit: 'bool' },
  );
  odb.close();
  await new Promise<void>((r) => server.close(() => r()));
  if (!inOrder) throw new Error('entries were not delivered in order');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
report('exports', figures);
