import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { SessionService } from '../../src/auth/sessions.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sqliteDatabaseForTests } from '../../src/storage/sqlite/open-sqlite.js';

/**
 * Issue 11, finding 2 (auth part): on a full disk every session-authenticated read answered 500, because the
 * session's "last seen" write (`touch()`) threw inside authentication. That write is metadata: a failure is
 * logged (rate-limited) and the session keeps working from memory.
 */
describe('a failed session touch never fails an authenticated read', () => {
  let s: TestServer;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    s = await startTestServer({ clock });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('keeps serving reads on a full disk and while the session write fails; writes again when space returns', async () => {
    const token = await s.login('viewer', 'viewer-password');
    const db = sqliteDatabaseForTests(s.server.runtime.storage);
    const lastSeen = (t: string) =>
      (db.prepare('SELECT last_seen_at AS t FROM sessions WHERE token_hash = ?').get(SessionService.hashToken(t)) as { t: number }).t;
    const pages = db.pragma('page_count', { simple: true }) as number;
    // The disk is full: nothing that needs a new page can be written any more.
    db.pragma(`max_page_count = ${pages}`);
    // And the session's own row cannot be updated (what a full disk does to the WAL; max_page_count alone spares
    // an in-place update, so the fault is injected for that statement).
    db.exec(`CREATE TEMP TRIGGER touch_fault BEFORE UPDATE OF last_seen_at ON main.sessions
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;
             CREATE TEMP TRIGGER delete_fault BEFORE DELETE ON main.sessions
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    const before = lastSeen(token);
    try {
      for (let i = 0; i < 5; i++) {
        clock.advance(61_000); // past the touch period, so each read tries to write
        const me = await s.request('GET', '/users/current', { token });
        expect(me.status).toBe(200);
        const v = await s.request('GET', `/tags/${encodeURIComponent('T.Limited')}/value`, { token });
        expect(v.status).toBe(200);
      }
      expect(lastSeen(token)).toBe(before);
      // The failed write did not shorten the session in memory: the sliding idle timeout still counts from now.
      expect(Date.parse((await s.request('GET', '/users/current', { token })).json.sessionExpiresAt)).toBeGreaterThan(clock.now());
      // A session that expires meanwhile is refused with 401 (its row cannot be deleted: still no 500).
      clock.advance(31 * 60_000);
      const expired = await s.request('GET', '/users/current', { token });
      expect(expired.status).toBe(401);
      expect((await s.request('GET', '/users/current', { token })).status).toBe(401);
    } finally {
      db.exec('DROP TRIGGER temp.touch_fault; DROP TRIGGER temp.delete_fault');
      db.pragma(`max_page_count = 1073741823`);
    }
    // Space is back: a new session's last-seen time is written again.
    const fresh = await s.login('viewer', 'viewer-password');
    clock.advance(61_000);
    expect((await s.request('GET', '/users/current', { token: fresh })).status).toBe(200);
    expect(lastSeen(fresh)).toBe(clock.now());
  }, 30_000);
});
