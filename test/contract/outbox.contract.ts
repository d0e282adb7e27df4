import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxRepository } from '../../src/storage/outbox-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

export function describeOutboxRepositoryContract(name: string, factory: FixtureFactory<OutboxRepository>): void {
  describe(`OutboxRepository contract: ${name}`, () => {
    let f: Fixture<OutboxRepository>;
    let outbox: OutboxRepository;
    beforeEach(async () => {
      f = await factory();
      outbox = f.repo;
    });
    afterEach(() => f.close());

    it('enqueues in order with ascending ids; entries start pending with no attempts', async () => {
      expect(await outbox.enqueue([], 0)).toEqual([]);
      const ids = await outbox.enqueue(
        [
          { topic: 'erp', payload: { order: 1 } },
          { topic: 'erp', payload: [1, 'two'], notBefore: 500 },
        ],
        100,
      );
      expect(ids).toHaveLength(2);
      expect(ids[1]!).toBeGreaterThan(ids[0]!);
      expect(await outbox.get(ids[0]!)).toEqual({
        id: ids[0],
        topic: 'erp',
        payload: { order: 1 },
        status: 'pending',
        attempts: 0,
        createdAt: 100,
        nextAttemptAt: 100,
        lastError: null,
        deliveredAt: null,
      });
      expect((await outbox.get(ids[1]!))!.nextAttemptAt).toBe(500);
      expect(await outbox.get(987_654)).toBeUndefined();
    });

    it('claims only due entries of the topic, oldest first, at most `limit`, and leases them', async () => {
      const [a, b, c] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 'a' },
          { topic: 'erp', payload: 'b' },
          { topic: 'erp', payload: 'c', notBefore: 10_000 },
        ],
        0,
      );
      await outbox.enqueue([{ topic: 'other', payload: 'x' }], 0);
      const first = await outbox.claimDue('erp', 1000, 1, 30_000);
      expect(first.map((e) => e.id)).toEqual([a]);
      expect(first[0]!.nextAttemptAt).toBe(31_000);
      // Leased: a second sender does not get it until the lease ran out.
      expect((await outbox.claimDue('erp', 1000, 10, 30_000)).map((e) => e.id)).toEqual([b]);
      expect(await outbox.claimDue('erp', 1000, 10, 30_000)).toEqual([]);
      // Due order: the longest waiting first (c since 10,000; a and b since their leases ran out at 31,000).
      expect((await outbox.claimDue('erp', 31_000, 10, 30_000)).map((e) => e.id)).toEqual([c, a, b]);
    });

    it('marks delivered (counting the attempt) and failed (retry later, or dead); unknown or settled ids answer false', async () => {
      const [a, b, c] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 1 },
          { topic: 'erp', payload: 2 },
          { topic: 'erp', payload: 3 },
        ],
        0,
      );
      expect(await outbox.markDelivered(a!, 50)).toBe(true);
      expect(await outbox.get(a!)).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: 50 });
      expect(await outbox.markDelivered(a!, 60)).toBe(false);
      expect(await outbox.markFailed(a!, 'late', 70)).toBe(false);

      expect(await outbox.markFailed(b!, 'HTTP 503', 5000)).toBe(true);
      expect(await outbox.get(b!)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 503', nextAttemptAt: 5000 });
      expect((await outbox.claimDue('erp', 4999, 10, 10_000)).map((e) => e.id)).toEqual([c]);
      expect((await outbox.claimDue('erp', 6000, 10, 1000)).map((e) => e.id)).toEqual([b]);

      expect(await outbox.markFailed(c!, 'rejected: bad order', null)).toBe(true);
      expect(await outbox.get(c!)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'rejected: bad order' });
      // Delivered and dead entries are never claimed again; only b is still pending.
      expect((await outbox.claimDue('erp', 1e12, 10, 1000)).map((e) => e.id)).toEqual([b]);
      expect(await outbox.markDelivered(424_242, 1)).toBe(false);
    });

    it('lists ascending by id, filtered by topic and status, keyset-paged', async () => {
      const ids = await outbox.enqueue(
        Array.from({ length: 5 }, (_, i) => ({ topic: i % 2 ? 'b' : 'a', payload: i })),
        0,
      );
      await outbox.markDelivered(ids[0]!, 1);
      expect((await outbox.list()).map((e) => e.payload)).toEqual([0, 1, 2, 3, 4]);
      expect((await outbox.list({ topic: 'a' })).map((e) => e.payload)).toEqual([0, 2, 4]);
      expect((await outbox.list({ topic: 'a', status: 'pending' })).map((e) => e.payload)).toEqual([2, 4]);
      const page1 = await outbox.list({ limit: 2 });
      expect(page1.map((e) => e.payload)).toEqual([0, 1]);
      expect((await outbox.list({ limit: 2, afterId: page1[1]!.id })).map((e) => e.payload)).toEqual([2, 3]);
    });

    it('prunes delivered entries delivered before a time, and nothing else', async () => {
      const [a, b, c] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 1 },
          { topic: 'erp', payload: 2 },
          { topic: 'erp', payload: 3 },
        ],
        0,
      );
      await outbox.markDelivered(a!, 100);
      await outbox.markDelivered(b!, 200);
      expect(await outbox.pruneDelivered(200)).toBe(1);
      expect((await outbox.list()).map((e) => e.id)).toEqual([b, c]);
    });

    it('enqueues a key once per topic, answering the existing id', async () => {
      const [a] = await outbox.enqueue([{ topic: 'erp', payload: 1, key: 'r/1', group: 'r' }], 0);
      const [b, c, d] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 2, key: 'r/1' },
          { topic: 'other', payload: 3, key: 'r/1' },
          { topic: 'erp', payload: 4, key: 'r/2', group: 'r' },
        ],
        0,
      );
      expect(b).toBe(a);
      expect(c).not.toBe(a);
      expect((await outbox.get(a!))!.payload).toBe(1);
      expect((await outbox.list({ group: 'r' })).map((e) => e.id)).toEqual([a, d]);
    });

    it('claims the head of a topic in id order, only when due, with the entries behind it', async () => {
      expect(await outbox.claimHead('erp', 0, 1000)).toBeUndefined();
      const [a, b, c, d] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 'a', notBefore: 500 },
          { topic: 'erp', payload: 'b' },
          { topic: 'erp', payload: 'c' },
          { topic: 'erp', payload: 'd' },
        ],
        0,
      );
      await outbox.enqueue([{ topic: 'other', payload: 'x' }], 0);
      // b is due but a is older: in-order senders wait for a.
      expect(await outbox.claimHead('erp', 100, 1000)).toMatchObject({ leased: [], head: { id: a, nextAttemptAt: 500 } });
      const first = await outbox.claimHead('erp', 500, 1000);
      expect(first!.head.id).toBe(a);
      expect(first!.leased.map((e) => [e.id, e.nextAttemptAt])).toEqual([[a, 1500]]);
      // Leased: the head is not due again until the lease ran out.
      expect(await outbox.claimHead('erp', 600, 1000)).toMatchObject({ leased: [], head: { id: a } });
      await outbox.markDelivered(a!, 700);
      const batch = await outbox.claimHead('erp', 700, 1000, 2);
      expect(batch!.leased.map((e) => [e.id, e.nextAttemptAt])).toEqual([
        [b, 1700],
        [c, 1700],
      ]);
      // b fails and waits; c (leased, never tried) is not taken before b, and d only behind them.
      await outbox.markFailed(b!, 'HTTP 503', 5000);
      expect((await outbox.claimHead('erp', 800, 1000, 10))!.leased).toEqual([]);
      const again = await outbox.claimHead('erp', 5000, 1000, 10);
      expect(again!.leased.map((e) => e.id)).toEqual([b, c, d]);
    });

    it('stops a head batch at an entry that waits for its retry', async () => {
      const [a, b] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 'a' },
          { topic: 'erp', payload: 'b' },
        ],
        0,
      );
      await outbox.markFailed(b!, 'HTTP 503', 9000);
      expect((await outbox.claimHead('erp', 10, 1000, 10))!.leased.map((e) => e.id)).toEqual([a]);
    });

    it('marks several entries delivered in one write, skipping settled and unknown ones', async () => {
      const [a, b, c] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 1 },
          { topic: 'erp', payload: 2 },
          { topic: 'erp', payload: 3 },
        ],
        0,
      );
      await outbox.markFailed(c!, 'refused', null);
      expect(await outbox.markDeliveredMany([])).toBe(0);
      expect(
        await outbox.markDeliveredMany([
          { id: a!, at: 10, attempt: { at: 10, status: 200, answer: 'ok' } },
          { id: b!, at: 11 },
          { id: c!, at: 12 },
          { id: 987_654, at: 13 },
          { id: a!, at: 14, attempt: { at: 14, status: 200, answer: 'again' } },
        ]),
      ).toBe(2);
      expect(await outbox.get(a!)).toMatchObject({ status: 'delivered', deliveredAt: 10, attempts: 1 });
      expect(await outbox.get(b!)).toMatchObject({ status: 'delivered', deliveredAt: 11 });
      expect((await outbox.get(c!))!.status).toBe('dead');
      expect(await outbox.attemptsOf(a!)).toEqual([{ at: 10, status: 200, answer: 'ok' }]);
    });

    it('claims a window of 300 head entries in one call and settles them in one write, attempts numbered and trimmed', async () => {
      const ids = await outbox.enqueue(
        Array.from({ length: 301 }, (_, i) => ({ topic: 'erp', payload: i, key: `k${i}` })),
        0,
      );
      await outbox.enqueue([{ topic: 'other', payload: 'x' }], 0);
      // The first entry has a long history: its delivery's attempt record is the 56th, and the oldest are trimmed.
      for (let i = 0; i < 55; i++) await outbox.markFailed(ids[0]!, 'HTTP 503', 0, { at: i, status: 503, answer: '' });
      const claim = (await outbox.claimHead('erp', 10, 1000, 300))!;
      expect(claim.leased.map((e) => e.id)).toEqual(ids.slice(0, 300));
      expect(claim.leased.every((e) => e.nextAttemptAt === 1010)).toBe(true);
      // Leased in storage too, the 301st not.
      expect((await outbox.get(ids[299]!))!.nextAttemptAt).toBe(1010);
      expect((await outbox.get(ids[300]!))!.nextAttemptAt).toBe(0);
      expect((await outbox.claimDue('erp', 500, 1000, 1000)).map((e) => e.id)).toEqual([ids[300]]);
      const n = await outbox.markDeliveredMany(
        claim.leased.map((e, i) => ({ id: e.id, at: 100 + i, attempt: { at: 100 + i, status: 200, answer: `ok ${i}` } })),
      );
      expect(n).toBe(300);
      expect(await outbox.get(ids[150]!)).toMatchObject({ status: 'delivered', deliveredAt: 250, attempts: 1 });
      expect(await outbox.attemptsOf(ids[150]!)).toEqual([{ at: 250, status: 200, answer: 'ok 150' }]);
      const first = await outbox.attemptsOf(ids[0]!);
      expect(first).toHaveLength(50);
      expect(first.at(-1)).toEqual({ at: 100, status: 200, answer: 'ok 0' });
      expect(first[0]!.at).toBe(6);
      expect((await outbox.get(ids[0]!))!.attempts).toBe(56);
      // Settling again changes nothing and records nothing.
      expect(await outbox.markDeliveredMany([{ id: ids[1]!, at: 999, attempt: { at: 999, status: 200, answer: '' } }])).toBe(0);
      expect(await outbox.attemptsOf(ids[1]!)).toHaveLength(1);
    });

    it('releases leased entries without counting an attempt; settled, other topics and earlier due times untouched', async () => {
      const [a, b, c, d] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 1 },
          { topic: 'erp', payload: 2 },
          { topic: 'erp', payload: 3 },
          { topic: 'x', payload: 4 },
        ],
        0,
      );
      await outbox.markFailed(b!, 'HTTP 503', 10);
      const claim = (await outbox.claimHead('erp', 20, 1000, 10))!;
      expect(claim.leased.map((e) => e.id)).toEqual([a, b, c]);
      await outbox.markFailed(a!, 'HTTP 503', 5000, { at: 20, status: 503, answer: '' });
      await outbox.claimDue('x', 20, 10, 1000);
      expect(await outbox.release('erp', [b!, c!, d!], 30)).toBe(2);
      expect(await outbox.get(b!)).toMatchObject({ nextAttemptAt: 30, attempts: 1 });
      expect(await outbox.get(c!)).toMatchObject({ nextAttemptAt: 30, attempts: 0 });
      expect((await outbox.get(d!))!.nextAttemptAt).toBe(1020);
      // Brought forward, never pushed later; a settled entry is left alone.
      expect(await outbox.release('erp', [b!], 100)).toBe(0);
      expect(await outbox.release('erp', [a!], 30)).toBe(1);
      await outbox.markDelivered(c!, 40);
      expect(await outbox.release('erp', [b!, c!], 40)).toBe(0);
      expect(await outbox.release('erp', [], 0)).toBe(0);
      expect((await outbox.claimHead('erp', 40, 1000, 10))!.leased.map((e) => e.id)).toEqual([a, b]);
    });

    it('records attempts with their outcome, the newest kept, answers cut to 1 KB', async () => {
      const [a] = await outbox.enqueue([{ topic: 'erp', payload: 1 }], 0);
      expect(await outbox.markFailed(a!, 'HTTP 503', 100, { at: 10, status: 503, answer: 'x'.repeat(5000) })).toBe(true);
      expect(await outbox.markFailed(a!, 'timeout', 200, { at: 20, status: null, answer: 'timeout after 10 s' })).toBe(true);
      expect(await outbox.markDelivered(a!, 30, { at: 30, status: 201, answer: '{}' })).toBe(true);
      // Settled: a late outcome records no attempt.
      expect(await outbox.markFailed(a!, 'late', 1, { at: 40, status: 500, answer: '' })).toBe(false);
      const attempts = await outbox.attemptsOf(a!);
      expect(attempts.map((x) => [x.at, x.status, x.answer.length])).toEqual([
        [10, 503, 1024],
        [20, null, 18],
        [30, 201, 2],
      ]);
      const [b] = await outbox.enqueue([{ topic: 'erp', payload: 2 }], 0);
      for (let i = 0; i < 60; i++) await outbox.markFailed(b!, 'x', 1, { at: i, status: 500, answer: '' });
      const kept = await outbox.attemptsOf(b!);
      expect(kept).toHaveLength(50);
      expect(kept[0]!.at).toBe(10);
      expect((await outbox.get(b!))!.attempts).toBe(60);
      expect(await outbox.attemptsOf(987_654)).toEqual([]);
    });

    it('requeues dead entries, discards pending ones, and counts per topic, status and tried', async () => {
      const [a, b, c] = await outbox.enqueue(
        [
          { topic: 'erp', payload: 1 },
          { topic: 'erp', payload: 2 },
          { topic: 'x', payload: 3 },
        ],
        0,
      );
      await outbox.markFailed(a!, '400 Bad Request', null);
      await outbox.markFailed(b!, '503', 10);
      expect(await outbox.counts()).toEqual([
        { topic: 'erp', status: 'dead', attempted: true, count: 1 },
        { topic: 'erp', status: 'pending', attempted: true, count: 1 },
        { topic: 'x', status: 'pending', attempted: false, count: 1 },
      ]);
      expect((await outbox.list({ attempted: false })).map((e) => e.id)).toEqual([c]);
      expect(await outbox.requeue(b!, 5)).toBe(false);
      expect(await outbox.requeue(a!, 5)).toBe(true);
      expect(await outbox.get(a!)).toMatchObject({ status: 'pending', nextAttemptAt: 5, attempts: 1 });
      expect(await outbox.discard(c!, 'discarded by admin')).toBe(true);
      expect(await outbox.get(c!)).toMatchObject({ status: 'dead', lastError: 'discarded by admin', attempts: 0 });
      expect(await outbox.discard(c!, 'again')).toBe(false);
      expect(await outbox.requeue(424_242, 0)).toBe(false);
    });

    it('keeps entries across a reopen', async () => {
      if (!f.reopen) return;
      const [a] = await outbox.enqueue([{ topic: 'erp', payload: { n: 1 } }], 0);
      outbox = await f.reopen();
      expect((await outbox.get(a!))!.payload).toEqual({ n: 1 });
    });
  });
}
