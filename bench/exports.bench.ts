/**
 * Exports. (1) A 50-field shift report (delta, avg, min, max, last, timeTrue over 50 tags) over 8 h of 1 s
 * history (1.44 M samples in SQLite), through ReportEngine.compute as the scheduler calls it; baseline, same
 * run: reading the same 50 series from the repository without aggregating. Target ≤ 200 ms (median).
 * (2) 10,000 pending outbox entries drained in order by the OutboxDispatcher and the webhook sender (HMAC, one
 * HTTPS POST each; SQLite: a window of entries leased per statement, deliveries written per batch) into a local
 * HTTPS receiver in its own process, with the target's inFlight 1 (default) and 8; baselines, same run, rounds
 * interleaved: as many plain keep-alive POSTs over one connection, one at a time and 8 pipelined. Figures: the
 * best round's rate and the lowest CPU per delivery (this process = Tagway's side; the receiver's apart).
 * Target ≥ 1,000 deliveries/s.
 * Run: `npm run bench -- exports` (BENCH_ENTRIES, BENCH_RUNS, BENCH_ROUNDS to shorten).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

  // (2) outbox drain into a local HTTPS webhook receiver in its own process.
  const tls = await ensureTls(join(dir, 'tls'));
  const receiver = fork(
    fileURLToPath(new URL('./lib/webhook-receiver.ts', import.meta.url)),
    [tls.certFile, join(dirname(tls.certFile), 'server.key')],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((r) => receiver.once('message', (m: { port: number }) => r(m.port)));
  /** The keys the receiver got since the last take, in arrival order, and its CPU time so far. */
  const take = () =>
    new Promise<{ keys: string[]; cpuUs: number }>((r) => {
      receiver.once('message', r as (m: unknown) => void);
      receiver.send({ op: 'take' });
    });
  const url = `https://127.0.0.1:${port}/hook`;
  const bodyJson = {
    report: 'bench',
    period: { start: '', end: '', shift: 'Early' },
    values: { a: 1, b: 2, c: 'x' },
    flags: {},
    generatedAt: '',
  };
  const body = JSON.stringify(bodyJson);
  interface Run {
    rate: number;
    /** This process's CPU (the sender: Tagway, or the bare client) per request, µs. */
    cpuUs: number;
    /** The receiver's CPU per request, µs. */
    receiverCpuUs: number;
    inOrder: boolean;
  }
  /** Measures `work` sending ENTRIES requests with the expected keys in that order. */
  const measure = async (keys: string[], work: () => Promise<void>): Promise<Run> => {
    const r0 = (await take()).cpuUs;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await work();
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const got: string[] = [];
    let r1 = 0;
    // The receiver's keys arrive over IPC after the last answer; collect until all are there.
    while (got.length < keys.length) {
      const t = await take();
      got.push(...t.keys);
      r1 = t.cpuUs;
      if (got.length < keys.length) await new Promise((r) => setTimeout(r, 5));
    }
    return {
      rate: keys.length / s,
      cpuUs: (c.user + c.system) / keys.length,
      receiverCpuUs: (r1 - r0) / keys.length,
      inOrder: got.every((k, i) => k === keys[i]),
    };
  };
  /** Baseline: plain keep-alive POSTs on one connection, `window` at a time (pipelined), each with its own key. */
  const bare = async (round: number, window: number): Promise<Run> => {
    const agent = new Agent({ connect: { ca: tls.cert }, connections: 1, pipelining: window });
    const keys = Array.from({ length: ENTRIES }, (_, i) => `bare/${round}/${window}/${i}`);
    let next = 0;
    const r = await measure(keys, async () => {
      await Promise.all(
        Array.from({ length: window }, async () => {
          while (next < ENTRIES) {
            const key = keys[next++]!;
            const res = await request(url, {
              method: 'POST',
              body,
              idempotent: true,
              blocking: false,
              headers: { 'content-type': 'application/json', 'idempotency-key': key },
              dispatcher: agent,
            });
            await res.body.text();
          }
        }),
      );
    });
    await agent.close();
    return r;
  };
  const odb = openDatabase(join(dir, 'outbox.db'));
  const outbox = new SqliteOutboxRepository(odb);
  /** ENTRIES pending entries drained by the dispatcher and the webhook sender (HMAC, one POST each). */
  const drain = async (round: number, inFlight: number): Promise<Run> => {
    const target: ExportTargetConfig = {
      name: `hook-${round}-${inFlight}`,
      kind: 'webhook',
      url,
      secret: 'bench-secret',
      ca: tls.certFile,
      timeoutMs: 10_000,
      maxPending: 1_000_000,
      giveUpAfterMs: 86_400_000,
      inFlight,
    };
    const keys = Array.from({ length: ENTRIES }, (_, i) => `bench/${round}/${inFlight}/${i}`);
    await outbox.enqueue(
      keys.map((key, i) => ({
        topic: target.name,
        key,
        group: 'bench',
        payload: { key, report: 'bench', periodStart: i, body: bodyJson },
      })),
      Date.now(),
    );
    const sender = new WebhookSender(target);
    const dispatcher = new OutboxDispatcher(outbox, new Map([[target.name, sender]]), [target], systemClock, undefined);
    let left = ENTRIES;
    dispatcher.onSettled = () => {
      left = ENTRIES - dispatcher.stats.get(target.name)!.delivered;
    };
    const r = await measure(keys, async () => {
      dispatcher.start();
      while (left > 0) await new Promise((r) => setTimeout(r, 2));
    });
    await dispatcher.stop();
    return r;
  };
  const WINDOW = 8;
  const runs: Record<string, Run[]> = { bare1: [], drain1: [], bareW: [], drainW: [] };
  // Interleaved rounds: machine load drifts, each round measures all four close together; the best round counts.
  for (let round = 0; round < ROUNDS; round++) {
    runs.bare1!.push(await bare(round, 1));
    runs.drain1!.push(await drain(round, 1));
    runs.bareW!.push(await bare(round, WINDOW));
    runs.drainW!.push(await drain(round, WINDOW));
  }
  const best = (k: string) => {
    const rs = runs[k]!;
    return {
      rate: Math.max(...rs.map((r) => r.rate)),
      cpuUs: Math.min(...rs.map((r) => r.cpuUs)),
      receiverCpuUs: Math.min(...rs.map((r) => r.receiverCpuUs)),
      inOrder: rs.every((r) => r.inOrder),
    };
  };
  const [b1, d1, bw, dw] = [best('bare1'), best('drain1'), best('bareW'), best('drainW')];
  const load = loadavg()[0]!.toFixed(2);
  figures.push(
    {
      name: `outbox inFlight 1: ${ENTRIES} pending entries drained to a local HTTPS webhook (load ${load})`,
      value: d1.rate,
      unit: 'deliveries/s',
      ratio: d1.rate / b1.rate,
      baseline: 'plain keep-alive POSTs, one at a time',
      target: '>= 1,000/s',
    },
    {
      name: 'outbox inFlight 1: Tagway CPU per delivery',
      value: d1.cpuUs,
      unit: 'µs',
      ratio: d1.cpuUs / b1.cpuUs,
      baseline: 'client CPU per plain POST',
    },
    {
      name: `outbox inFlight ${WINDOW}: ${ENTRIES} pending entries drained (load ${load})`,
      value: dw.rate,
      unit: 'deliveries/s',
      ratio: dw.rate / bw.rate,
      baseline: `plain keep-alive POSTs, ${WINDOW} pipelined`,
      target: '>= 1,000/s',
    },
    {
      name: `outbox inFlight ${WINDOW}: Tagway CPU per delivery`,
      value: dw.cpuUs,
      unit: 'µs',
      ratio: dw.cpuUs / bw.cpuUs,
      baseline: `client CPU per plain POST, ${WINDOW} pipelined`,
    },
    { name: 'plain keep-alive POSTs, one at a time', value: b1.rate, unit: 'requests/s' },
    { name: 'plain keep-alive POSTs: client CPU per request', value: b1.cpuUs, unit: 'µs' },
    { name: `plain keep-alive POSTs, ${WINDOW} pipelined`, value: bw.rate, unit: 'requests/s' },
    { name: `plain keep-alive POSTs, ${WINDOW} pipelined: client CPU per request`, value: bw.cpuUs, unit: 'µs' },
    {
      name: 'receiver CPU per request (plain / outbox inFlight 1)',
      value: b1.receiverCpuUs,
      unit: 'µs',
      ratio: d1.receiverCpuUs / b1.receiverCpuUs,
    },
    { name: 'drained in period order (every round, both windows)', value: d1.inOrder && dw.inOrder ? 1 : 0, unit: 'bool' },
  );
  odb.close();
  receiver.send({ op: 'exit' });
  if (!d1.inOrder || !dw.inOrder) throw new Error('entries were not delivered in order');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
report('exports', figures);
