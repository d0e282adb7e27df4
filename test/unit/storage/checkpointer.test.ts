import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStorage, sqliteDatabaseForTests, SQLITE_FILE } from '../../../src/storage/sqlite/open-sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('WAL checkpoints in a worker thread', () => {
  it('group commits turn the serving connection’s automatic checkpoint off; the worker copies the WAL into the file; close restores it and the chain verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-ckpt-'));
    dirs.push(dir);
    const storage = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'FULL' });
    const db = sqliteDatabaseForTests(storage);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    const file = join(dir, SQLITE_FILE);
    const at = new Date().toISOString();
    const entries = Array.from({ length: 500 }, (_, i) => ({
      at,
      action: 'tag.write',
      user: 'admin',
      clientAddress: '127.0.0.1',
      target: `T${i}`,
      details: `{"newValue":${i},"oldValue":null}`,
      result: 'OK',
    }));
    await storage.transaction((t) => t.audit.appendMany(entries), { deferSync: true });
    await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the worker');
    const before = statSync(file).size;
    // Far past 1,000 pages of WAL: the serving connection no longer checkpoints, so only the worker grows the file.
    for (let g = 0; g < 20; g++) await storage.transaction((t) => t.audit.appendMany(entries), { deferSync: true });
    await until(() => statSync(file).size > before + 1_000_000, 'a checkpoint by the worker');
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await storage.close();
    const reopened = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'FULL' });
    try {
      expect(sqliteDatabaseForTests(reopened).pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      expect(await reopened.audit.count()).toBe(21 * 500);
      expect((await reopened.audit.verify()).firstBad).toBeNull();
    } finally {
      await reopened.close();
    }
  });

  it('a storage that never group-commits starts no worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagway-ckpt-'));
    dirs.push(dir);
    const storage = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
    await storage.transaction((t) =>
      t.audit.appendMany([
        { at: new Date().toISOString(), action: 'auth.login', user: 'a', clientAddress: null, target: null, details: null, result: 'OK' },
      ]),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(sqliteDatabaseForTests(storage).pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await storage.close();
  });
});
