import { chainRow, GENESIS_HASH, verifyChainDetailed, type AuditRow, type ChainVerdict } from '../../domain/audit/chain.js';
import {
  AUDIT_DEFAULT_LIMIT,
  AUDIT_MAX_LIMIT,
  type AuditPage,
  type AuditQuery,
  type AuditRepository,
  type NewAuditEntry,
  detailsListTag,
  tagItemNeedle,
} from '../audit-repository.js';
import { LOCK_NS, LOCKS, PgRepository, type PgMigrations, type Sql } from './db.js';

/**
 * The audit trail in PostgreSQL: append-only (triggers refuse UPDATE, DELETE and TRUNCATE through any role that
 * cannot drop them) and hash-chained, so that `tagway audit verify --database-url` still catches anyone who can.
 */
export const AUDIT_MIGRATIONS: PgMigrations = {
  module: 'audit',
  steps: [
    `CREATE TABLE audit_log (
       id BIGINT PRIMARY KEY,
       at TEXT COLLATE "C" NOT NULL,
       action TEXT NOT NULL,
       username TEXT,
       client_address TEXT,
       target TEXT,
       details TEXT,
       result TEXT NOT NULL,
       prev_hash TEXT NOT NULL,
       hash TEXT NOT NULL
     );
     CREATE INDEX audit_log_at ON audit_log (at, id);
     CREATE INDEX audit_log_user ON audit_log (username, id);
     CREATE INDEX audit_log_action ON audit_log (action, id);
     CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
     CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
     CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();`,
  ],
};

interface DbRow {
  id: number;
  at: string;
  action: string;
  username: string | null;
  client_address: string | null;
  target: string | null;
  details: string | null;
  result: string;
  prev_hash: string;
  hash: string;
}

export function fromPgRow(r: DbRow): AuditRow {
  return {
    id: r.id,
    at: r.at,
    action: r.action,
    user: r.username,
    clientAddress: r.client_address,
    target: r.target,
    details: r.details,
    result: r.result,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Same cursor form as SQLite's, so a client's cursor survives a move between backends. */
function encodeCursor(id: number): string {
  return Buffer.from(`a${id}`).toString('base64url');
}
function decodeCursor(c: string): number | null {
  const s = Buffer.from(c, 'base64url').toString('utf8');
  return /^a\d{1,15}$/.test(s) ? Number(s.slice(1)) : null;
}

/** Rows read per round trip while verifying (memory stays bounded whatever the trail's length). */
const VERIFY_PAGE = 5_000;

/** Inserts already-chained rows (also used by `tagway migrate-data`, which copies rows with their hashes). */
export async function insertAuditRows(db: Sql, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO audit_log (id, at, action, username, client_address, target, details, result, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.at),
      rows.map((r) => r.action),
      rows.map((r) => r.user),
      rows.map((r) => r.clientAddress),
      rows.map((r) => r.target),
      rows.map((r) => r.details),
      rows.map((r) => r.result),
      rows.map((r) => r.prevHash),
      rows.map((r) => r.hash),
    ],
  );
}

export class PgAuditRepository extends PgRepository implements AuditRepository {
  appendMany(entries: readonly NewAuditEntry[]): Promise<AuditRow[]> {
    if (entries.length === 0) return this.db.run(async () => []);
    return this.db.atomic(async (db) => {
      // Every writer (any node, any process) takes this lock before reading the head, and holds it until its rows
      // are committed: the next writer then reads the new head, so the chain never forks.
      await db.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NS, LOCKS.audit]);
      const head = (await db.query<{ id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1')).rows[0];
      let prev = { id: head?.id ?? 0, hash: head?.hash ?? GENESIS_HASH };
      const rows: AuditRow[] = [];
      for (const entry of entries) {
        const row = chainRow({ ...entry, id: prev.id + 1 }, prev.hash);
        rows.push(row);
        prev = row;
      }
      await insertAuditRows(db, rows);
      return rows;
    });
  }

  async append(entry: NewAuditEntry): Promise<AuditRow> {
    return (await this.appendMany([entry]))[0]!;
  }

  query(q: AuditQuery = {}): Promise<AuditPage> {
    const desc = (q.order ?? 'desc') === 'desc';
    let after: number | undefined;
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor);
      if (c === null) return Promise.reject(new RangeError('invalid cursor'));
      after = c;
    }
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? AUDIT_DEFAULT_LIMIT)), AUDIT_MAX_LIMIT);
    const tag = q.tag;
    const select = (afterId: number | undefined): [string, unknown[]] => {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      // ISO 8601 UTC strings compare like times byte by byte (the column's collation is "C", as SQLite compares).
      if (q.from !== undefined) where.push(`at >= ${p(q.from)}`);
      if (q.to !== undefined) where.push(`at < ${p(q.to)}`);
      if (q.user !== undefined) where.push(`username = ${p(q.user)}`);
      if (q.action !== undefined) {
        const list = typeof q.action === 'string' ? [q.action] : [...q.action];
        if (list.length > 0) where.push(`action = ANY(${p(list)}::text[])`);
      }
      // Only the substring test here; the items are checked below (see the loop).
      if (tag !== undefined) where.push(`(target = ${p(tag)} OR (target IS NULL AND strpos(details, ${p(tagItemNeedle(tag))}) > 0))`);
      if (afterId !== undefined) where.push(`id ${desc ? '<' : '>'} ${p(afterId)}`);
      return [
        `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT ${p(limit + 1)}`,
        params,
      ];
    };
    return this.db.run(async (db) => {
      const rows: AuditRow[] = [];
      // With a tag, a row without a target that holds the name's text may still not list it as an item (the text can
      // sit inside a value): such rows are dropped here, and the next rows read until the page is full. Checked in
      // JavaScript, not with details::jsonb @> …: PostgreSQL's JSON types refuse \u0000 and lone surrogates, which
      // canonical JSON may hold (a PLC string padded with NULs as a write's old value), and one such row would fail
      // every query whose range holds it.
      for (let afterId = after; ; ) {
        const batch = (await db.query<DbRow>(...select(afterId))).rows;
        for (const r of batch) if (tag === undefined || r.target !== null || detailsListTag(r.details, tag)) rows.push(fromPgRow(r));
        if (rows.length > limit || batch.length <= limit) break;
        afterId = batch[batch.length - 1]!.id;
      }
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const last = rows[rows.length - 1];
      return { items: rows, next: more && last ? encodeCursor(last.id) : null };
    });
  }

  verify(): Promise<ChainVerdict> {
    return this.db.run((db) => verifyAuditChain(db));
  }

  count(): Promise<number> {
    return this.db.run(async (db) => (await db.query<{ n: number }>('SELECT count(*) AS n FROM audit_log')).rows[0]!.n);
  }
}

/** Walks the whole chain page by page (bounded memory); the CLI's `audit verify --database-url` uses it too. */
export async function verifyAuditChain(db: Sql): Promise<ChainVerdict> {
  let start = { prevHash: GENESIS_HASH, prevId: 0 };
  let checked = 0;
  for (;;) {
    const rows = (
      await db.query<DbRow>('SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2', [start.prevId, VERIFY_PAGE])
    ).rows.map(fromPgRow);
    const v = verifyChainDetailed(rows, start);
    checked += v.checked;
    if (v.firstBad !== null || rows.length < VERIFY_PAGE) return { ...v, checked };
    start = { prevHash: v.headHash, prevId: rows[rows.length - 1]!.id };
  }
}
