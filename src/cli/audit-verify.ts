import BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { verifyChainDetailed, type AuditRow, type ChainVerdict } from '../domain/audit/chain.js';
import { pgTypes, redactUrl } from '../storage/postgres/db.js';
import { fromPgRow, verifyAuditChain } from '../storage/postgres/pg-audit-repository.js';
import { fromDbRow } from '../storage/sqlite/sqlite-audit-repository.js';

/** File name of the SQLite database inside the data directory. */
export const DATABASE_FILE = 'tagway.db';

export interface VerifyOutput {
  log(line: string): void;
  error(line: string): void;
}

/**
 * `tagway audit verify`: walks the whole chain and reports the first row that no longer fits.
 * Exit codes: 0 intact, 1 tampered, 2 cannot check (no database, no audit table).
 * Opens the file read-only so that checking never changes the evidence.
 */
export function runAuditVerify(dataDir: string, out: VerifyOutput = console, file = join(dataDir, DATABASE_FILE)): number {
  if (!existsSync(file)) {
    out.error(`audit verify: no database at ${file}`);
    return 2;
  }
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get();
    if (!table) {
      out.error(`audit verify: ${file} holds no audit trail`);
      return 2;
    }
    const rows = (function* () {
      for (const r of db.prepare('SELECT * FROM audit_log ORDER BY id ASC').iterate())
        yield fromDbRow(r as Parameters<typeof fromDbRow>[0]);
    })() as Iterable<AuditRow>;
    const v = verifyChainDetailed(rows);
    const bad =
      v.firstBad === null
        ? undefined
        : (db.prepare('SELECT * FROM audit_log WHERE id = ?').get(v.firstBad) as Parameters<typeof fromDbRow>[0] | undefined);
    return report(v, bad && fromDbRow(bad), out);
  } finally {
    db.close();
  }
}

function report(v: ChainVerdict, bad: AuditRow | undefined, out: VerifyOutput): number {
  if (v.firstBad === null) {
    out.log(`audit verify: OK, ${v.checked} rows, head ${v.headHash}`);
    return 0;
  }
  const why = {
    'hash-mismatch': 'its content does not match its hash',
    'broken-link': 'it does not link to the row before it',
    'id-gap': 'rows before it are missing',
  }[v.reason ?? 'hash-mismatch'];
  out.error(`audit verify: TAMPERED at row ${v.firstBad} (${why}); ${v.checked} rows before it are intact`);
  if (bad)
    out.error(
      `  row ${bad.id}: at=${bad.at} action=${bad.action} user=${bad.user ?? '-'} target=${bad.target ?? '-'} result=${bad.result}`,
    );
  return 1;
}

/**
 * `tagway audit verify --database-url URL`: the same check on PostgreSQL, in one read-only transaction (one
 * snapshot, so rows appended by running nodes meanwhile neither disturb nor extend the walk).
 */
export async function runAuditVerifyPostgres(databaseUrl: string, out: VerifyOutput = console): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, types: pgTypes, application_name: 'tagway audit verify' });
  try {
    await client.connect();
  } catch (err) {
    out.error(`audit verify: cannot connect to ${redactUrl(databaseUrl)}: ${(err as Error).message}`);
    return 2;
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const table = (await client.query<{ t: string | null }>("SELECT to_regclass('audit_log')::text AS t")).rows[0]?.t;
    if (!table) {
      out.error(`audit verify: ${redactUrl(databaseUrl)} holds no audit trail`);
      return 2;
    }
    const v = await verifyAuditChain(client);
    const bad = v.firstBad === null ? undefined : (await client.query('SELECT * FROM audit_log WHERE id = $1', [v.firstBad])).rows[0];
    return report(v, bad && fromPgRow(bad as Parameters<typeof fromPgRow>[0]), out);
  } finally {
    await client.end().catch(() => undefined);
  }
}
