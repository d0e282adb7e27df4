import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { openDatabase } from '../../../src/storage/sqlite/database.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

// The hot path finds a token's session by its first characters and a constant-time comparison instead of a
// SHA-256 per request: every way a session ends must still refuse the token, and a token that merely shares the
// indexed prefix must never be taken for the session.
describe('SessionService token index', () => {
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
    const repo = new SqliteSessionRepository(db);
    const settings = { idleTimeoutMs: 60_000, absoluteLifetimeMs: 3_600_000 };
    const sessions = new SessionService(repo, users, clock, settings);
    return { users, clock, sessions, repo, settings };
  }

  it('refuses a token that shares the indexed prefix but not the rest', async () => {
    const w = await world();
    const a = w.sessions.create('ann', '127.0.0.1');
    expect(w.sessions.authenticate(a.token)?.username).toBe('ann');
    const last = a.token.at(-1) === 'A' ? 'B' : 'A';
    expect(w.sessions.authenticate(a.token.slice(0, -1) + last)).toBeUndefined();
    expect(w.sessions.authenticate(a.token.slice(0, 12))).toBeUndefined();
    expect(w.sessions.authenticate(a.token + 'x')).toBeUndefined();
    expect(w.sessions.authenticate(a.token)?.username).toBe('ann');
  });

  it('refuses a token after logout, refresh, user revocation and expiry, though it was indexed', async () => {
    const w = await world();
    const a = w.sessions.create('ann', '127.0.0.1');
    expect(w.sessions.authenticate(a.token)).toBeDefined();
    w.sessions.revoke(a.record.tokenHash, 'logout');
    expect(w.sessions.authenticate(a.token)).toBeUndefined();

    const b = w.sessions.create('ann', '127.0.0.1');
    expect(w.sessions.authenticate(b.token)).toBeDefined();
    const renewed = w.sessions.refresh(b.record.tokenHash, '127.0.0.1')!;
    expect(w.sessions.authenticate(b.token)).toBeUndefined();
    expect(w.sessions.authenticate(renewed.token)?.username).toBe('ann');

    const c = w.sessions.create('bob', '127.0.0.1');
    expect(w.sessions.authenticate(c.token)).toBeDefined();
    w.sessions.revokeUser('bob');
    expect(w.sessions.authenticate(c.token)).toBeUndefined();

    w.clock.advance(60_000);
    expect(w.sessions.authenticate(renewed.token)).toBeUndefined();
    await w.sessions.prune();
  });

  it('finds sessions loaded after a restart by their hash, then by the index', async () => {
    const w = await world();
    const a = w.sessions.create('ann', '127.0.0.1');
    await w.sessions.flush();
    const again = new SessionService(w.repo, w.users, w.clock, w.settings);
    await again.load();
    expect(again.authenticate(a.token)?.username).toBe('ann');
    expect(again.authenticate(a.token)?.username).toBe('ann');
    again.revoke(a.record.tokenHash);
    expect(again.authenticate(a.token)).toBeUndefined();
  });
});
