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

    it('keeps entries across a reopen', async () => {
      if (!f.reopen) return;
      const [a] = await outbox.enqueue([{ topic: 'erp', payload: { n: 1 } }], 0);
      outbox = await f.reopen();
      expect((await outbox.get(a!))!.payload).toEqual({ n: 1 });
    });
  });
}
