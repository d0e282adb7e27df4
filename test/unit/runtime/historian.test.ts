import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Quality } from '../../../src/domain/quality.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { Historian, type HistorianOptions } from '../../../src/runtime/historian.js';
import type { HistorySpec, TagDefinition } from '../../../src/domain/tag-definition.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import type { SqliteHistoryStore } from '../../../src/storage/sqlite/history-store.js';
import { SqliteHistoryRepository } from '../../../src/storage/sqlite/sqlite-history-repository.js';

const GOOD = Quality.GOOD;
const T0 = Date.UTC(2026, 0, 1); // a multiple of every interval used below

/** Counts live timers, to check that cyclic logging uses one timer per distinct interval. */
class CountingClock extends ManualClock {
  intervals = new Set<unknown>();
  override setInterval(fn: () => void, ms: number): unknown {
    const h = super.setInterval(fn, ms);
    this.intervals.add(h);
    return h;
  }
  override clearInterval(h: unknown): void {
    this.intervals.delete(h);
    super.clearInterval(h);
  }
}

let dir: string;
let db: Database;
let repo: SqliteHistoryRepository;
/** The repository's synchronous core, for reading back in assertions. */
let store: SqliteHistoryStore;
/** Lets the historian's asynchronous writes (already done by SQLite) settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
let clock: CountingClock;
let engine: TagEngine;
let historian: Historian;

function tag(name: string, history: HistorySpec | undefined, type: TagDefinition['type'] = 'Float64'): TagDefinition {
  return { name, type, access: 'readwrite', connection: 'internal', history };
}

function setup(defs: TagDefinition[], opts: HistorianOptions = {}): void {
  engine = new TagEngine(defs, clock);
  historian = new Historian(engine, repo, clock, { flushIntervalMs: 1000, ...opts });
}

function stored(name: string) {
  const id = store.findTagId(name);
  if (id === undefined) return [];
  return store.raw(id, { from: 0, to: 8.64e15, limit: 100_000, order: 'asc' }).samples;
}

const idx = (name: string) => engine.require(name).index;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-historian-'));
  db = openDatabase(join(dir, 'tagway.db'));
  repo = new SqliteHistoryRepository(db);
  store = repo.store;
  clock = new CountingClock(T0);
});
afterEach(async () => {
  await historian?.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Historian', () => {
  it('logs the state at start, then changes beyond the deadband (against the last logged value)', async () => {
    setup([tag('A', { mode: 'onChange', deadband: 0.5 }), tag('NoHistory', undefined)]);
    historian.start();
    const a = idx('A');
    for (const [dt, v] of [
      [10, 10],
      [20, 10.2],
      [30, 10.6],
      [40, 10.7],
      [50, 11.2],
      [60, 10.9],
    ] as const) {
      engine.update(a, v, GOOD, T0 + dt);
    }
    engine.update(idx('NoHistory'), 5, GOOD);
    clock.advance(1000);
    await settle();
    expect(stored('A').map((s) => [s.ts - T0, s.value, s.quality])).toEqual([
      [0, 0, Quality.UNCERTAIN_INITIAL_VALUE],
      [10, 10, GOOD],
      [30, 10.6, GOOD],
      [50, 11.2, GOOD],
    ]);
    expect(store.findTagId('NoHistory')).toBeUndefined();
    expect(historian.logs(engine.require('NoHistory'))).toBe(false);
  });

  it('logs quality changes even when the value stays, in every mode', async () => {
    setup([tag('On', { mode: 'onChange', deadband: 100 }), tag('Cyc', { mode: 'cyclic', intervalMs: 60_000 })]);
    historian.start();
    for (const name of ['On', 'Cyc']) {
      engine.update(idx(name), 1, GOOD, T0 + 1);
      engine.setQuality(idx(name), Quality.BAD_NOT_CONNECTED, T0 + 2);
      engine.setQuality(idx(name), GOOD, T0 + 3);
    }
    await historian.flush();
    expect(stored('On').map((s) => [s.ts - T0, s.value, s.quality])).toEqual([
      [0, 0, 0x4c],
      [1, 1, GOOD],
      [2, 1, 0x08],
      [3, 1, GOOD],
    ]);
    // Cyclic: the value change itself waits for the next tick, the quality changes do not.
    expect(stored('Cyc').map((s) => [s.ts - T0, s.value, s.quality])).toEqual([
      [0, 0, 0x4c],
      [1, 1, GOOD],
      [2, 1, 0x08],
      [3, 1, GOOD],
    ]);
  });

  it('logs cyclic tags on aligned ticks with one timer per distinct interval; both = cyclic plus changes', async () => {
    clock = new CountingClock(T0 + 300);
    setup(
      [
        tag('C1', { mode: 'cyclic', intervalMs: 1000 }),
        tag('C2', { mode: 'cyclic', intervalMs: 1000 }),
        tag('C5', { mode: 'cyclic', intervalMs: 5000 }),
        tag('B', { mode: 'both', intervalMs: 5000 }),
      ],
      { flushIntervalMs: 60_000 },
    );
    historian.start();
    engine.update(idx('B'), 7, GOOD, T0 + 1500);
    clock.advance(10_000 - 300);
    await settle();
    // Timers: flush, prune, and one per interval (1 s and 5 s) — not one per tag.
    expect(clock.intervals.size).toBe(4);
    await historian.flush();
    const ticks = (name: string) =>
      stored(name)
        .slice(1)
        .map((s) => s.ts - T0);
    expect(ticks('C1')).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(ticks('C2')).toEqual(ticks('C1'));
    expect(ticks('C5')).toEqual([5000, 10_000]);
    expect(stored('B').map((s) => [s.ts - T0, s.value])).toEqual([
      [300, 0],
      [1500, 7],
      [5000, 7],
      [10_000, 7],
    ]);
    await historian.stop();
    expect(clock.intervals.size).toBe(0);
  });

  it('flushes by timer, by size, and on stop', async () => {
    setup([tag('A', { mode: 'onChange' })], { flushIntervalMs: 1000, flushMaxValues: 5 });
    historian.start();
    const a = idx('A');
    engine.update(a, 1, GOOD, T0 + 1);
    expect(stored('A')).toHaveLength(0);
    clock.advance(1000);
    await settle();
    expect(stored('A')).toHaveLength(2);
    for (let i = 2; i <= 6; i++) engine.update(a, i, GOOD, T0 + 1000 + i);
    expect(stored('A')).toHaveLength(2); // not written inside the change listener…
    clock.advance(0);
    await settle();
    expect(stored('A')).toHaveLength(7); // …but on the next turn
    engine.update(a, 99, GOOD, T0 + 1500);
    await historian.stop();
    expect(stored('A').at(-1)?.value).toBe(99);
    expect(historian.stats()).toMatchObject({ tags: 1, written: 8, buffered: 0, dropped: 0 });
  });

  it('keeps samples while storage fails, drops and counts new ones beyond the bound, recovers', async () => {
    setup([tag('A', { mode: 'onChange' })], { maxBufferedValues: 10 });
    historian.start();
    db.pragma('query_only = 1'); // every write now fails in SQLite itself
    for (let i = 1; i <= 14; i++) engine.update(idx('A'), i, GOOD, T0 + i);
    clock.advance(1000);
    await settle();
    expect(historian.stats()).toMatchObject({ buffered: 10, dropped: 5, written: 0, failedFlushes: 1 });
    expect(historian.stats().lastError).toBeDefined();
    db.pragma('query_only = 0');
    clock.advance(1000);
    await settle();
    expect(historian.stats()).toMatchObject({ buffered: 0, dropped: 5, written: 10, lastError: undefined });
    expect(stored('A').map((s) => s.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('stores Bool as 1/0 and text as text', async () => {
    setup([tag('Flag', { mode: 'onChange' }, 'Bool'), tag('Txt', { mode: 'onChange' }, 'String')]);
    historian.start();
    engine.update(idx('Flag'), true, GOOD, T0 + 1);
    engine.update(idx('Txt'), 'running', GOOD, T0 + 1);
    await historian.flush();
    expect(stored('Flag').map((s) => s.value)).toEqual([0, 1]);
    expect(stored('Txt').map((s) => s.value)).toEqual(['', 'running']);
  });

  it('prunes per-tag and global retention in the background, including tags that left the project', async () => {
    const DAY = 86_400_000;
    const now = T0 + 10 * DAY;
    clock = new CountingClock(now);
    const old = (name: string) => {
      const id = store.tagId(name);
      store.insertBatch({
        count: 10,
        tagIds: Array(10).fill(id),
        ts: Array.from({ length: 10 }, (_, i) => now - (i + 0.5) * DAY),
        values: Array(10).fill(1),
        quality: Array(10).fill(GOOD),
      });
    };
    old('Short');
    old('Default');
    old('Gone');
    setup([tag('Short', { mode: 'onChange', retentionDays: 2 }), tag('Default', { mode: 'onChange' })], {
      defaultRetentionDays: 5,
      pruneBatchRows: 3,
      pruneIntervalMs: 3_600_000,
    });
    historian.start();
    expect(await historian.prune()).toBe(8 + 5 + 5);
    await historian.flush();
    const ages = (name: string) =>
      stored(name)
        .map((s) => (now - s.ts) / DAY)
        .filter((d) => d > 0);
    expect(ages('Short')).toEqual([1.5, 0.5]);
    expect(ages('Default')).toEqual([4.5, 3.5, 2.5, 1.5, 0.5]);
    expect(ages('Gone')).toEqual([4.5, 3.5, 2.5, 1.5, 0.5]);
    // The timer runs the same pass: a day later another day has expired everywhere.
    clock.advance(DAY);
    await settle();
    await new Promise((r) => setTimeout(r, 50));
    await historian.prune();
    expect(historian.stats().pruned).toBe(18 + 3);
  });
});
