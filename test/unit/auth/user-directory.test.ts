import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { openSqliteStorage, type SqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';

const erin = { username: 'erin', displayName: 'Erin', passwordHash: 'h', groups: ['viewers'], disabled: false, source: 'local' as const };

describe('UserDirectory and SessionService over the repositories', () => {
  let dir: string;
  let storage: SqliteStorage;
  let users: UserDirectory;
  let clock: ManualClock;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-users-'));
    storage = openSqliteStorage({ dataDir: dir });
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    users = new UserDirectory(storage.users, [], pino({ level: 'silent' }));
    await storage.users.upsert(erin);
    await users.load();
  });
  afterEach(async () => {
    users.stop();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves users from memory and writes through', async () => {
    expect(users.get('erin')).toMatchObject({ displayName: 'Erin' });
    await users.upsertLocal({ ...erin, username: 'dora' });
    expect(users.list().map((u) => u.username)).toEqual(['dora', 'erin']);
    expect(await storage.users.get('dora')).toBeDefined();
    expect(await users.delete('dora')).toBe(true);
    expect(users.get('dora')).toBeUndefined();
    expect(await storage.users.get('dora')).toBeUndefined();
  });

  it('notices a user disabled by another process (the CLI) and ends the sessions', async () => {
    const sessions = new SessionService(storage.sessions, users, clock);
    await sessions.load();
    const { token } = sessions.create('erin', '127.0.0.1');
    expect(sessions.authenticate(token)?.username).toBe('erin');
    const changed = new Promise<string | undefined>((resolve) => users.onChange(resolve));
    const cli = openSqliteStorage({ dataDir: dir });
    await cli.users.upsert({ ...erin, disabled: true });
    await cli.close();
    expect(await changed).toBe('erin');
    expect(users.get('erin')!.disabled).toBe(true);
    expect(sessions.authenticate(token)).toBeUndefined();
  });

  it('keeps sessions across a restart: written through, loaded at start; revoked ones stay gone', async () => {
    const a = new SessionService(storage.sessions, users, clock);
    await a.load();
    const kept = a.create('erin', '127.0.0.1');
    const revoked = a.create('erin', '127.0.0.1');
    a.revoke(revoked.record.tokenHash);
    await a.flush();
    const b = new SessionService(storage.sessions, users, clock);
    await b.load();
    expect(b.authenticate(kept.token)?.sessionId).toBe(kept.record.tokenHash);
    expect(b.authenticate(revoked.token)).toBeUndefined();
    // Expired sessions are not loaded.
    clock.advance(b.settings.absoluteLifetimeMs);
    const c = new SessionService(storage.sessions, users, clock);
    await c.load();
    expect(c.authenticate(kept.token)).toBeUndefined();
    expect(await c.prune()).toBe(1);
  });

  it('holds at most maxSessions: a new session ends the oldest, in memory and in storage', async () => {
    const s = new SessionService(storage.sessions, users, clock, { idleTimeoutMs: 60_000, absoluteLifetimeMs: 3_600_000, maxSessions: 2 });
    await s.load();
    const first = s.create('erin', '127.0.0.1');
    const second = s.create('erin', '127.0.0.1');
    const third = s.create('erin', '127.0.0.1');
    await s.flush();
    expect(s.authenticate(first.token)).toBeUndefined();
    expect(s.authenticate(second.token)).toBeDefined();
    expect(s.authenticate(third.token)).toBeDefined();
    expect(await storage.sessions.get(first.record.tokenHash)).toBeUndefined();
  });

  it('revoking every session of a user but one keeps that one stored', async () => {
    const s = new SessionService(storage.sessions, users, clock);
    await s.load();
    const keep = s.create('erin', '127.0.0.1');
    const other = s.create('erin', '127.0.0.1');
    s.revokeUser('erin', keep.record.tokenHash);
    await s.flush();
    expect(s.authenticate(other.token)).toBeUndefined();
    expect(await storage.sessions.get(keep.record.tokenHash)).toBeDefined();
    expect(await storage.sessions.get(other.record.tokenHash)).toBeUndefined();
  });
});
