import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClients } from '../../../src/auth/api-clients.js';
import { GroupAdmin } from '../../../src/auth/group-admin.js';
import { LoginThrottle } from '../../../src/auth/login-throttle.js';
import { hashPassword } from '../../../src/auth/passwords.js';
import { SessionService } from '../../../src/auth/sessions.js';
import { UserDirectory } from '../../../src/auth/user-directory.js';
import { DATABASE_FILE } from '../../../src/cli/audit-verify.js';
import { runUserCommand } from '../../../src/cli/user-admin.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { TagwayError } from '../../../src/domain/problems.js';
import { DEMO_PROJECT_FILE, loadProjectFile } from '../../../src/project/load.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import { EventBus, type TagwayEvents } from '../../../src/runtime/event-bus.js';
import { createLogger } from '../../../src/server/logger.js';
import type { Actor } from '../../../src/services/actor.js';
import { systemPrincipal, UserAdminService } from '../../../src/services/user-admin-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteApiClientRepository } from '../../../src/storage/sqlite/sqlite-api-client-repository.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';
import { SqliteGroupRepository } from '../../../src/storage/sqlite/sqlite-group-repository.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

const STRONG = 'Quite-Strong-Pass-42';

describe('UserAdminService', () => {
  let dir: string;
  let db: Database;
  let clock: ManualClock;
  let events: EventBus;
  let seen: Array<{ event: string; payload: unknown }>;
  let users: UserDirectory;
  let sessions: SessionService;
  let throttle: LoginThrottle;
  let auditLog: SqliteAuditRepository;
  let service: UserAdminService;
  let cliErr: string[];

  const actorFor = (username: string, via: Actor['via'] = 'rest'): Actor => {
    const u = users.get(username)!;
    return {
      principal: { username, displayName: username, groups: u.groups, permissions: users.permissionsFor(u.groups), authMethod: 'session' },
      clientAddress: '192.0.2.10',
      via,
    };
  };
  const cliActor: Actor = { principal: systemPrincipal('cli'), clientAddress: '', via: 'cli' };
  const cli = async (args: string[], password = STRONG) => {
    cliErr = [];
    return runUserCommand(
      [...args, '--data-dir', dir],
      { out: () => {}, err: (l) => cliErr.push(l), readPassword: async () => password },
      {},
    );
  };
  const code = async (p: Promise<unknown> | (() => unknown)) => {
    try {
      await (typeof p === 'function' ? p() : p);
      return 'OK';
    } catch (err) {
      if (err instanceof TagwayError) return err.code;
      throw err;
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-uas-'));
    db = openDatabase(join(dir, DATABASE_FILE));
    clock = new ManualClock();
    events = new EventBus();
    seen = [];
    for (const e of ['user.changed', 'session.revoked'] as const)
      events.on(e, (payload: TagwayEvents[typeof e]) => seen.push({ event: e, payload }));
    users = new UserDirectory(new SqliteUserRepository(db), loadProjectFile(DEMO_PROJECT_FILE).groups, createLogger('silent'), events);
    const clients = new ApiClients(new SqliteApiClientRepository(db), clock, []);
    sessions = new SessionService(new SqliteSessionRepository(db), users, clock, undefined, events);
    throttle = new LoginThrottle(clock);
    auditLog = new SqliteAuditRepository(db);
    const audit = new AuditTrail(auditLog, clock);
    service = new UserAdminService({
      users,
      groups: new GroupAdmin(new SqliteGroupRepository(db), users, clients),
      clients,
      sessions,
      audit,
      throttle: {
        reserve: (u, o) => {
          const r = throttle.reserve(u, o.clientAddress);
          if (!r.allowed) throw new TagwayError('TOO_MANY_REQUESTS', 'throttled');
          return r.attempt;
        },
        failed: async (a) => void a.fail(),
        reset: (u) => throttle.reset(u),
      },
    });
    const hash = await hashPassword(STRONG);
    await users.upsertLocal({
      username: 'boss',
      displayName: 'Boss',
      passwordHash: hash,
      groups: ['admins'],
      disabled: false,
      source: 'local',
    });
    await users.upsertLocal({
      username: 'vera',
      displayName: 'Vera',
      passwordHash: hash,
      groups: ['viewers'],
      disabled: false,
      source: 'local',
    });
    seen = [];
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('REST and CLI hit the same rules: unknown groups, the password policy, the last admin, duplicates', async () => {
    const rest = actorFor('boss');
    // Unknown group.
    expect(await code(service.createUser(rest, { username: 'gus', password: STRONG, groups: ['nope'] }))).toBe('VALIDATION_FAILED');
    expect(await cli(['add', 'gus', '--groups', 'nope'])).toBe(1);
    expect(cliErr.join()).toMatch(/unknown group\(s\): nope/);
    // Password policy.
    expect(await code(service.createUser(rest, { username: 'gus', password: 'short', groups: ['viewers'] }))).toBe('VALIDATION_FAILED');
    expect(await cli(['add', 'gus', '--groups', 'viewers'], 'short')).toBe(1);
    expect(cliErr.join()).toMatch(/at least 10/);
    expect(await code(service.updateUser(rest, 'vera', { password: 'vera-is-me-1234' }))).toBe('VALIDATION_FAILED');
    expect(await cli(['passwd', 'vera'], 'vera-is-me-1234')).toBe(1);
    expect(cliErr.join()).toMatch(/must not contain the user name/);
    // The last enabled admin stays.
    expect(await code(service.updateUser(rest, 'boss', { disabled: true }))).toBe('CONFLICT');
    expect(await code(() => service.deleteUser(rest, 'boss'))).toBe('CONFLICT');
    expect(await cli(['disable', 'boss'])).toBe(1);
    expect(cliErr.join()).toMatch(/no enabled user with users:admin/);
    expect(users.get('boss')!.disabled).toBe(false);
    // Duplicates and unknown users.
    expect(await code(service.createUser(rest, { username: 'vera', password: STRONG, groups: ['viewers'] }))).toBe('CONFLICT');
    expect(await cli(['add', 'vera', '--groups', 'viewers'])).toBe(1);
    expect(await code(service.updateUser(rest, 'ghost', { disabled: true }))).toBe('NOT_FOUND');
    expect(await cli(['disable', 'ghost'])).toBe(1);
    // Nothing of it reached the trail.
    expect((await auditLog.query({})).items).toEqual([]);
  });

  it('only users:admin administers; the CLI principal holds every right', async () => {
    const vera = actorFor('vera');
    expect(await code(() => service.listUsers(vera))).toBe('FORBIDDEN');
    expect(await code(() => service.getUser(vera, 'boss'))).toBe('FORBIDDEN');
    expect(await code(service.createUser(vera, { username: 'x1', password: STRONG, groups: [] }))).toBe('FORBIDDEN');
    expect(await code(service.updateUser(vera, 'vera', { groups: ['admins'] }))).toBe('FORBIDDEN');
    expect(await code(() => service.deleteUser(vera, 'boss'))).toBe('FORBIDDEN');
    expect(await code(() => service.unlockUser(vera, 'vera'))).toBe('FORBIDDEN');
    expect(await code(() => service.listGroups(vera))).toBe('FORBIDDEN');
    expect(await code(() => service.createGroup(vera, { name: 'g', permissions: [] }))).toBe('FORBIDDEN');
    expect(await code(() => service.updateGroup(vera, 'viewers', { permissions: [] }))).toBe('FORBIDDEN');
    expect(await code(() => service.deleteGroup(vera, 'viewers'))).toBe('FORBIDDEN');
    expect(await code(() => service.listClients(vera))).toBe('FORBIDDEN');
    expect(await code(service.createClient(vera, { name: 'c', groups: [] }))).toBe('FORBIDDEN');
    expect(await code(() => service.deleteClient(vera, 'c'))).toBe('FORBIDDEN');
    expect(service.listUsers(cliActor).map((u) => u.username)).toEqual(['boss', 'vera']);
  });

  it('audits every change with the actor, its address (none for the CLI) and the target', async () => {
    await service.createUser(actorFor('boss'), { username: 'gus', password: STRONG, groups: ['viewers'] });
    await service.updateUser(cliActor, 'gus', { groups: ['operators'] });
    await service.createGroup(actorFor('boss'), { name: 'line1', permissions: [{ permission: 'tags:read', tags: 'Line1.**' }] });
    await service.deleteUser(cliActor, 'gus');
    expect((await auditLog.query({ order: 'asc' })).items.map((r) => [r.action, r.user, r.clientAddress, r.target])).toEqual([
      ['user.create', 'boss', '192.0.2.10', 'gus'],
      ['user.update', 'cli', null, 'gus'],
      ['group.create', 'boss', '192.0.2.10', 'line1'],
      ['user.delete', 'cli', null, 'gus'],
    ]);
  });

  it('emits session.revoked and user.changed from the one place each change happens', async () => {
    const s1 = sessions.create('vera', '192.0.2.1');
    const s2 = sessions.create('vera', '192.0.2.2');
    const h = (t: string) => SessionService.hashToken(t);
    await service.updateUser(actorFor('boss'), 'vera', { password: 'Brand-New-Pass-77' });
    expect(seen).toEqual(
      expect.arrayContaining([
        { event: 'session.revoked', payload: { sessionId: h(s1.token), username: 'vera', reason: 'user' } },
        { event: 'session.revoked', payload: { sessionId: h(s2.token), username: 'vera', reason: 'user' } },
        { event: 'user.changed', payload: { username: 'vera', reason: 'password' } },
      ]),
    );
    seen = [];
    await service.updateUser(actorFor('boss'), 'vera', { groups: ['operators'] });
    expect(seen).toEqual([{ event: 'user.changed', payload: { username: 'vera', reason: 'groups' } }]);
    seen = [];
    const s3 = sessions.create('vera', '192.0.2.3');
    await service.updateUser(cliActor, 'vera', { disabled: true });
    expect(seen).toEqual(
      expect.arrayContaining([
        { event: 'session.revoked', payload: { sessionId: h(s3.token), username: 'vera', reason: 'user' } },
        { event: 'user.changed', payload: { username: 'vera', reason: 'disabled' } },
      ]),
    );
    seen = [];
    await service.createGroup(actorFor('boss'), { name: 'line1', permissions: [{ permission: 'tags:read', tags: 'Line1.**' }] });
    expect(seen).toEqual([]);
    await service.updateGroup(actorFor('boss'), 'line1', { permissions: [{ permission: 'tags:read', tags: 'Line2.**' }] });
    expect(seen).toEqual([{ event: 'user.changed', payload: { group: 'line1', reason: 'permissions' } }]);
    seen = [];
    await service.deleteUser(actorFor('boss'), 'vera');
    expect(seen).toContainEqual({ event: 'user.changed', payload: { username: 'vera', reason: 'deleted' } });
    // Logout and refresh are session ends too.
    seen = [];
    const s4 = sessions.create('boss', '192.0.2.4');
    const renewed = sessions.refresh(h(s4.token), '192.0.2.4')!;
    sessions.revoke(renewed.record.tokenHash, 'logout');
    expect(seen).toEqual([
      { event: 'session.revoked', payload: { sessionId: h(s4.token), username: 'boss', reason: 'refresh' } },
      { event: 'session.revoked', payload: { sessionId: renewed.record.tokenHash, username: 'boss', reason: 'logout' } },
    ]);
  });

  it('own password change: the current one is checked within the login throttle; other sessions end, this one stays', async () => {
    const here = sessions.create('vera', '192.0.2.10');
    const other = sessions.create('vera', '192.0.2.11');
    const me = { ...actorFor('vera'), principal: sessions.authenticate(here.token)! };
    for (let i = 0; i < 5; i++)
      expect(await code(service.changeOwnPassword(me, `wrong-${i}`, 'Brand-New-Pass-77'))).toBe('VALIDATION_FAILED');
    expect(await code(service.changeOwnPassword(me, STRONG, 'Brand-New-Pass-77'))).toBe('TOO_MANY_REQUESTS');
    expect(await service.unlockUser(cliActor, 'vera')).toEqual({ username: 'vera', clearedCounters: 1, enabled: false });
    expect(await code(service.changeOwnPassword(me, STRONG, 'Brand-New-Pass-77'))).toBe('OK');
    expect(sessions.authenticate(here.token)).toBeDefined();
    expect(sessions.authenticate(other.token)).toBeUndefined();
  });

  it('unlock enables a locked-out user, from the API or the CLI, and is audited', async () => {
    await users.upsertLocal({ ...users.get('vera')!, disabled: true });
    expect(await cli(['unlock', 'vera'])).toBe(0);
    expect((await new SqliteUserRepository(db).get('vera'))!.disabled).toBe(false);
    await service.updateUser(actorFor('boss'), 'vera', { disabled: true });
    expect(await service.unlockUser(actorFor('boss'), 'vera')).toEqual({ username: 'vera', clearedCounters: 0, enabled: true });
    expect(users.get('vera')!.disabled).toBe(false);
    expect(await code(() => service.unlockUser(actorFor('boss'), 'ghost'))).toBe('NOT_FOUND');
    expect((await auditLog.query({ action: 'user.unlock', order: 'asc' })).items.map((r) => [r.user, r.target])).toEqual([
      ['cli', 'vera'],
      ['boss', 'vera'],
    ]);
  });

  it('refuses a tag scope on a non-tag permission', async () => {
    const boss = actorFor('boss');
    expect(await code(() => service.createGroup(boss, { name: 'g', permissions: [{ permission: 'users:admin', tags: 'Line1.*' }] }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await code(() => service.createGroup(boss, { name: 'g', permissions: [{ permission: 'audit:read' }] }))).toBe('OK');
  });
});
