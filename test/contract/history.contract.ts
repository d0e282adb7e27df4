import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planRollups, summarize } from '../../src/domain/history/rollup.js';
import { seriesOf, type StoredValue } from '../../src/domain/history/series.js';
import { SeriesTooLarge, type HistoryRepository } from '../../src/storage/history-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const GOOD = 0xc0;

export function describeHistoryRepositoryContract(name: string, factory: FixtureFactory<HistoryRepository>): void {
  describe(`HistoryRepository contract: ${name}`, () => {
    let f: Fixture<HistoryRepository>;
    let h: HistoryRepository;
    beforeEach(async () => {
      f = await factory();
      h = f.repo;
    });
    afterEach(() => f.close());

    const put = (rows: Array<[number, number, StoredValue, number?]>) =>
      h.insertBatch({
        count: rows.length,
        tagIds: rows.map((r) => r[0]),
        ts: rows.map((r) => r[1]),
        values: rows.map((r) => r[2]),
        quality: rows.map((r) => r[3] ?? GOOD),
      });

    it('gives each name one stable id, created on first use', async () => {
      expect(await h.findTagId('A')).toBeUndefined();
      const a = await h.tagId('A');
      const b = await h.tagId('B');
      expect(b).not.toBe(a);
      expect(await h.tagId('A')).toBe(a);
      expect(await h.findTagId('A')).toBe(a);
      expect(await h.listTags()).toEqual([
        { id: a, name: 'A' },
        { id: b, name: 'B' },
      ]);
    });

    it('stores numbers, text and 64-bit decimal strings; a sample at an existing time replaces it', async () => {
      const a = await h.tagId('A');
      await put([
        [a, 10, 1.5],
        [a, 20, 'text'],
        [a, 30, '18446744073709551615', 0x08],
        [a, 10, 2.5],
      ]);
      expect((await h.raw(a, { from: 0, to: 100, limit: 10, order: 'asc' })).samples).toEqual([
        { ts: 10, value: 2.5, quality: GOOD },
        { ts: 20, value: 'text', quality: GOOD },
        { ts: 30, value: '18446744073709551615', quality: 0x08 },
      ]);
      await put([]);
    });

    it('pages raw samples in [from, to) both ways with an exclusive keyset cursor', async () => {
      const a = await h.tagId('A');
      const b = await h.tagId('B');
      await put(Array.from({ length: 10 }, (_, i): [number, number, StoredValue] => [a, i * 10, i]));
      await put([[b, 15, 99]]);
      const p1 = await h.raw(a, { from: 10, to: 80, limit: 3, order: 'asc' });
      expect(p1.samples.map((s) => s.ts)).toEqual([10, 20, 30]);
      expect(p1.next).toBe(30);
      const p2 = await h.raw(a, { from: 10, to: 80, limit: 3, order: 'asc', after: 30 });
      expect(p2.samples.map((s) => s.ts)).toEqual([40, 50, 60]);
      const p3 = await h.raw(a, { from: 10, to: 80, limit: 3, order: 'asc', after: 60 });
      expect(p3).toEqual({ samples: [{ ts: 70, value: 7, quality: GOOD }], next: null });
      const d1 = await h.raw(a, { from: 10, to: 80, limit: 4, order: 'desc' });
      expect(d1.samples.map((s) => s.ts)).toEqual([70, 60, 50, 40]);
      expect((await h.raw(a, { from: 10, to: 80, limit: 4, order: 'desc', after: d1.next! })).samples.map((s) => s.ts)).toEqual([
        30, 20, 10,
      ]);
      expect((await h.raw(b, { from: 0, to: 100, limit: 10, order: 'asc' })).samples).toHaveLength(1);
    });

    it('reads a series with the last sample before `from`, and the neighbours of a range', async () => {
      const a = await h.tagId('A');
      await put([
        [a, 5, 1],
        [a, 10, 2, 0x08],
        [a, 20, 3],
        [a, 30, 4],
      ]);
      const s = await h.series(a, 10, 30);
      expect(s.length).toBe(3);
      expect(Array.from(s.ts)).toEqual([5, 10, 20]);
      expect(Array.from(s.values)).toEqual([1, 2, 3]);
      expect(Array.from(s.quality)).toEqual([GOOD, 0x08, GOOD]);
      expect((await h.series(a, 0, 5)).length).toBe(0);
      expect(await h.lastBefore(a, 10)).toEqual({ ts: 5, value: 1, quality: GOOD });
      expect(await h.lastBefore(a, 5)).toBeUndefined();
      expect(await h.firstAtOrAfter(a, 20)).toEqual({ ts: 20, value: 3, quality: GOOD });
      expect(await h.firstAtOrAfter(a, 31)).toBeUndefined();
    });

    it('prunes the oldest samples before a time, at most `maxRows` at once, per tag', async () => {
      const a = await h.tagId('A');
      const b = await h.tagId('B');
      await put(Array.from({ length: 10 }, (_, i): [number, number, StoredValue] => [a, i, i]));
      await put([[b, 1, 1]]);
      expect(await h.prune(a, 7, 4)).toBe(4);
      expect(await h.prune(a, 7, 4)).toBe(3);
      expect(await h.prune(a, 7, 4)).toBe(0);
      expect((await h.raw(a, { from: 0, to: 100, limit: 100, order: 'asc' })).samples.map((s) => s.ts)).toEqual([7, 8, 9]);
      expect((await h.raw(b, { from: 0, to: 100, limit: 100, order: 'asc' })).samples).toHaveLength(1);
    });

    const M = 60_000;
    const T = Date.UTC(2026, 0, 9, 6);
    /** Everything a tag holds, summarised afresh: what its stored roll-ups must equal. */
    const fresh = async (tag: number) => {
      const all = await h.raw(tag, { from: 0, to: 2 ** 52, limit: 100_000, order: 'asc' });
      return summarize(seriesOf(all.samples));
    };

    it('keeps one roll-up per minute equal to a fresh summary of its samples, whatever the order of writes', async () => {
      const a = await h.tagId('A');
      const b = await h.tagId('B');
      let seed = 7;
      const rnd = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % n;
      };
      // In order, 1 s apart, across minutes; a counter that wraps, BAD and text samples among them.
      await put(Array.from({ length: 150 }, (_, i): [number, number, StoredValue, number?] => [a, T + i * 1000 + 13, (i * 7) % 50]));
      await put(
        Array.from({ length: 90 }, (_, i): [number, number, StoredValue, number?] => [
          a,
          T + 150_000 + i * 1000,
          i,
          i % 9 === 4 ? 0 : GOOD,
        ]),
      );
      expect(await h.rollups(a, 0, 2 ** 52)).toEqual(await fresh(a));
      // Out of order into summarised minutes, replacements of existing samples, a duplicate inside one batch, text.
      for (let round = 0; round < 6; round++) {
        const rows: Array<[number, number, StoredValue, number?]> = [];
        for (let k = 0; k < 40; k++) {
          const tag = rnd(3) === 0 ? b : a;
          const ts = T + rnd(300) * 1000 + (rnd(4) === 0 ? 13 : 500);
          rows.push([tag, ts, rnd(5) === 0 ? 'text' : rnd(100) - 20, rnd(6) === 0 ? 0x00 : rnd(6) === 0 ? 0x40 : GOOD]);
        }
        rows.push([a, rows[0]![1], 1234]);
        await put(rows);
        expect(await h.rollups(a, 0, 2 ** 52)).toEqual(await fresh(a));
        expect(await h.rollups(b, 0, 2 ** 52)).toEqual(await fresh(b));
      }
      // Appending after the last sample of a minute folds it in; the result is still the fresh summary.
      await put([[a, T + 299_999, 5]]);
      await put([[a, T + 300_000, 6]]);
      expect(await h.rollups(a, 0, 2 ** 52)).toEqual(await fresh(a));
      expect((await h.rollups(a, T + M, T + 2 * M)).map((r) => r.minute)).toEqual([T + M]);
    });

    it('reads a window as roll-ups of its whole minutes and raw samples of its edges, in one go', async () => {
      const a = await h.tagId('A');
      await put(Array.from({ length: 600 }, (_, i): [number, number, StoredValue, number?] => [a, T + i * 1000, i, i === 100 ? 0 : GOOD]));
      const plan = planRollups(T + 30_500, T + 9 * M + 1_000, [T + 4 * M + 30_000]);
      const rs = await h.rolledSeries(a, plan);
      // The sample before the window, then the edges and the minute split by the cut.
      expect(Array.from(rs.series.ts)).toEqual([
        T + 30_000,
        ...Array.from({ length: 29 }, (_, i) => T + 31_000 + i * 1000),
        ...Array.from({ length: 60 }, (_, i) => T + 4 * M + i * 1000),
        T + 9 * M,
      ]);
      expect(rs.rollups.map((r) => r.minute)).toEqual([T + M, T + 2 * M, T + 3 * M, T + 5 * M, T + 6 * M, T + 7 * M, T + 8 * M]);
      expect(rs.rollups[0]).toMatchObject({ count: 60, good: 59, firstTs: T + M, lastTs: T + M + 59_000, min: 60, max: 119, numLast: 119 });
      // Budget: rows read (8 roll-ups of [rollFrom, rollTo) + 90 raw samples), refused beyond.
      await expect(h.rolledSeries(a, plan, 97)).rejects.toBeInstanceOf(SeriesTooLarge);
      expect((await h.rolledSeries(a, plan, 98)).rollups).toHaveLength(7);
      // An unknown tag, or a window without data: nothing.
      expect((await h.rolledSeries(a, planRollups(T - 10 * M, T - M))).rollups).toEqual([]);
    });

    it('prunes roll-ups with their samples: minutes left empty lose theirs, a split minute is summarised again', async () => {
      const a = await h.tagId('A');
      await put(Array.from({ length: 300 }, (_, i): [number, number, StoredValue, number?] => [a, T + i * 1000, i]));
      expect(await h.prune(a, T + 90_500, 1000)).toBe(91);
      expect((await h.rollups(a, 0, 2 ** 52)).map((r) => r.minute)).toEqual([T + M, T + 2 * M, T + 3 * M, T + 4 * M]);
      expect(await h.rollups(a, 0, 2 ** 52)).toEqual(await fresh(a));
      expect(await h.prune(a, T + 10 * M, 30)).toBe(30);
      expect(await h.rollups(a, 0, 2 ** 52)).toEqual(await fresh(a));
      expect(await h.prune(a, T + 10 * M, 1000)).toBe(179);
      expect(await h.rollups(a, 0, 2 ** 52)).toEqual([]);
    });
  });
}
