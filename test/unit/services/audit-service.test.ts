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
import { SqliteAuditLog } from '../../../src/storage/sqlite/audit-log.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';

const actor = (grants: ConstructorParameters<typeof PermissionSet>[0]): Actor => ({
  principal: { username: 'u', displayName: 'u', groups: [], permissions: new PermissionSet(grants), authMethod: 'session' },
  clientAddress: '127.0.0.1',
  via: 'rest',
});

describe('AuditService', () => {
  let dir: string;
  let db: Database;
  let service: AuditService;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-audit-svc-'));
    db = openDatabase(join(dir, 'tagway.db'));
    const log = new SqliteAuditLog(db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const trail = new AuditTrail(log, clock);
    for (const [action, user] of [
      ['auth.login', 'a'],
      ['auth.login_failed', 'b'],
      ['user.create', 'a'],
    ] as const) {
      trail.record({ action, user, result: 'OK' });
      clock.advance(60_000);
    }
    service = new AuditService(log);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs audit:read; a scoped audit:read grants nothing', () => {
    expect(() => service.query(actor([{ permission: 'tags:read' }]), {})).toThrow(TagwayError);
    expect(() => service.query(actor([{ permission: 'audit:read', tags: 'Line1.*' }]), {})).toThrow(/audit:read/);
    expect(service.query(actor([{ permission: 'audit:read' }]), {}).items).toHaveLength(3);
  });

  it('filters by actions, user and time (any ISO form), pages with a cursor, refuses a bad cursor or date', () => {
    const a = actor([{ permission: 'audit:read' }]);
    expect(service.query(a, { actions: ['auth.login', 'user.create'] }).items.map((r) => r.action)).toEqual(['user.create', 'auth.login']);
    expect(service.query(a, { user: 'b' }).items.map((r) => r.action)).toEqual(['auth.login_failed']);
    expect(service.query(a, { from: '2026-01-01T00:01:00+00:00', order: 'asc' }).items.map((r) => r.action)).toEqual([
      'auth.login_failed',
      'user.create',
    ]);
    const p1 = service.query(a, { limit: 2 });
    expect(p1.next).toEqual(expect.any(String));
    expect(service.query(a, { limit: 2, cursor: p1.next! }).items.map((r) => r.action)).toEqual(['auth.login']);
    expect(() => service.query(a, { cursor: 'garbage' })).toThrow(/cursor is not valid/);
    expect(() => service.query(a, { from: 'yesterday' })).toThrow(/from is not a date-time/);
  });
});
