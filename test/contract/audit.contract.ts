import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, verifyChain } from '../../src/domain/audit/chain.js';
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

    describe('the tag filter', () => {
      // The shapes the trail records for writes (src/runtime/audit.ts, src/services/tag-service.ts), as canonical JSON.
      const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
      const single = (s: number, tag: string, over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
        ...entry(s),
        action: 'tag.write',
        target: tag,
        details: canonicalJson({ newValue: s, oldValue: 0 }),
        ...over,
      });
      const bulk = (s: number, names: readonly string[], over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
        ...entry(s),
        action: 'tag.write',
        target: null,
        details: canonicalJson({ items: names.map((name) => ({ name, newValue: s, oldValue: 0 })) }),
        result: 'OK',
        ...over,
      });
      const refused = (s: number, names: readonly string[]): NewAuditEntry => ({
        ...entry(s),
        action: 'tag.write',
        target: null,
        details: canonicalJson({
          refused: names.length + 3,
          items: names.map((name) => ({ name, code: 'FORBIDDEN', newValue: 1 })),
          omitted: 3,
        }),
        result: 'FORBIDDEN',
      });
      const ids = async (q: Parameters<AuditRepository['query']>[0]) => (await audit.query(q)).items.map((r) => r.id);

      it('finds single writes on the tag, bulk writes and refused bulk writes listing it, and nothing else', async () => {
        await audit.appendMany([
          single(1, 'A.B'), // 1
          single(2, 'A.BC'), // 2
          bulk(3, ['X', 'A.B', 'Y']), // 3
          bulk(4, ['A.BC', 'a.b', 'A.B ', ' A.B', 'xA.B']), // 4: near misses only
          refused(5, ['Z', 'A.B']), // 5
          { ...entry(6), action: 'auth.login', target: null, details: canonicalJson({ name: 'A.B' }) }, // 6: not an item
          bulk(7, ['Q'], { details: canonicalJson({ items: [{ name: 'Q', newValue: { name: 'A.B' }, oldValue: '"name":"A.B"' }] }) }), // 7: in values
          bulk(8, ['Q'], { details: canonicalJson({ items: [{ name: 'Q', error: 'wrote "name":"A.B"' }] }) }), // 8: in a message
          single(9, 'A.B', { result: 'FORBIDDEN', details: canonicalJson({ newValue: 3 }) }), // 9: a single refused write
          bulk(10, ['A.B'], { target: 'other' }), // 10: has a target, and it is another
          { ...entry(11), target: null, details: null }, // 11
          { ...entry(12), target: null, details: canonicalJson({ items: ['A.B', 5, null, [{ name: 'A.B' }]] }) }, // 12: no item objects
          { ...entry(13), target: null, details: canonicalJson({ items: { name: 'A.B' } }) }, // 13: not a list
        ]);
        expect(await ids({ tag: 'A.B' })).toEqual([9, 5, 3, 1]);
        expect(await ids({ tag: 'A.BC' })).toEqual([4, 2]);
        expect(await ids({ tag: 'A.B ', order: 'asc' })).toEqual([4]);
        expect(await ids({ tag: 'a.b' })).toEqual([4]);
        expect(await ids({ tag: 'A' })).toEqual([]);
        expect(await ids({ tag: 'Q' })).toEqual([8, 7]);
        expect(await ids({ tag: 'other' })).toEqual([10]);
        expect(await ids({ tag: '' })).toEqual([]);
      });

      it('takes quotes, LIKE wildcards, backslashes and other characters literally', async () => {
        const odd = [
          `it's`,
          'say "hi"',
          '50%',
          'a_b',
          'a\\b',
          'a\\"b',
          '%',
          '_',
          '\\',
          "'; DROP TABLE audit_log; --",
          'Ünï/cödé 水',
          'line\nbreak',
          'tab\there',
        ];
        await audit.appendMany([
          ...odd.map((name, i) => single(i + 1, name)),
          ...odd.map((name, i) => bulk(i + 20, ['before', name, 'after'])),
          bulk(40, ['50x', 'aXb', 'a\\\\b', 'anything', 'itXs', 'say hi', 'ab', "it''s"]),
        ]);
        for (const [i, name] of odd.entries()) {
          expect(await ids({ tag: name, order: 'asc' }), name).toEqual([i + 1, odd.length + i + 1]);
        }
        expect(await ids({ tag: '%%' })).toEqual([]);
        expect(await audit.count()).toBe(odd.length * 2 + 1);
        expect(await audit.verify()).toMatchObject({ firstBad: null });
      });

      it('still reads rows whose values PostgreSQL JSON would refuse (NUL, lone surrogates)', async () => {
        await audit.appendMany([
          bulk(1, ['S'], { details: canonicalJson({ items: [{ name: 'S', newValue: 'x\u0000y', oldValue: 'AB\u0000\u0000' }] }) }),
          bulk(2, ['S'], { details: canonicalJson({ items: [{ name: 'S', newValue: '\ud800', oldValue: 'z\udfff' }] }) }),
          bulk(3, ['T'], { details: canonicalJson({ items: [{ name: 'T', newValue: '\u0000', oldValue: null }] }) }),
        ]);
        expect(await ids({ tag: 'S' })).toEqual([2, 1]);
        expect(await ids({ tag: 'T' })).toEqual([3]);
      });

      it('combines with from/to, user and action, and pages by id in both orders', async () => {
        const rows: NewAuditEntry[] = [];
        for (let s = 1; s <= 40; s++) {
          const user = s % 2 ? 'alice' : 'bob';
          // Every third row is about K (alternately on it and in a bulk write), the others about other tags, some near
          // misses, a few not tag writes at all.
          if (s % 3 === 0) rows.push(s % 2 ? single(s, 'K', { user }) : bulk(s, ['J', 'K'], { user }));
          else if (s % 5 === 0) rows.push({ ...entry(s), user, action: 'auth.login', target: 'K.login', details: null });
          else rows.push(bulk(s, ['K.1', 'KK', `k`], { user }));
        }
        await audit.appendMany(rows);
        const k = rows.flatMap((r, i) => (r.target === 'K' || r.details?.includes('"name":"K"') ? [i + 1] : []));
        expect(k).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39]);
        expect(await ids({ tag: 'K', order: 'asc' })).toEqual(k);
        expect(await ids({ tag: 'K', from: at(6), to: at(21), order: 'asc' })).toEqual([6, 9, 12, 15, 18]);
        expect(await ids({ tag: 'K', user: 'bob' })).toEqual([36, 30, 24, 18, 12, 6]);
        expect(await ids({ tag: 'K', action: 'auth.login' })).toEqual([]);
        expect(await ids({ tag: 'K.login', action: ['auth.login', 'tag.write'] })).toEqual([40, 35, 25, 20, 10, 5]);
        expect(await ids({ tag: 'K', user: 'alice', from: at(10), to: at(40), action: 'tag.write', order: 'asc' })).toEqual([
          15, 21, 27, 33, 39,
        ]);
        for (const order of ['asc', 'desc'] as const) {
          for (const limit of [1, 2, 5, 13, 100]) {
            const seen: number[] = [];
            let page = await audit.query({ tag: 'K', order, limit });
            seen.push(...page.items.map((r) => r.id));
            while (page.next) {
              expect(page.items).toHaveLength(limit);
              page = await audit.query({ tag: 'K', order, limit, cursor: page.next });
              seen.push(...page.items.map((r) => r.id));
            }
            expect(seen, `${order} ${limit}`).toEqual(order === 'asc' ? k : [...k].reverse());
          }
        }
        // A page that ends on the last match has no next cursor, whatever follows that is not about the tag.
        expect((await audit.query({ tag: 'K', order: 'asc', limit: 13 })).next).toBeNull();
        const third = await audit.query({ tag: 'K', from: at(10), limit: 2 });
        expect(third.items.map((r) => r.id)).toEqual([39, 36]);
        expect((await audit.query({ tag: 'K', from: at(10), limit: 2, cursor: third.next! })).items.map((r) => r.id)).toEqual([33, 30]);
      });

      it('pages through a trail where most rows hold the name only inside a value', async () => {
        // Rows that pass a text search on the name but list no such item must not end a page early.
        const decoy = (s: number) =>
          bulk(s, ['D'], { details: canonicalJson({ items: [{ name: 'D', newValue: { name: 'M' }, oldValue: null }] }) });
        await audit.appendMany(Array.from({ length: 60 }, (_, i) => (i % 20 === 19 ? bulk(i + 1, ['M']) : decoy(i + 1))));
        for (const order of ['asc', 'desc'] as const) {
          const p1 = await audit.query({ tag: 'M', order, limit: 2 });
          expect(p1.items.map((r) => r.id)).toEqual(order === 'asc' ? [20, 40] : [60, 40]);
          const p2 = await audit.query({ tag: 'M', order, limit: 2, cursor: p1.next! });
          expect(p2).toEqual({ items: [expect.objectContaining({ id: order === 'asc' ? 60 : 20 })], next: null });
        }
      });
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
