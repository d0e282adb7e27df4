import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { SESSION_SYNC_GRACE_MS, SessionSync } from '../../../src/cluster/session-sync.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { EventBus, type TagwayEvents } from '../../../src/runtime/event-bus.js';
import { MAX_PRESENT_QUERY, type SessionRepository } from '../../../src/storage/session-repository.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

// Two nodes' session services on one shared database (SQLite here; the PostgreSQL query is in the contract tests).
describe('SessionSync: a node forgets the sessions whose row is gone', () => {
  const dirs: string[] = [];
  const dbs: Database[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function cluster() {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-session-sync-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'tagway.db'));
    dbs.push(db);
    const store = new SqliteSessionRepository(db);
    const users = new UserDirectory(new SqliteUserRepository(db), [], pino({ level: 'silent' }));
    await users.upsertLocal({ username: 'ann', displayName: 'ann', passwordHash: 'x', groups: [], disabled: false, source: 'local' });
    const settings = { idleTimeoutMs: 3_600_000, absoluteLifetimeMs: 7_200_000, maxSessions: 5000 };
    const node = () => {
      const clock = new ManualClock();
      const events = new EventBus();
      const revoked: Array<TagwayEvents['session.revoked']> = [];
      events.on('session.revoked', (e) => revoked.push(e));
      return { clock, revoked, sessions: new SessionService(store, users, clock, settings, events) };
    };
    return { store, a: node(), b: node() };
  }

  const logger = () => {
    const lines: Array<{ level: string; msg: string; o: object }> = [];
    return {
      lines,
      info: (o: object, msg: string) => lines.push({ level: 'info', msg, o }),
      warn: (o: object, msg: string) => lines.push({ level: 'warn', msg, o }),
    };
  };

  function syncOf(b: { sessions: SessionService; clock: ManualClock }, store: Pick<SessionRepository, 'present'>, log = logger()) {
    return new SessionSync(
      b.sessions,
      store,
      (h) => b.sessions.forget(h, 'revoked'),
      () => b.clock.now(),
      log,
    );
  }

  it('forgets a session ended on another node once its grace is over, and only that one', async () => {
    const { store, a, b } = await cluster();
    const ended = a.sessions.create('ann', '192.0.2.1');
    const kept = a.sessions.create('ann', '192.0.2.1');
    b.sessions.adopt(ended.record);
    b.sessions.adopt(kept.record);
    await a.sessions.flush();
    a.sessions.revoke(ended.record.tokenHash, 'logout'); // the announcement B misses
    await a.sessions.flush();
    const log = logger();
    const sync = syncOf(b, store, log);

    // Too young: its row might still be on its way.
    await sync.run();
    expect(b.sessions.authenticate(ended.token)).toBeDefined();

    b.clock.advance(SESSION_SYNC_GRACE_MS);
    await sync.run();
    expect(b.sessions.authenticate(ended.token)).toBeUndefined();
    expect(b.sessions.authenticate(kept.token)?.username).toBe('ann');
    // Announced on B (its live channels close), as a NATS revocation would be.
    expect(b.revoked).toEqual([{ sessionId: ended.record.tokenHash, username: 'ann', reason: 'revoked' }]);
    expect(log.lines).toEqual([expect.objectContaining({ level: 'info', o: { sessions: 1 } })]);
  });

  it("keeps a session whose row comes back before the second look (a password change re-inserting the caller's)", async () => {
    const { store, a, b } = await cluster();
    const s = a.sessions.create('ann', '192.0.2.1');
    b.sessions.adopt(s.record);
    await a.sessions.flush();
    b.clock.advance(SESSION_SYNC_GRACE_MS);
    a.sessions.revokeUser('ann', s.record.tokenHash);
    // The first look sees no row; the row is back before the second.
    let looks = 0;
    const racing: Pick<SessionRepository, 'present'> = {
      present: async (hashes) => (++looks === 1 ? [] : store.present(hashes)),
    };
    await a.sessions.flush();
    await syncOf(b, racing).run();
    expect(looks).toBe(2);
    expect(b.sessions.authenticate(s.token)?.username).toBe('ann');
    expect(b.revoked).toEqual([]);
  });

  it('asks in chunks of at most MAX_PRESENT_QUERY, and a failed check forgets nothing and does not throw', async () => {
    const { store, a, b } = await cluster();
    const made = Array.from({ length: MAX_PRESENT_QUERY + 5 }, () => a.sessions.create('ann', '192.0.2.1'));
    for (const m of made) b.sessions.adopt(m.record);
    await a.sessions.flush();
    b.clock.advance(SESSION_SYNC_GRACE_MS);
    const sizes: number[] = [];
    await syncOf(b, { present: (h) => (sizes.push(h.length), store.present(h)) }).run();
    expect(sizes).toEqual([MAX_PRESENT_QUERY, 5]);

    const log = logger();
    await syncOf(b, { present: () => Promise.reject(new Error('database unreachable')) }, log).run();
    expect(b.sessions.authenticate(made[0]!.token)).toBeDefined();
    expect(log.lines).toEqual([expect.objectContaining({ level: 'warn', o: { err: 'database unreachable' } })]);
  });
});
