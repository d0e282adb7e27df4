import { chainRows, GENESIS_HASH, verifyChainDetailed, type AuditRow, type ChainVerdict } from '../../domain/audit/chain.js';
import {
  AUDIT_DEFAULT_LIMIT,
  AUDIT_MAX_LIMIT,
  type AuditPage,
  type AuditQuery,
  type AuditRepository,
  type NewAuditEntry,
  tagItemNeedle,
} from '../audit-repository.js';
import type { Statement } from 'better-sqlite3';
import { migrate, type Database } from './database.js';
import { SqliteRepository } from './repository.js';

export { AUDIT_MAX_LIMIT };

/** Rows per multi-row INSERT (640 parameters, well under SQLite's limit of 32,766). */
const INSERT_CHUNK = 64;

/**
 * The audit trail in SQLite: append-only (triggers refuse UPDATE and DELETE, so a bug or a stray admin query
 * cannot rewrite history through the application's connection) and hash-chained (so someone with file access
 * who drops the triggers is still caught by `tagway audit verify`).
 */
const MIGRATIONS = [
  `CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY,
     at TEXT NOT NULL,
     action TEXT NOT NULL,
     user TEXT,
     client_address TEXT,
     target TEXT,
     details TEXT,
     result TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX audit_log_at ON audit_log (at, id);
   CREATE INDEX audit_log_user ON audit_log (user, id);
   CREATE INDEX audit_log_action ON audit_log (action, id);
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;`,
];

interface DbRow {
  id: number;
  at: string;
  action: string;
  user: string | null;
  client_address: string | null;
  target: string | null;
  details: string | null;
  result: string;
  prev_hash: string;
  hash: string;
}

export function fromDbRow(r: DbRow): AuditRow {
  return {
    id: r.id,
    at: r.at,
    action: r.action,
    user: r.user,
    clientAddress: r.client_address,
    target: r.target,
    details: r.details,
    result: r.result,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Cursor = the last row id seen, base64url so clients treat it as opaque. */
function encodeCursor(id: number): string {
  return Buffer.from(`a${id}`).toString('base64url');
}
export function decodeCursor(c: string): number | null {
  const s = Buffer.from(c, 'base64url').toString('utf8');
  return /^a\d{1,15}$/.test(s) ? Number(s.slice(1)) : null;
}

export class SqliteAuditRepository extends SqliteRepository implements AuditRepository {
  private readonly inserts = new Map<number, Statement>();
  private readonly last;
  private readonly appendManyTx;

  constructor(private readonly db: Database) {
    super();
    migrate(db, 'audit', MIGRATIONS);
    this.last = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
    const append = (entries: readonly NewAuditEntry[]): AuditRow[] => {
      const head = (this.last.get() as { id: number; hash: string } | undefined) ?? { id: 0, hash: GENESIS_HASH };
      const rows = chainRows(entries, head);
      this.insertRows(rows);
      return rows;
    };
    const many = db.transaction(append);
    // Reading the head and inserting the next rows happen in one IMMEDIATE transaction, which takes SQLite's write
    // lock first: two writers (even two processes on the same file) can then never chain onto the same head.
    // Inside a unit of work (already holding the lock) the rows go straight into it, without a savepoint: a failure
    // rolls the whole unit back (Storage.transaction), and a savepoint copied every page the group commit touched
    // into a statement journal that spilled to a temporary file past 64 KiB (an open, 50 writes and an unlink for
    // every few groups of single writes).
    this.appendManyTx = (entries: readonly NewAuditEntry[]) => (db.inTransaction ? append(entries) : many.immediate(entries));
  }

  /**
   * Multi-row INSERTs with positional parameters: a group commit of 5,000 rows runs 79 statements of 64 rows rather
   * than 5,000, and binds arrays instead of looking up ten named properties per row.
   */
  private insertRows(rows: readonly AuditRow[]): void {
    let i = 0;
    for (const size of [INSERT_CHUNK, 8, 1]) {
      const stmt = size <= rows.length - i ? this.insertOf(size) : undefined;
      if (stmt === undefined) continue;
      const args = new Array<unknown>(size * 10);
      while (rows.length - i >= size) {
        for (let j = 0; j < size; j++) {
          const r = rows[i + j]!;
          const k = j * 10;
          args[k] = r.id;
          args[k + 1] = r.at;
          args[k + 2] = r.action;
          args[k + 3] = r.user;
          args[k + 4] = r.clientAddress;
          args[k + 5] = r.target;
          args[k + 6] = r.details;
          args[k + 7] = r.result;
          args[k + 8] = r.prevHash;
          args[k + 9] = r.hash;
        }
        stmt.run(args);
        i += size;
      }
    }
  }

  private insertOf(rows: number): Statement {
    let s = this.inserts.get(rows);
    if (s === undefined) {
      s = this.db.prepare(
        `INSERT INTO audit_log (id, at, action, user, client_address, target, details, result, prev_hash, hash) VALUES ${Array.from({ length: rows }, () => '(?,?,?,?,?,?,?,?,?,?)').join(',')}`,
      );
      this.inserts.set(rows, s);
    }
    return s;
  }

  appendMany(entries: readonly NewAuditEntry[]): Promise<AuditRow[]> {
    return this.exec(() => (entries.length === 0 ? [] : this.appendManyTx(entries)));
  }

  append(entry: NewAuditEntry): Promise<AuditRow> {
    return this.exec(() => this.appendManyTx([entry])[0]!);
  }

  query(q: AuditQuery = {}): Promise<AuditPage> {
    return this.exec(() => this.querySync(q));
  }

  private querySync(q: AuditQuery): AuditPage {
    const where: string[] = [];
    const params: unknown[] = [];
    const desc = (q.order ?? 'desc') === 'desc';
    if (q.from !== undefined) {
      where.push('at >= ?');
      params.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('at < ?');
      params.push(q.to);
    }
    if (q.user !== undefined) {
      where.push('user = ?');
      params.push(q.user);
    }
    if (q.action !== undefined) {
      const list = typeof q.action === 'string' ? [q.action] : [...q.action];
      if (list.length > 0) {
        where.push(`action IN (${list.map(() => '?').join(',')})`);
        params.push(...list);
      }
    }
    if (q.tag !== undefined) {
      // instr first: a row's JSON is parsed only when its text holds the item's name (see tagItemNeedle); CASE so
      // that json_extract never sees an item that is not an object (a bare string is not JSON text).
      where.push(`(target = ? OR (target IS NULL AND instr(details, ?) > 0 AND EXISTS (
        SELECT 1 FROM json_each(details, '$.items') AS i WHERE CASE WHEN i.type = 'object' THEN json_extract(i.value, '$.name') END = ?)))`);
      params.push(q.tag, tagItemNeedle(q.tag), q.tag);
    }
    if (q.cursor !== undefined) {
      const after = decodeCursor(q.cursor);
      if (after === null) throw new RangeError('invalid cursor');
      where.push(desc ? 'id < ?' : 'id > ?');
      params.push(after);
    }
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? AUDIT_DEFAULT_LIMIT)), AUDIT_MAX_LIMIT);
    // Keyset on id: ids grow with every append, so pages stay stable while new rows arrive.
    const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
    const rows = (this.db.prepare(sql).all(...params, limit + 1) as DbRow[]).map(fromDbRow);
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const lastRow = rows[rows.length - 1];
    return { items: rows, next: more && lastRow ? encodeCursor(lastRow.id) : null };
  }

  verify(): Promise<ChainVerdict> {
    return this.exec(() => verifyChainDetailed(this.iterate()));
  }

  /** Every row in id order, streamed (for verification and export). */
  *iterate(): IterableIterator<AuditRow> {
    for (const r of this.db.prepare('SELECT * FROM audit_log ORDER BY id ASC').iterate() as IterableIterator<DbRow>) yield fromDbRow(r);
  }

  count(): Promise<number> {
    return this.exec(() => (this.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n);
  }
}
