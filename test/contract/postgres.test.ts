import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Repositories } from '../../src/storage/open.js';
import { openPostgresStorage, postgresSqlForTests } from '../../src/storage/postgres/open-postgres.js';
import { startTestCluster, type TestCluster } from '../helpers/postgres.js';
import { describeAlarmJournalRepositoryContract, describeAlarmSettingsRepositoryContract } from './alarm-journal.contract.js';
import { describeApiClientRepositoryContract } from './api-client.contract.js';
import { describeAuditRepositoryContract } from './audit.contract.js';
import type { FixtureFactory } from './fixture.js';
import { describeGroupRepositoryContract } from './group.contract.js';
import { describeHistoryRepositoryContract } from './history.contract.js';
import { describeKeyValueRepositoryContract } from './key-value.contract.js';
import { describeOutboxRepositoryContract } from './outbox.contract.js';
import { describeSessionRepositoryContract } from './session.contract.js';
import { describeSigningKeyRepositoryContract } from './signing-key.contract.js';
import { describeStorageContract } from './storage.contract.js';
import { describeUserRepositoryContract } from './user.contract.js';

// One cluster for the whole file (about a second to start); every fixture gets a database of its own.
let cluster: TestCluster;
let dataDir: string;
beforeAll(async () => {
  cluster = await startTestCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'tagway-pg-data-'));
});
afterAll(async () => {
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const open = (url: string) => openPostgresStorage({ databaseUrl: url, dataDir, poolSize: 4 });

/** A fresh PostgreSQL database per test; `reopen` closes the storage and opens the same database again. */
function postgres<K extends keyof Repositories>(key: K): FixtureFactory<Repositories[K]> {
  return async () => {
    const url = await cluster.createDatabase();
    let storage = await open(url);
    return {
      repo: storage[key],
      reopen: async () => {
        await storage.close();
        storage = await open(url);
        return storage[key];
      },
      close: () => storage.close(),
    };
  };
}

describeKeyValueRepositoryContract('PostgreSQL', postgres('keyValues'));
describeUserRepositoryContract('PostgreSQL', postgres('users'));
describeGroupRepositoryContract('PostgreSQL', postgres('groups'));
describeSessionRepositoryContract('PostgreSQL', postgres('sessions'));
describeApiClientRepositoryContract('PostgreSQL', postgres('apiClients'));
describeSigningKeyRepositoryContract('PostgreSQL', postgres('signingKeys'));
describeAuditRepositoryContract('PostgreSQL', postgres('audit'));
describeAlarmJournalRepositoryContract('PostgreSQL', postgres('alarmJournal'));
describeAlarmSettingsRepositoryContract('PostgreSQL', postgres('alarmSettings'));
describeHistoryRepositoryContract('PostgreSQL', postgres('history'));
describeOutboxRepositoryContract('PostgreSQL', postgres('outbox'));
describeStorageContract('PostgreSQL', async () => {
  const storage = await open(await cluster.createDatabase());
  return { storage, dispose: () => storage.close() };
});

describe('PostgreSQL storage specifics', () => {
  it('verify names the first audit row altered behind the application’s back', async () => {
    const storage = await open(await cluster.createDatabase());
    try {
      const at = '2026-01-01T00:00:00.000Z';
      await storage.audit.appendMany(
        [1, 2, 3].map((i) => ({ at, action: 'tag.write', user: 'u', clientAddress: null, target: `T${i}`, details: null, result: 'OK' })),
      );
      const sql = postgresSqlForTests(storage);
      await expect(sql.query("UPDATE audit_log SET result = 'FAILED' WHERE id = 2")).rejects.toThrow(/append-only/);
      await sql.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; UPDATE audit_log SET result = 'FAILED' WHERE id = 2");
      expect(await storage.audit.verify()).toMatchObject({ firstBad: 2, reason: 'hash-mismatch', checked: 1 });
    } finally {
      await storage.close();
    }
  });

  it('changes the users’ external version when another node commits', async () => {
    const url = await cluster.createDatabase();
    const storage = await open(url);
    const other = await open(url);
    try {
      const v = await storage.users.externalVersion();
      await other.users.upsert({ username: 'cli', displayName: 'c', passwordHash: '', groups: [], disabled: false, source: 'local' });
      expect(await storage.users.externalVersion()).not.toBe(v);
      expect((await storage.users.list()).map((u) => u.username)).toEqual(['cli']);
    } finally {
      await other.close();
      await storage.close();
    }
  });

  it('migrates once when two nodes start together, and gives them disjoint occurrence ids', async () => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([open(url), open(url)]);
    try {
      const ids = new Set<number>();
      for (let i = 0; i < 1500; i++) {
        ids.add(a.alarmJournal.nextOccurrenceId());
        ids.add(b.alarmJournal.nextOccurrenceId());
        if (i % 400 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(ids.size).toBe(3000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses to open a database that does not exist, naming it without a password', async () => {
    const err = await openPostgresStorage({
      databaseUrl: `postgres://postgres:s3cret@127.0.0.1:${cluster.port}/nonexistent_db_x`,
      dataDir,
    }).then(
      () => new Error('opened'),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/nonexistent_db_x.*does not exist/);
    expect(err.message).not.toMatch(/s3cret/);
  });
});
