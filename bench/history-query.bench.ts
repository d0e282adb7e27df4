/**
 * (2) A 30-day trend: 30 days of 1 s data of one tag (2.59 M samples) in 1-hour time-weighted averages (720
 * buckets), through HistoryQueries; baseline, same run: the same buckets computed from all raw samples
 * (`series` + `bucketize`, what every aggregate did before roll-ups). Target (issue 14): <= 1 s.
 *
 * (1) History query: one day of 1 s data of one tag (86,400 samples, stored among 9 other tags' days) aggregated to
 * 1-minute time-weighted averages (1,440 buckets), through HistoryQueries as the API calls it (JSON encoding
 * of the reply excluded). Baseline, same run: a bare `SELECT ts, value, quality … ORDER BY ts` of the same
 * rows with better-sqlite3's `.raw().all()` — just getting the rows into JS, no aggregation.
 * Target: <= 50 ms (median).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Quality } from '../src/domain/quality.js';
import { systemClock } from '../src/domain/clock.js';
import { Historian } from '../src/runtime/historian.js';
import { HistoryQueries, type HistoryQuery } from '../src/runtime/history-query.js';
import type { TagDefinition } from '../src/domain/tag-definition.js';
import { TagEngine } from '../src/runtime/tag-engine.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteHistoryRepository } from '../src/storage/sqlite/sqlite-history-repository.js';
import { percentile, report } from './lib/report.js';
import { AGGREGATES } from '../src/domain/history/aggregates.js';
import { bucketize } from '../src/domain/history/bucket.js';
import { JsonHistorySink } from '../src/adapters/http/rest/history/encoders.js';
import { PermissionSet } from '../src/domain/permissions.js';
import type { Actor } from '../src/services/actor.js';
import { HistoryService } from '../src/services/history-service.js';

const TAGS = 10;
const DAY_S = 86_400;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const FROM = Date.UTC(2026, 0, 1);
const TO = FROM + DAY_S * 1000;

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-query-'));
try {
  const db = openDatabase(join(dir, 'tagway.db'));
  const repo = new SqliteHistoryRepository(db);
  const store = repo.store;
  const defs: TagDefinition[] = Array.from({ length: TAGS }, (_, i) => ({
    name: `Line1.Sensor${i}`,
    type: 'Float64',
    access: 'read',
    connection: 'bench',
    history: { mode: 'cyclic', intervalMs: 1000 },
  }));
  const engine = new TagEngine(defs, systemClock);
  const ids = defs.map((d) => store.tagId(d.name));
  // A day of 1 s samples for every tag, written the way the historian writes: all tags per batch.
  const per = 3600;
  for (let h = 0; h < 24; h++) {
    const n = per * TAGS;
    const tagIds = new Array<number>(n);
    const ts = new Array<number>(n);
    const values = new Array<number>(n);
    const quality = new Array<number>(n);
    for (let s = 0, k = 0; s < per; s++) {
      for (let t = 0; t < TAGS; t++, k++) {
        const sec = h * per + s;
        tagIds[k] = ids[t]!;
        ts[k] = FROM + sec * 1000;
        values[k] = 50 + 40 * Math.sin(sec / 600 + t) + Math.random();
        quality[k] = Quality.GOOD;
      }
    }
    store.insertBatch({ count: n, tagIds, ts, values, quality });
  }
  const historian = new Historian(engine, repo, systemClock);
  const queries = new HistoryQueries(engine, repo, historian, systemClock);
  const tag = engine.require('Line1.Sensor3');
  const tagId = store.findTagId(tag.def.name)!;

  const time = async (fn: () => unknown): Promise<number[]> => {
    for (let i = 0; i < 3; i++) await fn(); // warm-up: JIT and page cache
    const out: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await fn();
      out.push(performance.now() - t0);
    }
    return out;
  };
  const q = (aggregate: HistoryQuery['aggregate']): HistoryQuery => ({
    from: FROM,
    to: TO,
    limit: 1000,
    order: 'asc',
    intervalMs: 60_000,
    aggregate,
    boundingValues: false,
  });
  let buckets = 0;
  const avg = await time(async () => {
    const r = await queries.query(tag, q('avg'));
    buckets = r.items.length;
  });
  if (buckets !== 1440) throw new Error(`expected 1440 buckets, got ${buckets}`);
  const bareStmt = db.prepare('SELECT ts, value, quality FROM history WHERE tag_id = ? AND ts >= ? AND ts < ? ORDER BY ts').raw();
  let rows = 0;
  const bare = await time(() => {
    rows = (bareStmt.all(tagId, FROM, TO) as unknown[]).length;
  });
  if (rows !== DAY_S) throw new Error(`expected ${DAY_S} rows, got ${rows}`);
  const others: Record<string, number> = {};
  for (const a of ['min', 'max', 'delta', 'count', 'last'] as const) others[a] = percentile(await time(() => queries.query(tag, q(a))), 50);
  const rawPage = await time(() => queries.query(tag, { from: FROM + 3_600_000, to: TO, limit: 1000, order: 'asc', boundingValues: true }));
  // A whole day raw (86,400 samples) as JSON: the way the API answered before streaming (one result, one
  // JSON.stringify) against the HistoryService streaming it in chunks through the REST encoder.
  const dayRaw: HistoryQuery = { from: FROM, to: TO, limit: 100_000, order: 'asc', boundingValues: false };
  const service = new HistoryService(queries, systemClock, { maxSamples: 1_000_000, maxConcurrent: 2, maxTags: 1000 });
  const actor: Actor = {
    principal: {
      username: 'bench',
      displayName: 'bench',
      groups: [],
      permissions: new PermissionSet([{ permission: 'history:read' }]),
      authMethod: 'none',
    },
    clientAddress: '127.0.0.1',
    via: 'system',
  };
  // Interleaved, so that a busy machine disturbs both alike.
  let bytesWhole = 0;
  let bytesStreamed = 0;
  const whole: number[] = [];
  const streamedTimes: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    let t0 = performance.now();
    const r = await queries.query(tag, dayRaw);
    bytesWhole = JSON.stringify(r.kind === 'raw' ? { items: r.items, next: r.next } : r).length;
    if (i >= 3) whole.push(performance.now() - t0);
    let n = 0;
    t0 = performance.now();
    const sink = new JsonHistorySink(
      (t) => void (n += t.length),
      false,
      () => {},
    );
    await service.query(actor, tag.def.name, { from: FROM, to: TO, limit: 100_000 }, sink);
    if (i >= 3) streamedTimes.push(performance.now() - t0);
    bytesStreamed = n;
  }
  if (bytesStreamed !== bytesWhole) throw new Error(`streamed ${bytesStreamed} chars, whole ${bytesWhole}`);

  // (2) 30 days of 1 s data of one more tag, written a day per batch.
  const LONG_DAYS = Number(process.env.BENCH_DAYS ?? 30);
  const longDef: TagDefinition = {
    name: 'Line1.Long',
    type: 'Float64',
    access: 'read',
    connection: 'bench',
    history: { mode: 'cyclic', intervalMs: 1000 },
  };
  const longEngine = new TagEngine([longDef], systemClock);
  const longId = store.tagId(longDef.name);
  const LONG_FROM = TO;
  const LONG_TO = LONG_FROM + LONG_DAYS * DAY_S * 1000;
  let t0 = performance.now();
  for (let d = 0; d < LONG_DAYS; d++) {
    const n = DAY_S;
    const ts = new Array<number>(n);
    const values = new Array<number>(n);
    for (let s = 0; s < n; s++) {
      const sec = d * DAY_S + s;
      ts[s] = LONG_FROM + sec * 1000;
      values[s] = 50 + 40 * Math.sin(sec / 3600) + Math.random();
    }
    store.insertBatch({
      count: n,
      tagIds: new Array<number>(n).fill(longId),
      ts,
      values,
      quality: new Array<number>(n).fill(Quality.GOOD),
    });
  }
  const seedS = (performance.now() - t0) / 1000;
  const longQueries = new HistoryQueries(longEngine, repo, new Historian(longEngine, repo, systemClock), systemClock);
  const longTag = longEngine.require(longDef.name);
  const longQ: HistoryQuery = {
    from: LONG_FROM,
    to: LONG_TO,
    limit: 1000,
    order: 'asc',
    intervalMs: 3_600_000,
    aggregate: 'avg',
    boundingValues: false,
  };
  const trend: number[] = [];
  const trendRaw: number[] = [];
  let answer: unknown;
  let rawAnswer: unknown;
  // Interleaved rounds (min of each): a busy machine disturbs both alike.
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    const r = await longQueries.query(longTag, longQ);
    trend.push(performance.now() - t0);
    answer = r.items.map((b) => (b as { value: number }).value);
    t0 = performance.now();
    const series = await repo.series(longId, LONG_FROM, LONG_TO);
    rawAnswer = bucketize(series, AGGREGATES.avg, { from: LONG_FROM, to: LONG_TO, intervalMs: 3_600_000, horizon: LONG_TO }).map(
      (b) => b.value,
    );
    trendRaw.push(performance.now() - t0);
  }
  const same = (answer as number[]).every((v, k) => Math.abs(v - (rawAnswer as number[])[k]!) <= 1e-9 * Math.abs(v));
  if ((answer as number[]).length !== LONG_DAYS * 24 || !same) throw new Error('the 30-day trend differs from the raw answer');
  const trendMin = Math.min(...trend);
  const trendRawMin = Math.min(...trendRaw);

  const p50 = percentile(avg, 50);
  const base50 = percentile(bare, 50);
  report('history-query', [
    {
      name: '1 day of 1 s data → 1 min avg (p50)',
      value: p50,
      unit: 'ms',
      ratio: p50 / base50,
      baseline: 'bare SELECT of the same 86,400 rows (.raw().all())',
      target: '<= 50 ms',
    },
    { name: '… p95', value: percentile(avg, 95), unit: 'ms' },
    { name: 'baseline bare SELECT (p50)', value: base50, unit: 'ms' },
    ...Object.entries(others).map(([a, v]) => ({ name: `1 day → 1 min ${a} (p50)`, value: v, unit: 'ms' })),
    { name: 'raw page of 1,000 with bounding values (p50)', value: percentile(rawPage, 50), unit: 'ms' },
    {
      name: '1 day raw (86,400) streamed as JSON via HistoryService (p50)',
      value: percentile(streamedTimes, 50),
      unit: 'ms',
      ratio: percentile(streamedTimes, 50) / percentile(whole, 50),
      baseline: 'the same answer as one result + one JSON.stringify (before streaming)',
    },
    { name: '1 day raw as one result + JSON.stringify (p50)', value: percentile(whole, 50), unit: 'ms' },
    {
      name: `${LONG_DAYS} days of 1 s data (one tag) → 1 h avg, HistoryQueries (min of 3)`,
      value: trendMin,
      unit: 'ms',
      ratio: trendMin / trendRawMin,
      baseline: 'the same buckets from all raw samples (series + bucketize)',
      target: '<= 1000 ms',
    },
    { name: `… from raw samples (min of 3)`, value: trendRawMin, unit: 'ms' },
    { name: `writing the ${LONG_DAYS} days, a day per insertBatch`, value: seedS, unit: 's' },
  ]);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
