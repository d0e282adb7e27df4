import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { InternalDriver } from '../../../src/drivers/internal/driver.js';
import { AuditTrail } from '../../../src/runtime/audit.js';
import { GroupCommit, RiderDetached } from '../../../src/runtime/group-commit.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import { createLogger } from '../../../src/server/logger.js';
import type { NewAuditEntry } from '../../../src/storage/audit-repository.js';
import { openSqliteStorage, sqliteDatabaseForTests, type SqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';

const row = (target: string): NewAuditEntry => ({
  at: '2026-12-06T12:00:00.000Z',
  action: 'tag.write',
  user: 'anna',
  clientAddress: '127.0.0.1',
  target,
  details: null,
  result: 'OK',
});

describe('group commit of values and audit rows (real SQLite, synchronous FULL)', () => {
  let dir: string;
  let storage: SqliteStorage;
  let group: GroupCommit;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-group-'));
    storage = openSqliteStorage({ dataDir: dir });
    group = new GroupCommit(storage);
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits what arrives in one turn as one group: values and rows of many callers, rows chained in order', async () => {
    const done = await Promise.all([
      group.setMany('internal', [{ key: 'A', value: 1, at: 1 }]),
      group.appendMany([row('A'), row('B')]),
      group.setMany('internal', [
        { key: 'B', value: 2, at: 1 },
        { key: 'A', value: 3, at: 2 },
      ]),
      group.appendMany([row('C')]),
    ]);
    expect(group.stats).toMatchObject({ groups: 1, values: 3, auditRows: 3, failures: 0 });
    expect((done[1] as Array<{ id: number }>).map((r) => r.id)).toEqual([1, 2]);
    expect((done[3] as Array<{ id: number; prevHash: string }>)[0]!.id).toBe(3);
    expect((await storage.keyValues.list('internal')).map((e) => [e.key, e.value])).toEqual([
      ['A', 3],
      ['B', 2],
    ]);
    expect(await storage.audit.verify()).toMatchObject({ firstBad: null, checked: 3 });
  });

  it('writes arriving while a group commits wait for the next one, which takes them all', async () => {
    const first = group.setMany('internal', [{ key: 'A', value: 1, at: 1 }]);
    await new Promise((r) => setImmediate(r)); // the first group is under way
    const later = Array.from({ length: 10 }, (_, i) => group.appendMany([row(`T${i}`)]));
    await Promise.all([first, ...later]);
    expect(group.stats.groups).toBe(2);
    expect(await storage.audit.count()).toBe(10);
  });

  it('while both WAL syncs are busy the next group waits uncommitted, gathering what arrives, and commits when one ends', async () => {
    let busy: { promise: Promise<void>; end: () => void } | undefined;
    const slotted = new GroupCommit({
      transaction: (fn, opts) => storage.transaction(fn, opts),
      whenSyncSlotFree: () => busy?.promise,
    });
    let end!: () => void;
    busy = { promise: new Promise<void>((r) => (end = r)), end: () => end() };
    const writes = [slotted.setMany('internal', [{ key: 'A', value: 1, at: 1 }])];
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((r) => setImmediate(r));
      writes.push(slotted.setMany('internal', [{ key: `B${turn}`, value: turn, at: 1 }]));
    }
    expect(slotted.stats.groups).toBe(0);
    expect(await storage.keyValues.list('internal')).toEqual([]);
    busy = undefined;
    end();
    await Promise.all(writes);
    expect(slotted.stats).toMatchObject({ groups: 1, values: 6 });
    await slotted.drain();
  });

  it('drain waits for a group held back by busy syncs', async () => {
    let end!: () => void;
    let busy: Promise<void> | undefined = new Promise<void>((r) => (end = r));
    const slotted = new GroupCommit({ transaction: (fn, opts) => storage.transaction(fn, opts), whenSyncSlotFree: () => busy });
    const write = slotted.setMany('internal', [{ key: 'A', value: 1, at: 1 }]);
    const drained = slotted.drain();
    await new Promise((r) => setTimeout(r, 20));
    expect(slotted.stats.groups).toBe(0);
    busy = undefined;
    end();
    await drained;
    await write;
    expect(slotted.stats.groups).toBe(1);
  });

  it('drain commits what is queued and waits for it (shutdown)', async () => {
    const pending = group.setMany('internal', [{ key: 'A', value: 1, at: 1 }]);
    const rows = group.appendMany([row('A')]);
    await group.drain();
    expect(group.stats).toMatchObject({ groups: 1, values: 1, auditRows: 1 });
    await Promise.all([pending, rows]);
    await group.drain(); // nothing queued: returns at once
  });

  it('a value that cannot be stored fails alone; the rest of its group commits', async () => {
    const results = await Promise.allSettled([
      group.setMany('internal', [{ key: 'A', value: 1, at: 1 }]),
      group.setMany('internal', [{ key: 'Bad', value: undefined, at: 1 }]),
      group.appendMany([row('A')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await storage.keyValues.list('internal')).map((e) => e.key)).toEqual(['A']);
    expect(await storage.audit.count()).toBe(1);
  });

  it('audit rows refused by storage fail alone; the values of their group are stored', async () => {
    const db = sqliteDatabaseForTests(storage);
    // An injected fault: the trail's table refuses every insert, the key-value table does not.
    db.exec("CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    const results = await Promise.allSettled([group.setMany('internal', [{ key: 'A', value: 1, at: 1 }]), group.appendMany([row('A')])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await storage.keyValues.get('internal', 'A')).toMatchObject({ value: 1 });
    db.exec('DROP TRIGGER test_refuse');
    await group.appendMany([row('B')]);
    expect(await storage.audit.verify()).toMatchObject({ firstBad: null, checked: 1 });
  });

  it('an audit trail on the group hands its rows to each group as it forms, in order, and holds refused ones', async () => {
    const trail = new AuditTrail(group, new ManualClock(Date.UTC(2026, 11, 6, 12)));
    const value = group.setMany('internal', [{ key: 'A', value: 1, at: 1 }]);
    const recorded = Promise.all([
      trail.record({ action: 'tag.write', user: 'anna', target: 'A', result: 'OK' }),
      trail.record({ action: 'auth.login', user: 'anna', result: 'OK' }),
    ]);
    await Promise.all([value, recorded]);
    // The trail's rows joined the value's group instead of flushing on their own.
    expect(group.stats.groups).toBe(1);
    const page = await storage.audit.query({ order: 'asc' });
    expect(page.items.map((r) => r.action)).toEqual(['tag.write', 'auth.login']);

    const db = sqliteDatabaseForTests(storage);
    db.exec("CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    await expect(trail.record({ action: 'auth.logout', user: 'anna', result: 'OK' })).rejects.toThrow(/refused by test/);
    expect(trail.storageState().ok).toBe(false);
    db.exec('DROP TRIGGER test_refuse');
    await trail.record({ action: 'auth.login', user: 'bob', result: 'OK' });
    expect((await storage.audit.query({ order: 'asc' })).items.map((r) => `${r.action}:${r.user}`)).toEqual([
      'tag.write:anna',
      'auth.login:anna',
      'auth.logout:anna',
      'auth.login:bob',
    ]);
    expect(trail.storageState()).toEqual({ ok: true });
    trail.stopRetrying();
  });

  it("a rider's rows commit in the same transaction as its value: one group, one sync", async () => {
    const { rider, rows } = group.rider([row('A')]);
    const syncsBefore = storage.walSync.syncs;
    await group.setManyWith('internal', [{ key: 'A', value: 1, at: 1 }], [rider]);
    expect((await rows).map((r) => r.target)).toEqual(['A']);
    expect(group.stats).toMatchObject({ groups: 1, values: 1, auditRows: 1, failures: 0 });
    expect(storage.walSync.syncs - syncsBefore).toBe(1);
    expect(await storage.audit.verify()).toMatchObject({ firstBad: null, checked: 1 });
  });

  it('a refused value takes its rider with it; the rest of its group commits, riders with their values', async () => {
    const bad = group.rider([row('Bad')]);
    const good = group.rider([row('A')]);
    const results = await Promise.allSettled([
      group.setManyWith('internal', [{ key: 'Bad', value: undefined, at: 1 }], [bad.rider]),
      group.setManyWith('internal', [{ key: 'A', value: 1, at: 1 }], [good.rider]),
      group.appendMany([row('C')]),
      bad.rows,
      good.rows,
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await storage.keyValues.list('internal')).map((e) => e.key)).toEqual(['A']);
    const page = await storage.audit.query({ order: 'asc' });
    expect(page.items.map((r) => r.target).sort()).toEqual(['A', 'C']);
    expect(await storage.audit.verify()).toMatchObject({ firstBad: null, checked: 2 });
  });

  it('rows refused by storage while their value fits: the value is stored alone, its rider told so (RiderDetached)', async () => {
    const db = sqliteDatabaseForTests(storage);
    db.exec("CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    const r = group.rider([row('A')]);
    const results = await Promise.allSettled([
      group.setManyWith('internal', [{ key: 'A', value: 1, at: 1 }], [r.rider]),
      group.setMany('internal', [{ key: 'B', value: 2, at: 1 }]),
      r.rows,
    ]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(RiderDetached);
    expect((await storage.keyValues.list('internal')).map((e) => e.key)).toEqual(['A', 'B']);
    // Alone in its group as well.
    const alone = group.rider([row('C')]);
    await group.setManyWith('internal', [{ key: 'C', value: 3, at: 1 }], [alone.rider]);
    await expect(alone.rows).rejects.toBeInstanceOf(RiderDetached);
    db.exec('DROP TRIGGER test_refuse');
    expect(await storage.audit.count()).toBe(0);
  });

  /** One internal Float64 tag `SP` whose driver stores through the group commit, and the audit trail on it. */
  async function internalTagWithTrail(): Promise<{ engine: TagEngine; trail: AuditTrail }> {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const engine = new TagEngine([{ name: 'SP', type: 'Float64', access: 'readwrite', connection: 'internal' }], clock);
    const trail = new AuditTrail(group, clock);
    trail.attachTo(engine);
    const driver = new InternalDriver(engine.tags, {
      clock,
      logger: createLogger('silent'),
      kv: group.keyValues(storage.keyValues),
      update: (i, v, q, at) => engine.update(i, v, q, at),
      setQuality: () => undefined,
      state: () => undefined,
    });
    engine.bindDriver('internal', driver);
    await driver.start();
    return { engine, trail };
  }

  it('a single write on storage that refuses audit rows is stored and answered; its row is held and committed later', async () => {
    const { engine, trail } = await internalTagWithTrail();
    const db = sqliteDatabaseForTests(storage);
    db.exec("CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    await engine.write(engine.require('SP'), 4.5, { user: 'anna' });
    expect(await storage.keyValues.get('internal', 'SP')).toMatchObject({ value: 4.5 });
    expect(trail.storageState().ok).toBe(false);
    db.exec('DROP TRIGGER test_refuse');
    await trail.flush();
    expect((await storage.audit.query({})).items.map((r) => [r.target, r.result])).toEqual([['SP', 'OK']]);
    expect(trail.storageState()).toEqual({ ok: true });
    trail.stopRetrying();
  });

  it('a write of an internal tag commits its value and its audit row in one group; a refused one is recorded FAILED after', async () => {
    const { engine, trail } = await internalTagWithTrail();
    await engine.write(engine.require('SP'), 4.5, { user: 'anna' });
    expect(group.stats).toMatchObject({ groups: 1, values: 1, auditRows: 1 });
    expect((await storage.audit.query({})).items.map((r) => [r.target, r.result, r.details])).toEqual([
      ['SP', 'OK', '{"newValue":4.5,"oldValue":0}'],
    ]);

    // The value cannot be stored: neither it nor an OK row is; the write fails and its FAILED row follows.
    sqliteDatabaseForTests(storage).exec(
      "CREATE TRIGGER test_refuse BEFORE UPDATE ON kv BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
    );
    await expect(engine.write(engine.require('SP'), 5.5, { user: 'anna' })).rejects.toThrow(/refused by test/);
    expect(engine.require('SP').value).toBe(4.5);
    expect((await storage.audit.query({ order: 'asc' })).items.map((r) => r.result)).toEqual(['OK', 'FAILED']);
    expect(await storage.keyValues.get('internal', 'SP')).toMatchObject({ value: 4.5 });
    expect(await storage.audit.verify()).toMatchObject({ firstBad: null, checked: 2 });
    trail.stopRetrying();
  });
});
