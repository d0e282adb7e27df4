import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Repositories } from '../../src/storage/open.js';
import { openDatabase } from '../../src/storage/sqlite/database.js';
import { openSqliteStorage, sqliteDatabaseForTests, SQLITE_FILE, type SqliteStorage } from '../../src/storage/sqlite/open-sqlite.js';
import { describeAlarmJournalRepositoryContract, describeAlarmSettingsRepositoryContract } from './alarm-journal.contract.js';
import { describeApiClientRepositoryContract } from './api-client.contract.js';
import { describeAuditRepositoryContract } from './audit.contract.js';
import { describeBoardRepositoryContract } from './board.contract.js';
import type { FixtureFactory } from './fixture.js';
import { describeGroupRepositoryContract } from './group.contract.js';
import { describeHistoryRepositoryContract } from './history.contract.js';
import { describeKeyValueRepositoryContract } from './key-value.contract.js';
import { describeOutboxRepositoryContract } from './outbox.contract.js';
import { describeSessionRepositoryContract } from './session.contract.js';
import { describeSigningKeyRepositoryContract } from './signing-key.contract.js';
import { describeStorageContract } from './storage.contract.js';
import { describeUserRepositoryContract } from './user.contract.js';

/** A fresh SQLite storage in its own temp dir per test; `reopen` closes it and opens the same file again. */
function sqlite<K extends keyof Repositories>(key: K): FixtureFactory<Repositories[K]> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-contract-'));
    let storage = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
    return {
      repo: storage[key],
      reopen: async () => {
        await storage.close();
        storage = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
        return storage[key];
      },
      close: async () => {
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

describeKeyValueRepositoryContract('SQLite', sqlite('keyValues'));
describeUserRepositoryContract('SQLite', sqlite('users'));
describeGroupRepositoryContract('SQLite', sqlite('groups'));
describeSessionRepositoryContract('SQLite', sqlite('sessions'));
describeApiClientRepositoryContract('SQLite', sqlite('apiClients'));
describeSigningKeyRepositoryContract('SQLite', sqlite('signingKeys'));
describeAuditRepositoryContract('SQLite', sqlite('audit'));
describeAlarmJournalRepositoryContract('SQLite', sqlite('alarmJournal'));
describeAlarmSettingsRepositoryContract('SQLite', sqlite('alarmSettings'));
describeHistoryRepositoryContract('SQLite', sqlite('history'));
describeOutboxRepositoryContract('SQLite', sqlite('outbox'));
describeBoardRepositoryContract('SQLite', sqlite('boards'));
describeStorageContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagway-contract-'));
  const storage = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  return {
    storage,
    dispose: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite storage specifics', () => {
  const dirs: string[] = [];
  const stores: SqliteStorage[] = [];
  const open = (dir = mkdtempSync(join(tmpdir(), 'tagway-sqlite-'))) => {
    dirs.push(dir);
    const s = openSqliteStorage({ dataDir: dir });
    stores.push(s);
    return { dir, storage: s };
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reports degraded with the reason after a disk-full write, and ok again once it has been long enough', async () => {
    const { storage } = open();
    // Every growing write now fails with SQLITE_FULL, as on a full disk (docs: testing storage faults).
    const db = (storage as unknown as { db: { pragma(s: string, o?: { simple: true }): unknown } }).db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    await expect(storage.keyValues.set('ns', 'big', 'x'.repeat(200_000), 1)).rejects.toThrow(/full/);
    const h = await storage.health();
    expect(h).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/full/) });
    expect(h.freeBytes).toBeGreaterThan(0);
  });

  it('reports degraded when the data directory has less free space than required', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-sqlite-'));
    dirs.push(dir);
    const storage = openSqliteStorage({ dataDir: dir, minFreeBytes: Number.MAX_SAFE_INTEGER });
    stores.push(storage);
    expect(await storage.health()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/bytes free/) });
  });

  it('verify names the first audit row altered behind the application’s back', async () => {
    const { storage } = open();
    const at = '2026-01-01T00:00:00.000Z';
    await storage.audit.appendMany(
      [1, 2, 3].map((i) => ({ at, action: 'tag.write', user: 'u', clientAddress: null, target: `T${i}`, details: null, result: 'OK' })),
    );
    const db = (storage as unknown as { db: { exec(s: string): void } }).db;
    db.exec("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET result = 'FAILED' WHERE id = 2");
    expect(await storage.audit.verify()).toMatchObject({ firstBad: 2, reason: 'hash-mismatch', checked: 1 });
  });

  it('group commit at synchronous FULL: units share WAL syncs made off the event loop, and the level is restored', async () => {
    const { storage } = open();
    const db = sqliteDatabaseForTests(storage);
    const before = storage.walSync.syncs;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => storage.transaction((tx) => tx.keyValues.set('internal', `K${i}`, i, i), { deferSync: true })),
    );
    const syncs = storage.walSync.syncs - before;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(30);
    // 2 = FULL: only the group's own commits ran at NORMAL.
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect((await storage.keyValues.list('internal')).length).toBe(30);
    // syncLater: committed without a sync of its own; the next deferred unit's sync covers it.
    const at = storage.walSync.syncs;
    let committed = false;
    await storage.transaction((tx) => tx.keyValues.set('internal', 'L', 1, 1), {
      deferSync: true,
      syncLater: true,
      onCommit: () => (committed = true),
    });
    expect(committed).toBe(true);
    expect(storage.walSync.syncs).toBe(at);
    await storage.transaction(() => Promise.resolve(), { deferSync: true });
    expect(storage.walSync.syncs).toBe(at + 1);
  });

  it('WAL syncs: a slot is free while fewer than two run; with two running, whenSlotFree settles as one ends', async () => {
    const { storage } = open();
    await storage.transaction((tx) => tx.keyValues.set('internal', 'K', 1, 1)); // the WAL exists
    expect(storage.whenSyncSlotFree()).toBeUndefined();
    const first = storage.walSync.sync();
    expect(storage.whenSyncSlotFree()).toBeUndefined();
    const second = storage.walSync.sync();
    const slot = storage.whenSyncSlotFree();
    expect(slot).toBeInstanceOf(Promise);
    await slot;
    expect(storage.whenSyncSlotFree()).toBeUndefined();
    await Promise.all([first, second]);
  });

  it('moves the internal driver’s retained values into the key-value store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-sqlite-'));
    dirs.push(dir);
    const old = openDatabase(join(dir, SQLITE_FILE));
    old.exec(`CREATE TABLE internal_values (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO internal_values VALUES ('SP', '42.5', 1000), ('Recipe', '"x"', 2000)`);
    old.close();
    const { storage } = open(dir);
    expect(await storage.keyValues.list('internal')).toEqual([
      { key: 'Recipe', value: 'x', updatedAt: 2000 },
      { key: 'SP', value: 42.5, updatedAt: 1000 },
    ]);
  });

  it('changes the users’ external version when another process commits to the file', async () => {
    const { dir, storage } = open();
    const v = await storage.users.externalVersion();
    await storage.users.upsert({ username: 'own', displayName: 'o', passwordHash: '', groups: [], disabled: false, source: 'local' });
    expect(await storage.users.externalVersion()).toBe(v);
    const cli = openSqliteStorage({ dataDir: dir });
    await cli.users.upsert({ username: 'cli', displayName: 'c', passwordHash: '', groups: [], disabled: false, source: 'local' });
    await cli.close();
    expect(await storage.users.externalVersion()).not.toBe(v);
    expect((await storage.users.list()).map((u) => u.username)).toEqual(['cli', 'own']);
  });
});
