import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { EventBus, type TagwayEvents } from '../../../src/runtime/event-bus.js';
import { openDatabase } from '../../../src/storage/sqlite/database.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

// Live channels end on `session.revoked` (runtime/push/revocation.ts): every way a session ends early says so.
describe('SessionService emits session.revoked', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function world() {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-sessions-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'tagway.db'));
    const users = new UserDirectory(new SqliteUserRepository(db), [], pino({ level: 'silent' }));
    for (const username of ['ann', 'bob'])
      await users.upsertLocal({ username, displayName: username, passwordHash: 'x', groups: [], disabled: false, source: 'local' });
    const clock = new ManualClock();
    const events = new EventBus();
    const seen: Array<TagwayEvents['session.revoked']> = [];
    events.on('session.revoked', (e) => seen.push(e));
    const sessions = new SessionService(
      new SqliteSessionRepository(db),
      users,
      clock,
      { idleTimeoutMs: 60_000, absoluteLifetimeMs: 3_600_000 },
      events,
    );
    return { users, clock, sessions, seen };
  }

  it('on logout, refresh and expiry, naming the session and the user', async () => {
    const w = await world();
    const a = w.sessions.create('ann', '127.0.0.1');
    w.sessions.revoke(a.record.tokenHash, 'logout');
    expect(w.seen).toEqual([{ sessionId: a.record.tokenHash, username: 'ann', reason: 'logout' }]);
    w.sessions.revoke(a.record.tokenHash); // already gone: nothing to announce
    expect(w.seen).toHaveLength(1);
    const b = w.sessions.create('ann', '127.0.0.1');
    const renewed = w.sessions.refresh(b.record.tokenHash, '127.0.0.1')!;
    expect(w.seen[1]).toEqual({ sessionId: b.record.tokenHash, username: 'ann', reason: 'refresh' });
    w.clock.advance(60_000);
    expect(w.sessions.authenticate(renewed.token)).toBeUndefined();
    expect(w.seen[2]).toEqual({ sessionId: renewed.record.tokenHash, username: 'ann', reason: 'expired' });
  });

  it('for every session of a user that is revoked, disabled or deleted, except the one kept', async () => {
    const w = await world();
    const a1 = w.sessions.create('ann', '127.0.0.1');
    const a2 = w.sessions.create('ann', '127.0.0.1');
    const b = w.sessions.create('bob', '127.0.0.1');
    w.sessions.revokeUser('ann', a1.record.tokenHash);
    expect(w.seen).toEqual([{ sessionId: a2.record.tokenHash, username: 'ann', reason: 'user' }]);
    expect(w.sessions.authenticate(a1.token)?.username).toBe('ann');
    await w.users.upsertLocal({ username: 'bob', displayName: 'bob', passwordHash: 'x', groups: [], disabled: true, source: 'local' });
    expect(w.seen[1]).toEqual({ sessionId: b.record.tokenHash, username: 'bob', reason: 'user' });
    await w.users.delete('ann');
    expect(w.seen[2]).toEqual({ sessionId: a1.record.tokenHash, username: 'ann', reason: 'user' });
  });
});
