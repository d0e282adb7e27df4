import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { TagDefinition } from '../../src/domain/tag-definition.js';
import { Historian } from '../../src/runtime/historian.js';
import { TagEngine } from '../../src/runtime/tag-engine.js';
import type { Repositories } from '../../src/storage/open.js';
import { runAuditVerifyPostgres } from '../../src/cli/audit-verify.js';
import { migratePostgres, openPostgresStorage, postgresSqlForTests } from '../../src/storage/postgres/open-postgres.js';
import { databaseName, startTestCluster, type TestCluster } from '../helpers/postgres.js';
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

// One cluster for the whole file (about a second to start); every fixture gets a database of its own.
let cluster: TestCluster;
let dataDir: string;
/** A database with every migration applied, copied for each fixture (cheaper than migrating each one). */
let template: string;
beforeAll(async () => {
  cluster = await startTestCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'tagway-pg-data-'));
  const url = await cluster.createDatabase('tagway_template');
  await migratePostgres(url);
  template = databaseName(url);
});
afterAll(async () => {
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const open = (url: string) => openPostgresStorage({ databaseUrl: url, dataDir, poolSize: 4 });

/** A fresh PostgreSQL database per test; `reopen` closes the storage and opens the same database again. */
function postgres<K extends keyof Repositories>(key: K): FixtureFactory<Repositories[K]> {
  return async () => {
    const url = await cluster.createDatabase(undefined, template);
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
describeBoardRepositoryContract('PostgreSQL', postgres('boards'));
describeStorageContract('PostgreSQL', async () => {
  const storage = await open(await cluster.createDatabase(undefined, template));
  return { storage, dispose: () => storage.close() };
});

describe('PostgreSQL storage specifics', () => {
  it('verify names the first audit row altered behind the application’s back', async () => {
    const storage = await open(await cluster.createDatabase(undefined, template));
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
    const url = await cluster.createDatabase(undefined, template);
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
    const url = await cluster.createDatabase(undefined, template);
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

describe('PostgreSQL history specifics', () => {
  const DAY = 86_400_000;
  const D0 = Date.UTC(2026, 0, 10);

  it('keeps samples in day partitions, drops whole days for retention, and serves Grafana’s bucket query', async () => {
    const storage = await open(await cluster.createDatabase(undefined, template));
    try {
      const h = storage.history;
      const a = await h.tagId('Line1.Level');
      const b = await h.tagId('Line1.Text');
      const ts = [D0 - DAY + 5, D0 + 1000, D0 + 61_000, D0 + 62_000, D0 + DAY + 1, D0 + 2 * DAY + 1];
      await h.insertBatch({ count: ts.length, tagIds: ts.map(() => a), ts, values: [1, 2, 4, 6, 8, 10], quality: ts.map(() => 0xc0) });
      await h.insertBatch({ count: 1, tagIds: [b], ts: [D0 + 5], values: ['on'], quality: [0xc0] });
      const sql = postgresSqlForTests(storage);
      const parts = (
        await sql.query<{ name: string }>(
          "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'history'::regclass ORDER BY 1",
        )
      ).rows.map((r) => r.name);
      expect(parts).toEqual(['history_p20260109', 'history_p20260110', 'history_p20260111', 'history_p20260112']);

      // The example of docs/postgresql.md: 1-minute averages of one tag, as Grafana's PostgreSQL data source runs it.
      const grafana = await sql.query<{ time: Date; 'Line1.Level': number }>(
        `SELECT to_timestamp(bucket / 1000.0) AS time, avg AS "Line1.Level"
         FROM history_buckets('Line1.Level', $1, $2, 60000) ORDER BY 1`,
        [D0, D0 + DAY],
      );
      expect(grafana.rows.map((r) => r.time.toISOString())).toEqual([new Date(D0).toISOString(), new Date(D0 + 60_000).toISOString()]);
      expect(grafana.rows.map((r) => r['Line1.Level'])).toEqual([2, 5]);
      const view = await sql.query('SELECT tag, value, text_value FROM history_view WHERE ts >= $1 AND ts < $2 ORDER BY ts', [D0, D0 + 10]);
      expect(view.rows).toEqual([{ tag: 'Line1.Text', value: null, text_value: 'on' }]);

      // Retention: days that end at or before the cut-off go whole, for every tag; the rest is untouched.
      expect(await h.dropBefore(D0 + DAY + 5)).toBe(2);
      expect((await h.raw(a, { from: 0, to: D0 + 3 * DAY, limit: 100, order: 'asc' })).samples.map((s) => s.ts)).toEqual([
        D0 + DAY + 1,
        D0 + 2 * DAY + 1,
      ]);
      expect((await h.raw(b, { from: 0, to: D0 + 3 * DAY, limit: 100, order: 'asc' })).samples).toEqual([]);
      // The roll-ups of the dropped days went with them.
      expect((await h.rollups(a, 0, D0 + 3 * DAY)).map((r) => r.minute)).toEqual([D0 + DAY, D0 + 2 * DAY]);
      expect(await h.rollups(b, 0, D0 + 3 * DAY)).toEqual([]);
      // A day dropped here is created again when a late sample for it arrives.
      await h.insertBatch({ count: 1, tagIds: [a], ts: [D0 + 3], values: [3], quality: [0xc0] });
      expect(await h.firstAtOrAfter(a, 0)).toEqual({ ts: D0 + 3, value: 3, quality: 0xc0 });
    } finally {
      await storage.close();
    }
  });

  it('summarises the history already there into roll-ups once, on the first open after the migration', async () => {
    const url = await cluster.createDatabase(undefined, template);
    let storage = await open(url);
    try {
      const a = await storage.history.tagId('A');
      const ts = Array.from({ length: 200 }, (_, i) => D0 + i * 1700);
      await storage.history.insertBatch({
        count: 200,
        tagIds: ts.map(() => a),
        ts,
        values: ts.map((_, i) => i % 37),
        quality: ts.map((_, i) => (i % 11 ? 0xc0 : 0)),
      });
      const kept = await storage.history.rollups(a, 0, D0 + DAY);
      expect(kept).toHaveLength(6);
      // As if the samples had been written before roll-ups existed.
      const sql = postgresSqlForTests(storage);
      await sql.query('DELETE FROM history_rollup');
      await sql.query('UPDATE history_rollup_state SET backfilled = false');
      await storage.close();
      storage = await open(url);
      expect(await storage.history.rollups(a, 0, D0 + DAY)).toEqual(kept);
    } finally {
      await storage.close();
    }
  });

  it('learns of a partition another node dropped and creates it again', async () => {
    const url = await cluster.createDatabase(undefined, template);
    const [one, two] = await Promise.all([open(url), open(url)]);
    try {
      const a = await one.history.tagId('A');
      await one.history.insertBatch({ count: 1, tagIds: [a], ts: [D0], values: [1], quality: [0xc0] });
      expect(await two.history.dropBefore(D0 + DAY)).toBe(1);
      await one.history.insertBatch({ count: 1, tagIds: [a], ts: [D0 + 1], values: [2], quality: [0xc0] });
      expect((await two.history.raw(a, { from: 0, to: D0 + DAY, limit: 10, order: 'asc' })).samples).toEqual([
        { ts: D0 + 1, value: 2, quality: 0xc0 },
      ]);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('PostgreSQL audit chain with several writers', () => {
  it('two storages (two nodes) appending at once form one chain that verifies, with no id twice', async () => {
    const url = await cluster.createDatabase(undefined, template);
    const nodes = await Promise.all([open(url), open(url), open(url)]);
    try {
      const at = '2026-01-01T00:00:00.000Z';
      const entry = (node: number, i: number) => ({
        at,
        action: 'tag.write',
        user: `node${node}`,
        clientAddress: null,
        target: `T${i}`,
        details: null,
        result: 'OK',
      });
      // Each node runs several appends concurrently on its own pool: 3 nodes x 4 writers x 15 appends, some of them batches.
      await Promise.all(
        nodes.flatMap((s, n) =>
          [0, 1, 2, 3].map(async (w) => {
            for (let i = 0; i < 15; i++) {
              if (i % 5 === 0) await s.audit.appendMany([entry(n, w * 100 + i), entry(n, w * 100 + i + 50)]);
              else await s.audit.append(entry(n, w * 100 + i));
            }
          }),
        ),
      );
      const total = 3 * 4 * (15 + 3);
      expect(await nodes[0]!.audit.count()).toBe(total);
      expect(await nodes[1]!.audit.verify()).toMatchObject({ firstBad: null, checked: total });
      const lines: string[] = [];
      expect(await runAuditVerifyPostgres(url, { log: (l) => lines.push(l), error: (l) => lines.push(l) })).toBe(0);
      expect(lines[0]).toMatch(new RegExp(`OK, ${total} rows`));
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it('the CLI check names a tampered row and exits 1; a database without a trail exits 2', async () => {
    const url = await cluster.createDatabase(undefined, template);
    const storage = await open(url);
    try {
      const at = '2026-01-01T00:00:00.000Z';
      await storage.audit.appendMany(
        [1, 2, 3].map((i) => ({ at, action: 'tag.write', user: 'u', clientAddress: null, target: `T${i}`, details: null, result: 'OK' })),
      );
      await postgresSqlForTests(storage).query(
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; UPDATE audit_log SET target = 'X' WHERE id = 3",
      );
      const lines: string[] = [];
      expect(await runAuditVerifyPostgres(url, { log: (l) => lines.push(l), error: (l) => lines.push(l) })).toBe(1);
      expect(lines.join('\n')).toMatch(/TAMPERED at row 3 .*2 rows before it are intact[\s\S]*target=X/);
    } finally {
      await storage.close();
    }
    const empty = await cluster.createDatabase();
    expect(await runAuditVerifyPostgres(empty, { log: () => undefined, error: () => undefined })).toBe(2);
  });
});

describe('historian retention on PostgreSQL', () => {
  it('drops the days older than every tag’s retention whole, and trims the rest per tag', async () => {
    const DAY = 86_400_000;
    const now = Date.UTC(2026, 2, 20, 12);
    const storage = await open(await cluster.createDatabase(undefined, template));
    try {
      const h = storage.history;
      for (const name of ['Short', 'Default']) {
        const id = await h.tagId(name);
        const ts = Array.from({ length: 8 }, (_, i) => now - (i + 0.5) * DAY);
        await h.insertBatch({ count: 8, tagIds: ts.map(() => id), ts, values: ts.map(() => 1), quality: ts.map(() => 0xc0) });
      }
      const tag = (name: string, retentionDays?: number): TagDefinition => ({
        name,
        type: 'Float64',
        access: 'readwrite',
        connection: 'x',
        history: { mode: 'onChange', ...(retentionDays ? { retentionDays } : {}) },
      });
      const clock = new ManualClock(now);
      const engine = new TagEngine([tag('Short', 2), tag('Default')], clock);
      const historian = new Historian(engine, h, clock, { defaultRetentionDays: 5, pruneBatchRows: 3 });
      historian.start();
      await historian.prune();
      await historian.stop();
      const sql = postgresSqlForTests(storage);
      const days = (await sql.query<{ n: number }>("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'history'::regclass")).rows[0]!
        .n;
      // Samples sat in 9 UTC days; the oldest cut-off (5 days, 'Default') lets the days that end before it go whole.
      const cutoff = now - 5 * DAY;
      const firstKept = Math.floor(cutoff / DAY);
      const firstStored = Math.floor((now - 7.5 * DAY) / DAY);
      expect(firstStored).toBeLessThan(firstKept);
      expect(days).toBe(Math.floor((now - 0.5 * DAY) / DAY) - firstKept + 1);
      const ages = async (name: string) =>
        (await h.raw((await h.findTagId(name))!, { from: 0, to: now + DAY, limit: 100, order: 'asc' })).samples
          .map((s) => (now - s.ts) / DAY)
          .filter((d) => d > 0);
      expect(await ages('Short')).toEqual([1.5, 0.5]);
      expect(await ages('Default')).toEqual([4.5, 3.5, 2.5, 1.5, 0.5]);
    } finally {
      await storage.close();
    }
  });
});
