import BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyChainDetailed, type AuditRow } from '../domain/audit/chain.js';
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
    if (v.firstBad === null) {
      out.log(`audit verify: OK, ${v.checked} rows, head ${v.headHash}`);
      return 0;
    }
    const bad = db.prepare('SELECT * FROM audit_log WHERE id = ?').get(v.firstBad) as Parameters<typeof fromDbRow>[0] | undefined;
    const why = {
      'hash-mismatch': 'its content does not match its hash',
      'broken-link': 'it does not link to the row before it',
      'id-gap': 'rows before it are missing',
    }[v.reason ?? 'hash-mismatch'];
    out.error(`audit verify: TAMPERED at row ${v.firstBad} (${why}); ${v.checked} rows before it are intact`);
    if (bad) {
      const r = fromDbRow(bad);
      out.error(`  row ${r.id}: at=${r.at} action=${r.action} user=${r.user ?? '-'} target=${r.target ?? '-'} result=${r.result}`);
    }
    return 1;
  } finally {
    db.close();
  }
}
