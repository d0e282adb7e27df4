import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/domain/audit/chain.js';
import type { AuditRepository, NewAuditEntry } from '../../src/storage/audit-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const entry = (i: number, over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  action: i % 3 === 0 ? 'auth.login' : 'tag.write',
  user: i % 2 ? 'alice' : 'bob',
  clientAddress: '127.0.0.1',
  target: `T${i}`,
  details: i % 4 === 0 ? null : `{"i":${i}}`,
  result: 'OK',
  ...over,
});

export function describeAuditRepositoryContract(name: string, factory: FixtureFactory<AuditRepository>): void {
  describe(`AuditRepository contract: ${name}`, () => {
    let f: Fixture<AuditRepository>;
    let audit: AuditRepository;
    beforeEach(async () => {
      f = await factory();
      audit = f.repo;
    });
    afterEach(() => f.close());

    const fill = async (n: number) => audit.appendMany(Array.from({ length: n }, (_, i) => entry(i + 1)));

    it('an empty trail: no rows, an intact chain, an empty page', async () => {
      expect(await audit.count()).toBe(0);
      expect(await audit.verify()).toMatchObject({ firstBad: null, checked: 0 });
      expect(await audit.query()).toEqual({ items: [], next: null });
      expect(await audit.appendMany([])).toEqual([]);
    });

    it('appends rows with consecutive ids, each chained onto the one before', async () => {
      const one = await audit.append(entry(1));
      expect(one).toMatchObject({ ...entry(1), id: 1 });
      const more = await audit.appendMany([entry(2), entry(3), entry(4)]);
      expect(more.map((r) => r.id)).toEqual([2, 3, 4]);
      expect(more[0]!.prevHash).toBe(one.hash);
      expect(more[2]!.prevHash).toBe(more[1]!.hash);
      expect(verifyChain([one, ...more])).toBeNull();
      expect(await audit.count()).toBe(4);
      expect(await audit.verify()).toMatchObject({ firstBad: null, checked: 4, headHash: more[2]!.hash });
    });

    it('appends a large batch (a group commit) in order, chained, and it verifies', async () => {
      await audit.append(entry(0));
      const rows = await audit.appendMany(Array.from({ length: 150 }, (_, i) => entry(i + 1)));
      expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 150 }, (_, i) => i + 2));
      expect(rows.map((r) => r.target)).toEqual(Array.from({ length: 150 }, (_, i) => entry(i + 1).target));
      const page = await audit.query({ order: 'asc', limit: 200 });
      expect(page.items.slice(1)).toEqual(rows);
      expect(await audit.verify()).toMatchObject({ firstBad: null, checked: 151, headHash: rows[149]!.hash });
    });

    it('pages newest first by default and oldest first on request, stable while rows arrive', async () => {
      await fill(10);
      expect((await audit.query()).items.map((r) => r.id)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      const seen: number[] = [];
      let page = await audit.query({ limit: 3, order: 'asc' });
      seen.push(...page.items.map((r) => r.id));
      await fill(2);
      while (page.next) {
        page = await audit.query({ limit: 3, order: 'asc', cursor: page.next });
        seen.push(...page.items.map((r) => r.id));
      }
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const desc = await audit.query({ limit: 5 });
      expect(desc.items.map((r) => r.id)).toEqual([12, 11, 10, 9, 8]);
      expect((await audit.query({ limit: 5, cursor: desc.next! })).items.map((r) => r.id)).toEqual([7, 6, 5, 4, 3]);
    });

    it('the last page has no next cursor; limits are clamped to at least 1', async () => {
      await fill(3);
      expect((await audit.query({ limit: 3 })).next).toBeNull();
      expect((await audit.query({ limit: 0 })).items).toHaveLength(1);
    });

    it('filters by time range (from inclusive, to exclusive), user and actions', async () => {
      await fill(12);
      const at = (i: number) => entry(i).at;
      expect((await audit.query({ from: at(3), to: at(6), order: 'asc' })).items.map((r) => r.id)).toEqual([3, 4, 5]);
      expect((await audit.query({ user: 'alice' })).items.every((r) => r.user === 'alice')).toBe(true);
      expect((await audit.query({ action: 'auth.login' })).items.map((r) => r.id)).toEqual([12, 9, 6, 3]);
      expect((await audit.query({ action: ['auth.login', 'tag.write'] })).items).toHaveLength(12);
      expect((await audit.query({ action: [] })).items).toHaveLength(12);
      expect((await audit.query({ user: 'nobody' })).items).toEqual([]);
    });

    it('refuses a cursor that is not one with a RangeError', async () => {
      await expect(audit.query({ cursor: 'garbage!' })).rejects.toThrow(RangeError);
    });

    it('keeps one chain across a reopen', async () => {
      if (!f.reopen) return;
      await fill(2);
      audit = await f.reopen();
      await audit.append(entry(3));
      expect(await audit.verify()).toMatchObject({ firstBad: null, checked: 3 });
    });
  });
}
