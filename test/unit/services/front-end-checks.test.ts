/**
 * The service methods front ends without a request/response model use (the OPC UA server): a write check that
 * audits nothing, a history check, and logins that create no Tagway session (password, verified certificate).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/auth/passwords.js';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { PermissionSet, type Grant } from '../../../src/domain/permissions.js';
import { TagwayError } from '../../../src/domain/problems.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { BUILT_IN_GROUPS } from '../../../src/project/load.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import { EventBus } from '../../../src/runtime/event-bus.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import { createLogger } from '../../../src/server/logger.js';
import type { Actor } from '../../../src/services/actor.js';
import { AuthService } from '../../../src/services/auth-service.js';
import { TagService } from '../../../src/services/tag-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

const actor = (grants: Grant[]): Actor => ({
  principal: { username: 'u', displayName: 'u', groups: [], permissions: new PermissionSet(grants), authMethod: 'basic' },
  clientAddress: '127.0.0.1',
  via: 'opcua',
});

describe('TagService.mayWrite', () => {
  const defs: TagDefinition[] = [
    { name: 'Line1.Speed', type: 'Float64', access: 'readwrite', connection: 'internal' },
    { name: 'Line1.Serial', type: 'String', access: 'read', connection: 'internal' },
    { name: 'Line2.Speed', type: 'Float64', access: 'readwrite', connection: 'internal' },
  ];
  const engine = new TagEngine(defs, new ManualClock());
  const written: unknown[] = [];
  const service = new TagService(engine, { recordSoon: async (e) => void written.push(e) }, { maxBulkItems: 10, maxConcurrentBulk: 1 });

  it('is true only for a writable tag in the write scope, and audits nothing', () => {
    const op = actor([{ permission: 'tags:read' }, { permission: 'tags:write', tags: 'Line1.**' }]);
    expect(service.mayWrite(op, 'Line1.Speed')).toBe(true);
    expect(service.mayWrite(op, 'Line1.Serial')).toBe(false); // read-only tag
    expect(service.mayWrite(op, 'Line2.Speed')).toBe(false); // out of scope
    expect(service.mayWrite(op, 'Nope')).toBe(false);
    expect(service.mayWrite(actor([{ permission: 'tags:read' }]), 'Line1.Speed')).toBe(false);
    expect(written).toEqual([]);
  });
});

describe('AuthService logins without a session', () => {
  let dir: string;
  let db: Database;
  let service: AuthService;
  let auditLog: SqliteAuditRepository;
  let users: UserDirectory;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-auth-fe-'));
    db = openDatabase(join(dir, 'tagway.db'));
    const clock = new ManualClock();
    const events = new EventBus();
    users = new UserDirectory(new SqliteUserRepository(db), BUILT_IN_GROUPS, createLogger('silent'), events);
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
    await users.upsertLocal({ username: 'off', displayName: 'Off', passwordHash: '', groups: ['admins'], disabled: true, source: 'local' });
    const sessions = new SessionService(
      new SqliteSessionRepository(db),
      users,
      clock,
      { idleTimeoutMs: 60_000, absoluteLifetimeMs: 3_600_000 },
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
      principalOf: (u, method) => {
        const r = users.get(u);
        return r && !r.disabled
          ? {
              username: r.username,
              displayName: r.displayName,
              groups: r.groups,
              permissions: users.permissionsFor(r.groups),
              authMethod: method,
            }
          : undefined;
      },
      permissionsFor: (g) => users.permissionsFor(g),
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verify answers the principal for the right password and refuses a wrong one', async () => {
    const p = await service.verify({ clientAddress: '192.0.2.1' }, 'ann', 'Ann-Strong-Pass-1');
    expect(p.username).toBe('ann');
    expect(p.permissions.has('tags:write')).toBe(true);
    await expect(service.verify({ clientAddress: '192.0.2.1' }, 'ann', 'wrong')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('certificateLogin admits an active user and audits the method; a disabled or unknown one is refused and audited', async () => {
    const p = await service.certificateLogin({ clientAddress: '192.0.2.2' }, 'ann', 'ab'.repeat(20));
    expect(p.username).toBe('ann');
    await expect(service.certificateLogin({ clientAddress: '192.0.2.2' }, 'off', 'cd'.repeat(20))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    await expect(service.certificateLogin({ clientAddress: '192.0.2.2' }, 'ghost', 'ef'.repeat(20))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const rows = (await auditLog.query({})).items.map((r) => [
      r.action,
      r.user,
      r.result,
      r.details ? (JSON.parse(r.details) as { method?: string }).method : undefined,
    ]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['auth.login', 'ann', 'OK', 'x509'],
        ['auth.login_failed', 'off', 'UNAUTHENTICATED', 'x509'],
        ['auth.login_failed', 'ghost', 'UNAUTHENTICATED', 'x509'],
      ]),
    );
  });

  it('groupPrincipal has exactly the rights of the group', () => {
    const p = service.groupPrincipal('opcua-anonymous', 'admins');
    expect(p.username).toBe('opcua-anonymous');
    expect(p.permissions.has('users:admin')).toBe(true);
    expect(service.principal('off')).toBeUndefined();
  });
});
