import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { principalFromToken } from '../../../src/auth/principal-from-token.js';
import { hashPassword } from '../../../src/auth/passwords.js';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { TagwayError } from '../../../src/domain/problems.js';
import { BUILT_IN_GROUPS } from '../../../src/project/load.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import { EventBus, type TagwayEvents } from '../../../src/runtime/event-bus.js';
import { createLogger } from '../../../src/server/logger.js';
import { AuthService } from '../../../src/services/auth-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

describe('AuthService and principalFromToken', () => {
  let dir: string;
  let db: Database;
  let clock: ManualClock;
  let sessions: SessionService;
  let service: AuthService;
  let auditLog: SqliteAuditRepository;
  let revoked: Array<TagwayEvents['session.revoked']>;
  let events: EventBus;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-auth-svc-'));
    db = openDatabase(join(dir, 'tagway.db'));
    clock = new ManualClock();
    events = new EventBus();
    revoked = [];
    events.on('session.revoked', (e) => revoked.push(e));
    const users = new UserDirectory(new SqliteUserRepository(db), BUILT_IN_GROUPS, createLogger('silent'), events);
    await users.load();
    users.stop();
    await users.upsertLocal({
      username: 'ann',
      displayName: 'Ann',
      passwordHash: await hashPassword('Ann-Strong-Pass-1'),
      groups: ['admins'],
      disabled: false,
      source: 'local',
    });
    sessions = new SessionService(
      new SqliteSessionRepository(db),
      users,
      clock,
      { idleTimeoutMs: 30 * 60_000, absoluteLifetimeMs: 3_600_000 },
      events,
    );
    auditLog = new SqliteAuditRepository(db);
    service = new AuthService({
      login: async (u, p) => {
        const r = await users.verifyCredentials(u, p);
        if (!r) throw new TagwayError('UNAUTHENTICATED', 'Wrong user name or password');
        return r;
      },
      sessions,
      audit: new AuditTrail(auditLog, clock),
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const actorOf = (token: string) => ({ principal: sessions.authenticate(token)!, clientAddress: '192.0.2.1', via: 'rest' as const });

  it('login, refresh within the absolute lifetime, logout; each early end announced', async () => {
    const loginAt = clock.now();
    const s = await service.login({ clientAddress: '192.0.2.1' }, 'ann', 'Ann-Strong-Pass-1');
    expect(s.principal.username).toBe('ann');
    clock.advance(20 * 60_000);
    const r1 = await service.refresh(actorOf(s.token));
    clock.advance(20 * 60_000);
    const r2 = await service.refresh(actorOf(r1.token));
    // Seen 40 min after login with a 30 min idle timeout: the absolute end of the login (1 h) is the earlier one.
    expect(r2.expiresAt).toBe(loginAt + 3_600_000);
    // The absolute end of the first login (1 h) still holds after two refreshes.
    clock.advance(20 * 60_000);
    expect(sessions.authenticate(r2.token)).toBeUndefined();
    expect(() => principalFromToken({ sessions, security: { jwtPrincipal: async () => undefined as never } }, r2.token)).toThrow(
      /unknown, expired or revoked/,
    );
    const s2 = await service.login({ clientAddress: '192.0.2.1' }, 'ann', 'Ann-Strong-Pass-1');
    await service.logout(actorOf(s2.token));
    expect(sessions.authenticate(s2.token)).toBeUndefined();
    expect(revoked.map((e) => e.reason)).toEqual(['refresh', 'refresh', 'expired', 'logout']);
    expect((await auditLog.query({ order: 'asc' })).items.map((r) => r.action)).toEqual(['auth.refresh', 'auth.refresh', 'auth.logout']);
  });

  it('a logout answers only after the delivery of its announcement (the cluster link flushing it to NATS)', async () => {
    const pending: Array<() => void> = [];
    const deliverAll = () => {
      for (const f of pending.splice(0)) f();
    };
    events.on('session.revoked', () => sessions.announcing(new Promise<void>((r) => pending.push(r))));
    const s = await service.login({ clientAddress: '192.0.2.1' }, 'ann', 'Ann-Strong-Pass-1');
    let answered = false;
    const logout = service.logout(actorOf(s.token)).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 50));
    // Refused here at once and audited; only the answer waits for the delivery.
    expect(sessions.authenticate(s.token)).toBeUndefined();
    expect((await auditLog.query({ order: 'asc' })).items.map((r) => r.action)).toEqual(['auth.logout']);
    expect(answered).toBe(false);
    deliverAll();
    await logout;
    expect(answered).toBe(true);

    // A delivery that fails does not fail the logout (the link bounds its own wait).
    events.on('session.revoked', () => sessions.announcing(Promise.reject(new Error('NATS gone'))));
    const s2 = await service.login({ clientAddress: '192.0.2.1' }, 'ann', 'Ann-Strong-Pass-1');
    const second = service.logout(actorOf(s2.token));
    await new Promise((r) => setTimeout(r, 10));
    deliverAll();
    await expect(second).resolves.toBeUndefined();
  });

  it('principalFromToken: session tokens synchronously, JWTs through the verifier, malformed ones refused', async () => {
    const s = await service.login({ clientAddress: '192.0.2.1' }, 'ann', 'Ann-Strong-Pass-1');
    const jwtPrincipal = async () => ({ ...s.principal, authMethod: 'jwt' as const });
    const p = principalFromToken({ sessions, security: { jwtPrincipal } }, s.token);
    expect(p).not.toBeInstanceOf(Promise);
    expect((p as { username: string }).username).toBe('ann');
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln';
    expect((await principalFromToken({ sessions, security: { jwtPrincipal } }, jwt)).authMethod).toBe('jwt');
    expect(() => principalFromToken({ sessions, security: { jwtPrincipal } }, 'a.b.c')).toThrow(/malformed/);
  });
});
