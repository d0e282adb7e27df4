import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { summarize } from '../../../src/domain/history/rollup.js';
import { seriesOf, type StoredValue } from '../../../src/domain/history/series.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { keyOrder, SqliteHistoryStore } from '../../../src/storage/sqlite/history-store.js';
import { SeriesTooLarge } from '../../../src/storage/history-repository.js';

let dir: string;
let db: Database;
let store: SqliteHistoryStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-hist-'));
  db = openDatabase(join(dir, 'tagway.db'));
  store = new SqliteHistoryStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function insert(tagId: number, rows: [number, StoredValue, number?][]): void {
  store.insertBatch({
    count: rows.length,
    tagIds: rows.map(() => tagId),
    ts: rows.map((r) => r[0]),
    values: rows.map((r) => r[1]),
    quality: rows.map((r) => r[2] ?? 0xc0),
  });
}

describe('SqliteHistoryStore', () => {
  it('keeps tag ids across reopening and never mixes tags', () => {
    const a = store.tagId('Tank1.Level');
    const b = store.tagId('Line1/Filler Speed [rpm]');
    expect(a).not.toBe(b);
    expect(store.tagId('Tank1.Level')).toBe(a);
    db.close();
    db = openDatabase(join(dir, 'tagway.db'));
    store = new SqliteHistoryStore(db);
    expect(store.findTagId('Tank1.Level')).toBe(a);
    expect(store.findTagId('nope')).toBeUndefined();
    expect(store.listTags().map((t) => t.name)).toEqual(['Tank1.Level', 'Line1/Filler Speed [rpm]']);
  });

  it('stores numbers, 64-bit decimal strings and text as given; a second sample at the same ms replaces the first', () => {
    const id = store.tagId('x');
    insert(id, [
      [1, 1.5],
      [2, '9007199254740993'],
      [3, 'text "quoted", with comma'],
      [4, 0.1 + 0.2, 0x08],
      [4, 7],
    ]);
    const page = store.raw(id, { from: 0, to: 10, limit: 10, order: 'asc' });
    expect(page.samples).toEqual([
      { ts: 1, value: 1.5, quality: 0xc0 },
      { ts: 2, value: '9007199254740993', quality: 0xc0 },
      { ts: 3, value: 'text "quoted", with comma', quality: 0xc0 },
      { ts: 4, value: 7, quality: 0xc0 },
    ]);
    expect(page.next).toBeNull();
    const s = store.series(id, 0, 10);
    expect(Array.from(s.values)).toEqual([1.5, '9007199254740993', 'text "quoted", with comma', 7]);
  });

  it('inserts large batches (multi-row statements plus a remainder) exactly', () => {
    const id = store.tagId('big');
    const n = 1234;
    insert(
      id,
      Array.from({ length: n }, (_, i) => [i * 10, Math.sin(i)] as [number, number]),
    );
    const s = store.series(id, 0, n * 10);
    expect(s.length).toBe(n);
    for (let i = 0; i < n; i++) {
      expect(s.ts[i]).toBe(i * 10);
      expect(s.values[i]).toBe(Math.sin(i));
    }
  });

  it('pages raw samples with a keyset cursor in both directions; from inclusive, to exclusive', () => {
    const id = store.tagId('p');
    const other = store.tagId('q');
    insert(
      id,
      Array.from({ length: 25 }, (_, i) => [1000 + i, i] as [number, number]),
    );
    insert(other, [[1005, 99]]);
    const collect = (order: 'asc' | 'desc') => {
      const seen: number[] = [];
      let after: number | undefined;
      for (;;) {
        const page = store.raw(id, { from: 1002, to: 1020, limit: 7, order, after });
        seen.push(...page.samples.map((x) => x.ts));
        if (page.next === null) break;
        after = page.next;
      }
      return seen;
    };
    const asc = Array.from({ length: 18 }, (_, i) => 1002 + i);
    expect(collect('asc')).toEqual(asc);
    expect(collect('desc')).toEqual([...asc].reverse());
    // A cursor outside the range (from another query) still answers only the range.
    const ts = (q: { order: 'asc' | 'desc'; after: number }) =>
      store.raw(id, { from: 1002, to: 1020, limit: 3, ...q }).samples.map((x) => x.ts);
    expect(ts({ order: 'asc', after: 900 })).toEqual([1002, 1003, 1004]);
    expect(ts({ order: 'asc', after: 1002 })).toEqual([1003, 1004, 1005]);
    expect(ts({ order: 'asc', after: 1019 })).toEqual([]);
    expect(ts({ order: 'desc', after: 5000 })).toEqual([1019, 1018, 1017]);
    expect(ts({ order: 'desc', after: 1019 })).toEqual([1018, 1017, 1016]);
    expect(ts({ order: 'desc', after: 1002 })).toEqual([]);
  });

  it('series starts with the last sample before from; neighbours are found', () => {
    const id = store.tagId('s');
    insert(id, [
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
    ]);
    const s = store.series(id, 25, 40);
    expect(Array.from(s.ts)).toEqual([20, 30]);
    expect(store.series(id, 0, 15).length).toBe(1);
    expect(store.series(id, 100, 200).length).toBe(1);
    expect(store.lastBefore(id, 30)).toEqual({ ts: 20, value: 2, quality: 0xc0 });
    expect(store.firstAtOrAfter(id, 30)).toEqual({ ts: 30, value: 3, quality: 0xc0 });
    expect(store.firstAtOrAfter(id, 41)).toBeUndefined();
  });

  it('series refuses a range over its budget (SeriesTooLarge), and answers one at the budget', () => {
    const id = store.tagId('budget');
    insert(id, [
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
    ]);
    expect(() => store.series(id, 15, 50, 2)).toThrow(SeriesTooLarge);
    expect(Array.from(store.series(id, 15, 50, 3).ts)).toEqual([10, 20, 30, 40]);
  });

  it('series reads qualities other than GOOD exactly where they are, including the sample before from', () => {
    const id = store.tagId('qual');
    insert(id, [
      [5, 0, 0x08],
      [10, 1],
      [20, 2, 0x44],
      [30, 3],
      [40, 4, 0x00],
      [50, 5],
    ]);
    const s = store.series(id, 10, 60);
    expect(Array.from(s.ts)).toEqual([5, 10, 20, 30, 40, 50]);
    expect(Array.from(s.quality)).toEqual([0x08, 0xc0, 0x44, 0xc0, 0x00, 0xc0]);
    expect(Array.from(s.values)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('prunes the oldest samples below the cut-off in bounded batches, one tag at a time', () => {
    const id = store.tagId('r');
    const other = store.tagId('o');
    insert(
      id,
      Array.from({ length: 100 }, (_, i) => [i, i] as [number, number]),
    );
    insert(
      other,
      Array.from({ length: 100 }, (_, i) => [i, i] as [number, number]),
    );
    expect(store.prune(id, 55, 20)).toBe(20);
    expect(store.lastBefore(id, 20)).toBeUndefined();
    expect(store.firstAtOrAfter(id, 0)?.ts).toBe(20);
    expect(store.prune(id, 55, 20)).toBe(20);
    expect(store.prune(id, 55, 20)).toBe(15);
    expect(store.prune(id, 55, 20)).toBe(0);
    expect(store.firstAtOrAfter(id, 0)?.ts).toBe(55);
    expect(store.series(other, 0, 100).length).toBe(100);
  });

  it('summarises history written before roll-ups existed once, on the first open after the migration', () => {
    const a = store.tagId('A');
    const T = Date.UTC(2026, 0, 1);
    insert(
      a,
      Array.from({ length: 300 }, (_, i): [number, StoredValue, number?] => [T + i * 1300, i % 17, i % 9 ? 0xc0 : 0]),
    );
    const kept = store.rollups(a, 0, 2 ** 52);
    expect(kept).toHaveLength(7);
    // As if the samples had been written by a version without roll-ups: the migration created an empty table.
    db.exec('DELETE FROM history_rollup; UPDATE history_rollup_state SET backfilled = 0');
    db.close();
    db = openDatabase(join(dir, 'tagway.db'));
    store = new SqliteHistoryStore(db);
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(kept);
    // Samples written behind the store's back (SQL) are summarised by rebuildRollups.
    db.prepare('INSERT INTO history (tag_id, ts, value, quality) VALUES (?, ?, ?, ?)').run(a, T + 3_600_000, 5, 0xc0);
    expect(store.rollups(a, T + 3_600_000, T + 3_660_000)).toEqual([]);
    store.rebuildRollups();
    expect(store.rollups(a, T + 3_600_000, T + 3_660_000)).toMatchObject([{ count: 1, firstValue: 5, lastValue: 5 }]);
  });

  it("keeps each tag's latest minute in memory, yet answers and reopens with roll-ups equal to the samples", () => {
    const a = store.tagId('A');
    const T = Date.UTC(2026, 0, 1);
    const fresh = () => summarize(seriesOf(store.raw(a, { from: 0, to: 2 ** 52, limit: 100_000, order: 'asc' }).samples));
    for (let k = 0; k < 5; k++)
      insert(
        a,
        Array.from({ length: 10 }, (_, i): [number, StoredValue, number?] => [T + (k * 10 + i) * 1000, k * 10 + i]),
      );
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(fresh());
    // The table's row of the latest minute is behind (written when the tag moves on): a crash loses the newer one...
    const row = () => db.prepare('SELECT count FROM history_rollup WHERE tag_id = ? AND minute = ?').pluck().get(a, T);
    expect(row()).not.toBe(50);
    db.close();
    // ...and the next open summarises that minute again.
    db = openDatabase(join(dir, 'tagway.db'));
    store = new SqliteHistoryStore(db);
    expect(row()).toBe(50);
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(fresh());
    // Moving on to the next minute writes the previous one.
    insert(a, [[T + 61_000, 1]]);
    insert(a, [[T + 59_500, 2]]);
    expect(row()).toBe(51);
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(fresh());
  });

  it("writes inside a caller's unit of work through, whether it commits or rolls back", () => {
    const a = store.tagId('A');
    const T = Date.UTC(2026, 0, 1);
    const fresh = () => summarize(seriesOf(store.raw(a, { from: 0, to: 2 ** 52, limit: 100_000, order: 'asc' }).samples));
    insert(a, [
      [T + 1000, 1],
      [T + 2000, 2],
    ]);
    expect(() =>
      db.transaction(() => {
        insert(a, [
          [T + 3000, 3],
          [T + 61_000, 4],
        ]);
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(fresh());
    insert(a, [[T + 4000, 5]]);
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(fresh());
    db.transaction(() => insert(a, [[T + 5000, 6]]))();
    insert(a, [[T + 6000, 7]]);
    expect(store.rollups(a, 0, 2 ** 52)).toEqual(fresh());
    expect(store.rollups(a, 0, 2 ** 52)).toMatchObject([{ count: 5, min: 1, max: 7 }]);
  });
});

describe('keyOrder', () => {
  // The counting sort (tag runs ascending in time) and its fallback both give the comparison sort's order.
  it('is the order of a sort by (tag, ts, index), for batches in and out of time order', () => {
    const sample = fc.record({ tag: fc.integer({ min: 1, max: 6 }), ts: fc.integer({ min: 0, max: 8 }) });
    const batch = fc.oneof(
      fc.array(sample, { maxLength: 60 }),
      // Each tag's samples ascending in time (the historian's case), ties included.
      fc.array(sample, { maxLength: 60 }).map((xs) => {
        const seen = new Map<number, number>();
        return xs.map((x) => {
          const t = Math.max(seen.get(x.tag) ?? 0, x.ts);
          seen.set(x.tag, t);
          return { tag: x.tag, ts: t };
        });
      }),
    );
    fc.assert(
      fc.property(batch, (xs) => {
        const tagIds = xs.map((x) => x.tag);
        const ts = xs.map((x) => x.ts);
        const want = xs.map((_, i) => i).sort((a, b) => tagIds[a]! - tagIds[b]! || ts[a]! - ts[b]! || a - b);
        expect([...keyOrder(xs.length, tagIds, ts)]).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});
