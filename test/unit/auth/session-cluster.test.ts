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

// What a cluster link does with another node's sessions: adopt a new one, forget an ended one, slide the idle time.
describe('SessionService as one of several nodes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function node() {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-sessions-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'tagway.db'));
    const users = new UserDirectory(new SqliteUserRepository(db), [], pino({ level: 'silent' }));
    await users.upsertLocal({ username: 'ann', displayName: 'ann', passwordHash: 'x', groups: [], disabled: false, source: 'local' });
    const clock = new ManualClock();
    const events = new EventBus();
    const created: Array<TagwayEvents['session.created']> = [];
    const revoked: Array<TagwayEvents['session.revoked']> = [];
    const touched: Array<TagwayEvents['session.touched']> = [];
    events.on('session.created', (e) => created.push(e));
    events.on('session.revoked', (e) => revoked.push(e));
    events.on('session.touched', (e) => touched.push(e));
    const sessions = new SessionService(
      new SqliteSessionRepository(db),
      users,
      clock,
      { idleTimeoutMs: 120_000, absoluteLifetimeMs: 3_600_000 },
      events,
    );
    return { clock, sessions, created, revoked, touched };
  }

  it("adopts another node's session, slides its idle time from the other node's use, and forgets it when ended there", async () => {
    const a = await node();
    const b = await node();
    const { token, record } = a.sessions.create('ann', '127.0.0.1');
    expect(a.created).toEqual([{ record }]);
    expect(b.sessions.authenticate(token)).toBeUndefined();
    b.sessions.adopt(a.created[0]!.record);
    expect(b.sessions.authenticate(token)?.username).toBe('ann');
    expect(b.created).toEqual([]); // adopting is not announced again

    // Used on A only for longer than the idle timeout: A's saved last-seen times keep it alive on B.
    for (let i = 0; i < 3; i++) {
      a.clock.advance(61_000);
      b.clock.advance(61_000);
      expect(a.sessions.authenticate(token)).toBeDefined();
      for (const t of a.touched.splice(0)) b.sessions.touched(t.sessionId, t.lastSeenAt);
    }
    expect(b.sessions.authenticate(token)?.username).toBe('ann');

    b.sessions.forget(record.tokenHash, 'logout');
    expect(b.sessions.authenticate(token)).toBeUndefined();
    expect(b.revoked).toEqual([{ sessionId: record.tokenHash, username: 'ann', reason: 'logout' }]);
  });
});
