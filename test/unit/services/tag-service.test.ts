import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { PermissionSet, type Grant } from '../../../src/domain/permissions.js';
import { TagwayError } from '../../../src/domain/problems.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { InternalDriver } from '../../../src/drivers/internal/driver.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import { TagEngine, type TagState } from '../../../src/runtime/tag-engine.js';
import type { Actor } from '../../../src/services/actor.js';
import { AUDIT_REFUSED_ITEMS_MAX, BULK_BUDGET_MIN_BYTES, isFailure, TagService } from '../../../src/services/tag-service.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';
import { SqliteKeyValueRepository } from '../../../src/storage/sqlite/sqlite-key-value-repository.js';

const DEFS: TagDefinition[] = [
  { name: 'Line1.Speed', type: 'Float64', access: 'readwrite', connection: 'internal', group: 'line1', min: 0, max: 100 },
  { name: 'Line1.Count', type: 'Int32', access: 'readwrite', connection: 'internal', group: 'line1' },
  { name: 'Line1.Serial', type: 'String', access: 'read', connection: 'internal', group: 'line1', initial: 'SN1' },
  { name: 'Tank1.Level', type: 'Float64', access: 'readwrite', connection: 'internal', group: 'tank1' },
  { name: 'Tank1.Secret', type: 'Float64', access: 'readwrite', connection: 'internal', group: 'tank1' },
  { name: 'Tank2.Level', type: 'Float64', access: 'readwrite', connection: 'internal', group: 'tank2' },
];

function actor(username: string, grants: Grant[]): Actor {
  const principal: Principal = {
    username,
    displayName: username,
    groups: [],
    permissions: new PermissionSet(grants),
    authMethod: 'session',
  };
  return { principal, clientAddress: '127.0.0.9', via: 'rest' };
}

const admin = actor('admin', [{ permission: 'tags:read' }, { permission: 'tags:write' }]);
// Reads Line1 and Tank1 (not Tank2), writes Line1 only.
const scoped = actor('sam', [
  { permission: 'tags:read', tags: 'Line1.**' },
  { permission: 'tags:read', tags: 'Tank1.Level' },
  { permission: 'tags:write', tags: 'Line1.**' },
]);
const viewer = actor('vic', [{ permission: 'tags:read' }]);
const nobody = actor('nemo', []);

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<TagwayError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof TagwayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('TagService', () => {
  let dir: string;
  let db: Database;
  let engine: TagEngine;
  let log: SqliteAuditRepository;
  let audit: AuditTrail;
  let service: TagService;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-tag-service-'));
    db = openDatabase(join(dir, 'tagway.db'));
    engine = new TagEngine(DEFS, clock);
    const driver = new InternalDriver(engine.tags, {
      clock,
      logger: pino({ level: 'silent' }),
      kv: new SqliteKeyValueRepository(db),
      update: (i, v, q, t) => engine.update(i, v, q, t),
      setQuality: (i, q, t) => engine.setQuality(i, q, t),
      state: () => undefined,
    });
    engine.bindDriver('internal', driver);
    await driver.start();
    log = new SqliteAuditRepository(db);
    audit = new AuditTrail(log, clock);
    audit.attachTo(engine);
    service = new TagService(engine, audit, { maxBulkItems: 20, maxConcurrentBulk: 2 });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = async (user: string) => (await log.query({ user, action: 'tag.write', order: 'asc', limit: 1000 })).items;

  describe('list', () => {
    it('lists only readable tags, filtered by glob, group and type', () => {
      expect(service.list(admin).tags.map((t) => t.def.name)).toEqual(DEFS.map((d) => d.name));
      expect(service.list(scoped)).toMatchObject({ total: 4 });
      expect(service.list(scoped).tags.map((t) => t.def.name)).toEqual(['Line1.Speed', 'Line1.Count', 'Line1.Serial', 'Tank1.Level']);
      expect(service.list(admin, { filter: 'Tank*.Level' }).tags.map((t) => t.def.name)).toEqual(['Tank1.Level', 'Tank2.Level']);
      expect(service.list(admin, { group: 'tank1' }).total).toBe(2);
      expect(service.list(admin, { type: 'String' }).tags.map((t) => t.def.name)).toEqual(['Line1.Serial']);
      expect(service.list(scoped, { group: 'tank1' }).tags.map((t) => t.def.name)).toEqual(['Tank1.Level']);
    });
    it('pages with limit and after, ending with next = null', () => {
      const seen: string[] = [];
      let after: number | undefined;
      for (;;) {
        const page = service.list(scoped, { limit: 3, after });
        expect(page.total).toBe(4);
        seen.push(...page.tags.map((t) => t.def.name));
        if (page.next === null) break;
        after = page.next;
      }
      expect(seen).toEqual(['Line1.Speed', 'Line1.Count', 'Line1.Serial', 'Tank1.Level']);
      expect(service.list(admin, { limit: 6 }).next).toBeNull();
    });
    it('refuses a caller without tags:read and a hostile glob', async () => {
      expect((await refusal(() => service.list(nobody))).code).toBe('FORBIDDEN');
      expect((await refusal(() => service.list(admin, { filter: '*a'.repeat(17) }))).code).toBe('VALIDATION_FAILED');
    });
  });

  describe('read and readMany', () => {
    it('reads a readable tag; an unreadable one is answered like a missing one', async () => {
      expect(service.read(scoped, 'Line1.Serial').value).toBe('SN1');
      const hidden = await refusal(() => service.read(scoped, 'Tank2.Level'));
      const missing = await refusal(() => service.read(scoped, 'Tank9.Level'));
      expect([hidden.code, hidden.message]).toEqual(['TAG_NOT_FOUND', "No tag named 'Tank2.Level'"]);
      expect([missing.code, missing.message]).toEqual(['TAG_NOT_FOUND', "No tag named 'Tank9.Level'"]);
    });
    it('refuses a caller with no tags:read the same way whether the tag exists or not', async () => {
      const a = await refusal(() => service.read(nobody, 'Line1.Speed'));
      const b = await refusal(() => service.read(nobody, 'No.Such'));
      expect([a.code, b.code]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      expect(a.message.replace('Line1.Speed', 'X')).toBe(b.message.replace('No.Such', 'X'));
    });
    it('answers many names in order with states and TAG_NOT_FOUND items', () => {
      const r = service.readMany(scoped, ['Line1.Speed', 'Tank2.Level', 'nope', 'Line1.Speed']);
      expect(r.map((x) => (isFailure(x) ? x.error.code : x.def.name))).toEqual([
        'Line1.Speed',
        'TAG_NOT_FOUND',
        'TAG_NOT_FOUND',
        'Line1.Speed',
      ]);
      // States are the engine's own objects (the REST encoder copies their cached bytes).
      expect(r[0]).toBe(engine.get('Line1.Speed'));
      expect(r[1]).toEqual({ name: 'Tank2.Level', error: { code: 'TAG_NOT_FOUND', message: "No tag named 'Tank2.Level'" } });
    });
    it('refuses readMany without tags:read and over the bulk limit', async () => {
      expect((await refusal(() => service.readMany(nobody, ['Line1.Speed']))).code).toBe('FORBIDDEN');
      expect((await refusal(() => service.readMany(admin, Array(21).fill('Line1.Speed')))).code).toBe('PAYLOAD_TOO_LARGE');
      expect(service.readMany(admin, Array(20).fill('Line1.Speed'))).toHaveLength(20);
    });
  });

  describe('write', () => {
    it('writes within scope and the engine audits it with old and new value', async () => {
      const tag: TagState = await service.write(scoped, 'Line1.Speed', 42);
      expect(tag.value).toBe(42);
      await audit.flush();
      expect(await rows('sam')).toMatchObject([{ target: 'Line1.Speed', result: 'OK', clientAddress: '127.0.0.9' }]);
      expect(JSON.parse((await rows('sam'))[0]!.details!)).toEqual({ oldValue: 0, newValue: 42 });
    });
    it('passes type, range and read-only errors through', async () => {
      expect((await refusal(service.write(admin, 'Line1.Speed', '1'))).code).toBe('TYPE_MISMATCH');
      expect((await refusal(service.write(admin, 'Line1.Speed', 101))).code).toBe('OUT_OF_RANGE');
      expect((await refusal(service.write(admin, 'Line1.Serial', 'x'))).code).toBe('READ_ONLY');
      expect((await refusal(service.write(admin, 'No.Such', 1))).code).toBe('TAG_NOT_FOUND');
    });
    it('refuses outside the write scope: FORBIDDEN when readable, TAG_NOT_FOUND when not, audited either way', async () => {
      const readable = await refusal(service.write(scoped, 'Tank1.Level', 5));
      expect([readable.code, readable.message]).toEqual(['FORBIDDEN', "You may not write tag 'Tank1.Level'"]);
      const hidden = await refusal(service.write(scoped, 'Tank2.Level', 6));
      expect([hidden.code, hidden.message]).toEqual(['TAG_NOT_FOUND', "No tag named 'Tank2.Level'"]);
      expect((await refusal(service.write(scoped, 'Tank9.Level', 7))).code).toBe('TAG_NOT_FOUND');
      expect((await rows('sam')).map((r) => [r.target, r.result, JSON.parse(r.details!)])).toEqual([
        ['Tank1.Level', 'FORBIDDEN', { newValue: 5 }],
        ['Tank2.Level', 'FORBIDDEN', { newValue: 6 }],
      ]);
      expect(engine.get('Tank1.Level')!.value).toBe(0);
    });
    it('refuses a caller with no tags:write alike for existing and missing tags', async () => {
      const a = await refusal(service.write(viewer, 'Tank2.Level', 1));
      const b = await refusal(service.write(viewer, 'No.Such', 1));
      expect([a.code, b.code]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      expect((await rows('vic')).map((r) => r.target)).toEqual(['Tank2.Level']);
    });
    it('audits a large refused value only as its size and hash', async () => {
      const big = 'x'.repeat(1000);
      await refusal(service.write(scoped, 'Tank1.Level', big));
      const json = JSON.stringify(big);
      expect(JSON.parse((await rows('sam'))[0]!.details!)).toEqual({
        newValue: { truncated: true, bytes: json.length, sha256: createHash('sha256').update(json).digest('hex') },
      });
    });
  });

  describe('writeMany', () => {
    it('answers each item in order and audits all refused items in one row', async () => {
      const r = await service.writeMany(scoped, [
        { name: 'Line1.Speed', value: 1 },
        { name: 'Tank1.Level', value: 2 },
        { name: 'Tank2.Level', value: 3 },
        { name: 'nope', value: 4 },
        { name: 'Line1.Count', value: 1.5 },
        { name: 'Line1.Count', value: 7 },
      ]);
      expect(r).toEqual([
        { name: 'Line1.Speed', status: 'OK' },
        { name: 'Tank1.Level', error: { code: 'FORBIDDEN', message: "You may not write tag 'Tank1.Level'" } },
        { name: 'Tank2.Level', error: { code: 'TAG_NOT_FOUND', message: "No tag named 'Tank2.Level'" } },
        { name: 'nope', error: { code: 'TAG_NOT_FOUND', message: "No tag named 'nope'" } },
        { name: 'Line1.Count', error: { code: 'TYPE_MISMATCH', message: expect.stringContaining('Int32') } },
        { name: 'Line1.Count', status: 'OK' },
      ]);
      const refused = (await rows('sam')).filter((x) => x.result === 'FORBIDDEN');
      expect(refused).toHaveLength(1);
      expect(refused[0]!.target).toBeNull();
      expect(JSON.parse(refused[0]!.details!)).toEqual({
        refused: 2,
        items: [
          { name: 'Tank1.Level', code: 'FORBIDDEN', newValue: 2 },
          { name: 'Tank2.Level', code: 'FORBIDDEN', newValue: 3 },
        ],
      });
    });
    it('lists at most AUDIT_REFUSED_ITEMS_MAX refused items and counts the rest', async () => {
      service = new TagService(engine, audit, { maxBulkItems: 1000, maxConcurrentBulk: 2 });
      const items = Array.from({ length: 250 }, (_, i) => ({ name: i % 2 ? 'Tank1.Level' : 'Tank2.Level', value: i }));
      const r = await service.writeMany(scoped, items);
      expect(r.every((x) => 'error' in x)).toBe(true);
      const [row, ...more] = await rows('sam');
      expect(more).toHaveLength(0);
      const d = JSON.parse(row!.details!);
      expect(d).toMatchObject({ refused: 250, omitted: 250 - AUDIT_REFUSED_ITEMS_MAX });
      expect(d.items).toHaveLength(AUDIT_REFUSED_ITEMS_MAX);
    });
    it('refuses as a whole without tags:write unless answering per item', async () => {
      expect((await refusal(service.writeMany(viewer, [{ name: 'Line1.Speed', value: 1 }]))).code).toBe('FORBIDDEN');
      expect(
        await service.writeMany(
          viewer,
          [
            { name: 'Line1.Speed', value: 1 },
            { name: 'nope', value: 1 },
          ],
          { perItem: true },
        ),
      ).toEqual([
        { name: 'Line1.Speed', error: { code: 'FORBIDDEN', message: "You may not write tag 'Line1.Speed'" } },
        { name: 'nope', error: { code: 'TAG_NOT_FOUND', message: "No tag named 'nope'" } },
      ]);
      expect(await rows('vic')).toMatchObject([{ target: 'Line1.Speed', result: 'FORBIDDEN' }]);
      expect((await refusal(service.writeMany(admin, Array(21).fill({ name: 'Line1.Speed', value: 1 })))).code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('bulk budget', () => {
    it('admits at most maxConcurrentBulk large requests per principal, small ones freely', async () => {
      const big = BULK_BUDGET_MIN_BYTES;
      const r1 = service.admitBulk(scoped, big);
      const r2 = service.admitBulk(scoped, undefined);
      const over = await refusal(() => service.admitBulk(scoped, big));
      expect(over.code).toBe('TOO_MANY_REQUESTS');
      expect(over.headers).toEqual({ 'Retry-After': '1' });
      // Another principal has its own budget; small requests pass.
      service.admitBulk(admin, big)();
      service.admitBulk(scoped, big - 1)();
      r1();
      r1(); // a second release frees nothing more
      const r3 = service.admitBulk(scoped, big);
      expect((await refusal(() => service.admitBulk(scoped, big))).code).toBe('TOO_MANY_REQUESTS');
      r2();
      r3();
    });
  });
});
