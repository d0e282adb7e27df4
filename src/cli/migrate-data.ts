import BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRow } from '../domain/audit/chain.js';
import { inTransaction, redactUrl, type PgExec, type Sql } from '../storage/postgres/db.js';
import { createPool, migratePostgres, PG_MIGRATIONS } from '../storage/postgres/open-postgres.js';
import { insertAlarmRows, OCCURRENCE_BLOCK, type AlarmEventRow } from '../storage/postgres/pg-alarm-journal-repository.js';
import { insertAuditRows, verifyAuditChain } from '../storage/postgres/pg-audit-repository.js';
import { PgHistoryRepository } from '../storage/postgres/pg-history-repository.js';
import { fromDbRow } from '../storage/sqlite/sqlite-audit-repository.js';
import { openSqliteStorage, SQLITE_FILE } from '../storage/sqlite/open-sqlite.js';
import { lockDataDir, StartupError } from '../server/instance-lock.js';

export interface MigrateOutput {
  log(line: string): void;
  error(line: string): void;
}

/**
 * `tagway migrate --database-url URL`: applies pending PostgreSQL migrations, then summarises into roll-ups the
 * history stored before they existed (once; `start` would otherwise do it before it opens), so that a deployment
 * pipeline or a DBA takes that time, not the first start.
 */
export async function runMigrate(databaseUrl: string, out: MigrateOutput = console): Promise<number> {
  const applied = await migratePostgres(databaseUrl);
  out.log(
    applied.length === 0
      ? `migrate: ${redactUrl(databaseUrl)} is up to date (${PG_MIGRATIONS.length} modules)`
      : `migrate: applied ${applied.length} step(s) to ${redactUrl(databaseUrl)}: ${applied.join(', ')}`,
  );
  const pool = createPool(databaseUrl, 1);
  try {
    const exec: PgExec = { run: (f) => f(pool), atomic: (f) => inTransaction(pool, f) };
    await new PgHistoryRepository(exec).init();
  } finally {
    await pool.end();
  }
  out.log('migrate: history roll-ups are up to date');
  return 0;
}

/** Rows copied per round trip. */
const CHUNK = 5_000;
/** Tables checked to be empty before copying, and counted on both sides after. */
const COUNTED: Array<[sqlite: string, pg: string]> = [
  ['kv', 'kv'],
  ['users', 'users'],
  ['admin_groups', 'admin_groups'],
  ['sessions', 'sessions'],
  ['api_clients', 'api_clients'],
  ['signing_keys', 'signing_keys'],
  ['audit_log', 'audit_log'],
  ['alarm_events', 'alarm_events'],
  ['alarm_open', 'alarm_open'],
  ['alarm_names', 'alarm_names'],
  ['alarm_settings', 'alarm_settings'],
  ['history_tags', 'history_tags'],
  ['history', 'history'],
  ['outbox', 'outbox'],
];

type Rec = Record<string, unknown>;

/**
 * `tagway migrate-data --from DATA_DIR --to URL`: copies every store of a stopped SQLite installation into an empty
 * PostgreSQL database, in one transaction (all or nothing), keeping every id: audit rows keep their hashes (the
 * chain verifies on the other side), alarm event ids stay the archive's and SSE's keys, history tag ids their samples.
 */
export async function runMigrateData(fromDir: string, toUrl: string, out: MigrateOutput = console): Promise<number> {
  const file = join(fromDir, SQLITE_FILE);
  if (!existsSync(file)) {
    out.error(`migrate-data: no SQLite database at ${file}`);
    return 2;
  }
  let lock;
  try {
    // A running server would keep writing to the file while it is copied.
    lock = lockDataDir(fromDir);
  } catch (err) {
    if (err instanceof StartupError) {
      out.error(`migrate-data: ${err.message}`);
      return 1;
    }
    throw err;
  }
  try {
    // Brings an older file to the current schema first, so that the copy reads one layout.
    await openSqliteStorage({ dataDir: fromDir }).close();
    await migratePostgres(toUrl);
    const src = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    const pool = createPool(toUrl, 1);
    const client = await pool.connect();
    try {
      for (const [, t] of COUNTED) {
        const n = (await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n;
        if (n > 0) {
          out.error(`migrate-data: ${redactUrl(toUrl)} is not empty (${t} has ${n} rows); give an empty database`);
          return 1;
        }
      }
      await client.query('BEGIN');
      try {
        await copyAll(src, client);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      let same = true;
      for (const [s, t] of COUNTED) {
        const a = (src.prepare(`SELECT count(*) AS n FROM ${s}`).get() as { n: number }).n;
        const b = (await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n;
        if (a !== b) same = false;
        out.log(`  ${t.padEnd(16)} ${String(b).padStart(10)} rows${a === b ? '' : ` (source has ${a}!)`}`);
      }
      const v = await verifyAuditChain(client);
      if (v.firstBad !== null) {
        out.error(`migrate-data: the copied audit chain does not verify at row ${v.firstBad} (${v.reason})`);
        return 1;
      }
      if (!same) {
        out.error('migrate-data: row counts differ');
        return 1;
      }
      out.log(`migrate-data: copied ${fromDir} to ${redactUrl(toUrl)}; audit chain OK (${v.checked} rows, head ${v.headHash})`);
      if (existsSync(join(fromDir, 'secret.key')))
        out.log(
          `  The JWT signing keys are encrypted with ${join(fromDir, 'secret.key')}: copy it into every node's data directory, or set TAGWAY_SECRET_KEY on each.`,
        );
      return 0;
    } finally {
      client.release();
      await pool.end();
      src.close();
    }
  } finally {
    lock.release();
  }
}

function* chunks(db: BetterSqlite3.Database, sql: string): Generator<Rec[]> {
  let batch: Rec[] = [];
  for (const r of db.prepare(sql).iterate() as IterableIterator<Rec>) {
    batch.push(r);
    if (batch.length === CHUNK) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Copies rows column by column through unnest (one statement per chunk). */
async function copyTable(src: BetterSqlite3.Database, db: Sql, table: string, cols: Array<[string, string]>, map?: (r: Rec) => Rec) {
  for (const rows of chunks(src, `SELECT * FROM ${table}`)) {
    const conv = map ? rows.map(map) : rows;
    await db.query(
      `INSERT INTO ${table} (${cols.map((c) => c[0]).join(', ')}) SELECT * FROM unnest(${cols.map((c, i) => `$${i + 1}::${c[1]}[]`).join(', ')})`,
      cols.map(([c]) => conv.map((r) => r[c] ?? null)),
    );
  }
}

async function copyAll(src: BetterSqlite3.Database, db: Sql): Promise<void> {
  await copyTable(src, db, 'kv', [
    ['namespace', 'text'],
    ['key', 'text'],
    ['value', 'text'],
    ['updated_at', 'bigint'],
  ]);
  // The users table's trigger bumps the version row, which the other nodes read: fine, they are not running yet.
  await copyTable(
    src,
    db,
    'users',
    [
      ['username', 'text'],
      ['display_name', 'text'],
      ['password_hash', 'text'],
      ['groups', 'text'],
      ['disabled', 'boolean'],
      ['source', 'text'],
      ['created_at', 'text'],
      ['updated_at', 'text'],
    ],
    (r) => ({ ...r, disabled: r.disabled === 1 }),
  );
  await copyTable(src, db, 'admin_groups', [
    ['name', 'text'],
    ['description', 'text'],
    ['permissions', 'text'],
    ['updated_at', 'text'],
  ]);
  await copyTable(src, db, 'sessions', [
    ['token_hash', 'text'],
    ['username', 'text'],
    ['csrf_token', 'text'],
    ['created_at', 'bigint'],
    ['last_seen_at', 'bigint'],
    ['absolute_expires_at', 'bigint'],
    ['client_address', 'text'],
  ]);
  await copyTable(src, db, 'api_clients', [
    ['client_id', 'text'],
    ['name', 'text'],
    ['secret_hash', 'text'],
    ['groups', 'text'],
    ['created_at', 'text'],
    ['created_by', 'text'],
  ]);
  await copyTable(src, db, 'signing_keys', [
    ['kid', 'text'],
    ['alg', 'text'],
    ['public_jwk', 'text'],
    ['private_enc', 'text'],
    ['created_at', 'bigint'],
    ['retired_at', 'bigint'],
  ]);
  for (const rows of chunks(src, 'SELECT * FROM audit_log ORDER BY id'))
    await insertAuditRows(db, rows.map((r) => fromDbRow(r as unknown as Parameters<typeof fromDbRow>[0])) as AuditRow[]);

  for (const rows of chunks(src, 'SELECT * FROM alarm_events ORDER BY event_id'))
    await insertAlarmRows(
      db,
      rows.map((r) => ({ ...r, username: r.user ?? null }) as unknown as AlarmEventRow),
    );
  await copyTable(src, db, 'alarm_open', [
    ['occurrence', 'bigint'],
    ['alarm', 'text'],
    ['state_machine', 'text'],
  ]);
  await copyTable(src, db, 'alarm_names', [['name', 'text']]);
  await copyTable(
    src,
    db,
    'alarm_settings',
    [
      ['alarm', 'text'],
      ['enabled', 'boolean'],
      ['shelved_until', 'bigint'],
    ],
    (r) => ({ ...r, enabled: r.enabled === 1 }),
  );
  const seq = (src.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'alarm_events'").pluck().get() as number | undefined) ?? 0;
  const last = src.prepare('SELECT max(at) AS at, max(occurrence) AS occ FROM alarm_events').get() as {
    at: number | null;
    occ: number | null;
  };
  const openMax = (src.prepare('SELECT max(occurrence) FROM alarm_open').pluck().get() as number | null) ?? 0;
  await db.query('UPDATE alarm_journal_head SET last_event_id = $1, last_at = $2', [seq, last.at ?? 0]);
  // Occurrence ids continue after the highest the SQLite journal ever gave (blocks of OCCURRENCE_BLOCK).
  const maxOcc = Math.max(last.occ ?? 0, openMax);
  await db.query("SELECT setval('alarm_occurrence_blocks', $1, false)", [Math.floor(maxOcc / OCCURRENCE_BLOCK) + 2]);

  await copyTable(src, db, 'history_tags', [
    ['id', 'int'],
    ['name', 'text'],
  ]);
  await db.query("SELECT setval(pg_get_serial_sequence('history_tags', 'id'), coalesce((SELECT max(id) FROM history_tags), 0) + 1, false)");
  const exec: PgExec = { run: (f) => f(db), atomic: (f) => f(db) };
  const history = new PgHistoryRepository(exec);
  for (const rows of chunks(src, 'SELECT tag_id, ts, value, quality FROM history')) {
    await history.insertBatch({
      count: rows.length,
      tagIds: rows.map((r) => r.tag_id as number),
      ts: rows.map((r) => r.ts as number),
      values: rows.map((r) => r.value as number | string),
      quality: rows.map((r) => r.quality as number),
    });
  }

  await copyTable(src, db, 'outbox', [
    ['id', 'bigint'],
    ['topic', 'text'],
    ['payload', 'text'],
    ['status', 'text'],
    ['attempts', 'int'],
    ['created_at', 'bigint'],
    ['next_attempt_at', 'bigint'],
    ['last_error', 'text'],
    ['delivered_at', 'bigint'],
  ]);
  const outboxSeq = (src.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").pluck().get() as number | undefined) ?? 0;
  await db.query("SELECT setval(pg_get_serial_sequence('outbox', 'id'), $1 + 1, false)", [outboxSeq]);
}
