import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateKeyError } from '../../src/storage/errors.js';
import { MAX_PRESENT_QUERY, type SessionRecord, type SessionRepository } from '../../src/storage/session-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const session = (tokenHash: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  tokenHash,
  username: 'erin',
  csrfToken: `csrf-${tokenHash}`,
  createdAt: 1000,
  lastSeenAt: 1000,
  absoluteExpiresAt: 100_000,
  clientAddress: '127.0.0.1',
  ...over,
});

export function describeSessionRepositoryContract(name: string, factory: FixtureFactory<SessionRepository>): void {
  describe(`SessionRepository contract: ${name}`, () => {
    let f: Fixture<SessionRepository>;
    let sessions: SessionRepository;
    beforeEach(async () => {
      f = await factory();
      sessions = f.repo;
    });
    afterEach(() => f.close());

    it('inserts and gets; an unknown hash is undefined; a taken hash is a DuplicateKeyError', async () => {
      expect(await sessions.get('h1')).toBeUndefined();
      await sessions.insert(session('h1'));
      expect(await sessions.get('h1')).toEqual(session('h1'));
      const err = await sessions.insert(session('h1', { username: 'mallory' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect((await sessions.get('h1'))!.username).toBe('erin');
    });

    it('touches the last-seen time; touching an unknown hash does nothing', async () => {
      await sessions.insert(session('h1'));
      await sessions.touch('h1', 5000);
      await sessions.touch('nope', 5000);
      expect((await sessions.get('h1'))!.lastSeenAt).toBe(5000);
      expect(await sessions.get('nope')).toBeUndefined();
    });

    it('deletes one session, and every session of one user (returning their hashes)', async () => {
      await sessions.insert(session('h1'));
      await sessions.insert(session('h2'));
      await sessions.insert(session('h3', { username: 'dora' }));
      await sessions.delete('h2');
      await sessions.delete('h2');
      expect(await sessions.get('h2')).toBeUndefined();
      await sessions.insert(session('h4'));
      expect((await sessions.deleteForUser('erin')).sort()).toEqual(['h1', 'h4']);
      expect(await sessions.deleteForUser('erin')).toEqual([]);
      expect(await sessions.get('h3')).toBeDefined();
    });

    it('tells which of a set of hashes still have a row, up to MAX_PRESENT_QUERY at once', async () => {
      await sessions.insert(session('h1'));
      await sessions.insert(session('h2'));
      await sessions.insert(session('h3'));
      await sessions.delete('h2');
      expect((await sessions.present(['h1', 'h2', 'h3', 'never'])).sort()).toEqual(['h1', 'h3']);
      expect(await sessions.present([])).toEqual([]);
      // Hashes are matched whole: neither a quote nor a prefix matches another row.
      expect(await sessions.present(["h1' OR '1'='1", 'h'])).toEqual([]);
      const many = Array.from({ length: MAX_PRESENT_QUERY }, (_, i) => (i === 500 ? 'h3' : `absent-${i}`));
      expect(await sessions.present(many)).toEqual(['h3']);
      await expect(sessions.present([...many, 'h1'])).rejects.toThrow(RangeError);
    });

    it('lists live sessions oldest first, at most `limit`, leaving out idle and expired ones', async () => {
      const idle = 1000;
      const now = 10_000;
      await sessions.insert(session('live-2', { createdAt: 2, lastSeenAt: now - 10 }));
      await sessions.insert(session('live-1', { createdAt: 1, lastSeenAt: now - 999 }));
      await sessions.insert(session('idle', { createdAt: 0, lastSeenAt: now - idle }));
      await sessions.insert(session('expired', { createdAt: 0, lastSeenAt: now, absoluteExpiresAt: now }));
      expect((await sessions.listLive(now, idle, 10)).map((s) => s.tokenHash)).toEqual(['live-1', 'live-2']);
      expect((await sessions.listLive(now, idle, 1)).map((s) => s.tokenHash)).toEqual(['live-1']);
    });

    it('deletes expired and idle sessions, counting them', async () => {
      const now = 10_000;
      await sessions.insert(session('live', { lastSeenAt: now - 10 }));
      await sessions.insert(session('idle', { lastSeenAt: now - 1000 }));
      await sessions.insert(session('expired', { lastSeenAt: now, absoluteExpiresAt: now }));
      expect(await sessions.deleteExpired(now, 1000)).toBe(2);
      expect(await sessions.deleteExpired(now, 1000)).toBe(0);
      expect(await sessions.get('live')).toBeDefined();
    });
  });
}
