import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredValue } from '../../src/domain/history/series.js';
import type { HistoryRepository } from '../../src/storage/history-repository.js';
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
  });
}
