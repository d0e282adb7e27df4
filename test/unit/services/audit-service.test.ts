import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { PermissionSet } from '../../../src/domain/permissions.js';
import { TagwayError } from '../../../src/domain/problems.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import type { Actor } from '../../../src/services/actor.js';
import { AuditService } from '../../../src/services/audit-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';

const actor = (grants: ConstructorParameters<typeof PermissionSet>[0]): Actor => ({
  principal: { username: 'u', displayName: 'u', groups: [], permissions: new PermissionSet(grants), authMethod: 'session' },
  clientAddress: '127.0.0.1',
  via: 'rest',
});

describe('AuditService', () => {
  let dir: string;
  let db: Database;
  let service: AuditService;
  let trail: AuditTrail;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-audit-svc-'));
    db = openDatabase(join(dir, 'tagway.db'));
    const log = new SqliteAuditRepository(db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    trail = new AuditTrail(log, clock);
    for (const [action, user] of [
      ['auth.login', 'a'],
      ['auth.login_failed', 'b'],
      ['user.create', 'a'],
    ] as const) {
      await trail.record({ action, user, result: 'OK' });
      clock.advance(60_000);
    }
    service = new AuditService(log);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs audit:read; a scoped audit:read grants nothing', async () => {
    await expect(service.query(actor([{ permission: 'tags:read' }]), {})).rejects.toThrow(TagwayError);
    await expect(service.query(actor([{ permission: 'audit:read', tags: 'Line1.*' }]), {})).rejects.toThrow(/audit:read/);
    expect((await service.query(actor([{ permission: 'audit:read' }]), {})).items).toHaveLength(3);
  });

  it('filters by actions, user and time (any ISO form), pages with a cursor, refuses a bad cursor or date', async () => {
    const a = actor([{ permission: 'audit:read' }]);
    expect((await service.query(a, { actions: ['auth.login', 'user.create'] })).items.map((r) => r.action)).toEqual([
      'user.create',
      'auth.login',
    ]);
    expect((await service.query(a, { user: 'b' })).items.map((r) => r.action)).toEqual(['auth.login_failed']);
    expect((await service.query(a, { from: '2026-01-01T00:01:00+00:00', order: 'asc' })).items.map((r) => r.action)).toEqual([
      'auth.login_failed',
      'user.create',
    ]);
    const p1 = await service.query(a, { limit: 2 });
    expect(p1.next).toEqual(expect.any(String));
    expect((await service.query(a, { limit: 2, cursor: p1.next! })).items.map((r) => r.action)).toEqual(['auth.login']);
    await expect(service.query(a, { cursor: 'garbage' })).rejects.toThrow(/cursor is not valid/);
    await expect(service.query(a, { from: 'yesterday' })).rejects.toThrow(/from is not a date-time/);
  });

  it('filters by tag: rows on it and rows listing it among their items, with the other filters', async () => {
    const a = actor([{ permission: 'audit:read' }]);
    await trail.record({ action: 'tag.write', user: 'a', target: 'T.1', details: { newValue: 1, oldValue: 0 }, result: 'OK' });
    await trail.record({
      action: 'tag.write',
      user: 'b',
      target: null,
      details: { items: [{ name: 'T.1' }, { name: 'T.2' }] },
      result: 'OK',
    });
    await trail.record({ action: 'tag.write', user: 'b', target: 'T.10', result: 'OK' });
    const targets = async (f: Parameters<AuditService['query']>[1]) => (await service.query(a, f)).items.map((r) => [r.user, r.target]);
    expect(await targets({ tag: 'T.1' })).toEqual([
      ['b', null],
      ['a', 'T.1'],
    ]);
    expect(await targets({ tag: 'T.1', user: 'a', actions: ['tag.write'] })).toEqual([['a', 'T.1']]);
    expect(await targets({ tag: 'T.2', actions: ['auth.login'] })).toEqual([]);
  });
});
