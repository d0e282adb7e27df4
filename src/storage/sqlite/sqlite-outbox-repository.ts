import {
  OUTBOX_MAX_ANSWER,
  OUTBOX_MAX_ATTEMPTS_KEPT,
  OUTBOX_MAX_LIMIT,
  type NewOutboxEntry,
  type OutboxAttempt,
  type OutboxCount,
  type OutboxEntry,
  type OutboxListQuery,
  type OutboxRepository,
  type OutboxStatus,
} from '../outbox-repository.js';
import { migrate, type Database } from './database.js';
import { SqliteRepository } from './repository.js';
import { outboxEntryOf, type OutboxRow } from '../rows.js';

const MIGRATIONS = [
  `CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     topic TEXT NOT NULL,
     payload TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     last_error TEXT,
     delivered_at INTEGER
   );
   CREATE INDEX outbox_due ON outbox (topic, status, next_attempt_at, id);`,
  // Idempotent enqueue (one entry per topic and key), list filters by group, and the attempts of each entry.
  `ALTER TABLE outbox ADD COLUMN key TEXT;
   ALTER TABLE outbox ADD COLUMN grp TEXT;
   CREATE UNIQUE INDEX outbox_key ON outbox (topic, key) WHERE key IS NOT NULL;
   CREATE INDEX outbox_head ON outbox (topic, status, id);
   CREATE TABLE outbox_attempts (
     outbox_id INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     at INTEGER NOT NULL,
     status INTEGER,
     answer TEXT NOT NULL,
     PRIMARY KEY (outbox_id, seq)
   ) WITHOUT ROWID;`,
];

export class SqliteOutboxRepository extends SqliteRepository implements OutboxRepository {
  private readonly enqueueTx;
  private readonly claimTx;
  private readonly settleTx;
  private readonly headTx;
  private readonly settleManyTx;
  private readonly releaseTx;

  constructor(private readonly db: Database) {
    super();
    migrate(db, 'outbox', MIGRATIONS);
    const insert = db.prepare(
      "INSERT INTO outbox (topic, payload, status, attempts, created_at, next_attempt_at, key, grp) VALUES (?, ?, 'pending', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    );
    const byKey = db.prepare('SELECT id FROM outbox WHERE topic = ? AND key = ?').pluck();
    this.enqueueTx = db.transaction((entries: readonly NewOutboxEntry[], at: number) =>
      entries.map((e) => {
        const payload = JSON.stringify(e.payload);
        if (payload === undefined) throw new TypeError('outbox: the payload has no JSON form');
        const r = insert.run(e.topic, payload, at, e.notBefore ?? at, e.key ?? null, e.group ?? null);
        return r.changes > 0 ? Number(r.lastInsertRowid) : (byKey.get(e.topic, e.key) as number);
      }),
    );
    const addAttempt = db
      .prepare(
        'INSERT INTO outbox_attempts (outbox_id, seq, at, status, answer) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM outbox_attempts WHERE outbox_id = ?), ?, ?, ?) RETURNING seq',
      )
      .pluck();
    const trimAttempts = db.prepare('DELETE FROM outbox_attempts WHERE outbox_id = ? AND seq <= ?');
    const delivered = db.prepare(
      "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ? WHERE id = ? AND status = 'pending'",
    );
    const failed = db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
         status = CASE WHEN ? IS NULL THEN 'dead' ELSE 'pending' END,
         next_attempt_at = coalesce(?, next_attempt_at)
       WHERE id = ? AND status = 'pending'`,
    );
    // The state change and its attempt record are one write: an attempt is never shown without its outcome.
    this.settleTx = db.transaction(
      (id: number, outcome: { at: number } | { error: string; next: number | null }, attempt: OutboxAttempt | undefined) => {
        const changed =
          'error' in outcome
            ? failed.run(outcome.error, outcome.next, outcome.next, id).changes > 0
            : delivered.run(outcome.at, id).changes > 0;
        if (changed && attempt) {
          const seq = addAttempt.get(id, id, attempt.at, attempt.status, attempt.answer.slice(0, OUTBOX_MAX_ANSWER)) as number;
          // Most entries settle within a few attempts: the trim is a statement only when there is something to trim.
          if (seq > OUTBOX_MAX_ATTEMPTS_KEPT) trimAttempts.run(id, seq - OUTBOX_MAX_ATTEMPTS_KEPT);
        }
        return changed;
      },
    );
    // A batch is a handful of statements over a JSON array, not three per entry: at 1,000 deliveries/s the
    // per-statement cost was a fifth of the sender's CPU. Ids given twice count once (the first).
    const pendingOf = db.prepare("SELECT o.id FROM outbox o JOIN json_each(?) j ON o.id = j.value WHERE o.status = 'pending'").pluck();
    const deliverMany = db.prepare(
      `UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = j.value ->> '$.at'
       FROM json_each(?) j WHERE outbox.id = j.value ->> '$.id' AND outbox.status = 'pending'`,
    );
    const attemptMany = db.prepare(
      `INSERT INTO outbox_attempts (outbox_id, seq, at, status, answer)
       SELECT j.value ->> '$.id', coalesce((SELECT max(seq) FROM outbox_attempts a WHERE a.outbox_id = j.value ->> '$.id'), 0) + 1,
              j.value ->> '$.t', j.value ->> '$.s', j.value ->> '$.a'
       FROM json_each(?) j`,
    );
    // Records never outnumber an entry's attempts: only entries tried more often than records are kept are looked at.
    const trimMany = db.prepare(
      `DELETE FROM outbox_attempts WHERE (outbox_id, seq) IN (
         SELECT a.outbox_id, a.seq FROM json_each(?) j
         JOIN outbox o ON o.id = j.value AND o.attempts > ?
         JOIN outbox_attempts a ON a.outbox_id = o.id
         WHERE a.seq <= (SELECT max(seq) FROM outbox_attempts b WHERE b.outbox_id = o.id) - ?)`,
    );
    this.settleManyTx = db.transaction((items: readonly { id: number; at: number; attempt?: OutboxAttempt | undefined }[]) => {
      const seen = new Set<number>();
      const list = items.filter((i) => !seen.has(i.id) && seen.add(i.id));
      const pending = new Set(pendingOf.all(JSON.stringify(list.map((i) => i.id))) as number[]);
      const todo = list.filter((i) => pending.has(i.id));
      if (todo.length === 0) return 0;
      deliverMany.run(JSON.stringify(todo.map((i) => ({ id: i.id, at: i.at }))));
      const withAttempt = todo.filter((i) => i.attempt !== undefined);
      if (withAttempt.length > 0) {
        attemptMany.run(
          JSON.stringify(
            withAttempt.map((i) => ({
              id: i.id,
              t: i.attempt!.at,
              s: i.attempt!.status,
              a: i.attempt!.answer.slice(0, OUTBOX_MAX_ANSWER),
            })),
          ),
        );
        trimMany.run(JSON.stringify(withAttempt.map((i) => i.id)), OUTBOX_MAX_ATTEMPTS_KEPT, OUTBOX_MAX_ATTEMPTS_KEPT);
      }
      return todo.length;
    });
    const heads = db.prepare("SELECT * FROM outbox WHERE topic = ? AND status = 'pending' ORDER BY id LIMIT ?");
    // The leased entries are the topic's first pending ones up to the last taken: one statement leases them all.
    const leaseHeads = db.prepare("UPDATE outbox SET next_attempt_at = ? WHERE topic = ? AND status = 'pending' AND id BETWEEN ? AND ?");
    const headClaim = db.transaction((topic: string, now: number, leaseMs: number, limit: number) => {
      const rows = heads.all(topic, limit) as OutboxRow[];
      if (rows.length === 0) return undefined;
      const head = outboxEntryOf(rows[0]!);
      const leased: OutboxEntry[] = [];
      for (const r of rows) {
        if (r.next_attempt_at > now && (leased.length === 0 || r.attempts > 0)) break;
        r.next_attempt_at = now + leaseMs;
        leased.push(outboxEntryOf(r));
      }
      if (leased.length > 0) leaseHeads.run(now + leaseMs, topic, leased[0]!.id, leased.at(-1)!.id);
      return { head, leased };
    });
    this.headTx = (topic: string, now: number, leaseMs: number, limit: number) =>
      db.inTransaction ? headClaim(topic, now, leaseMs, limit) : headClaim.immediate(topic, now, leaseMs, limit);
    const release = db.prepare(
      "UPDATE outbox SET next_attempt_at = ? WHERE topic = ? AND status = 'pending' AND next_attempt_at > ? AND id IN (SELECT value FROM json_each(?))",
    );
    this.releaseTx = (topic: string, ids: readonly number[], at: number) => release.run(at, topic, at, JSON.stringify(ids)).changes;
    const due = db.prepare(
      "SELECT * FROM outbox WHERE topic = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
    );
    const lease = db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?');
    const claim = db.transaction((topic: string, now: number, limit: number, leaseMs: number) => {
      const rows = due.all(topic, now, limit) as OutboxRow[];
      for (const r of rows) {
        r.next_attempt_at = now + leaseMs;
        lease.run(r.next_attempt_at, r.id);
      }
      return rows.map(outboxEntryOf);
    });
    // Reading the due rows and leasing them is one step under the write lock, so two senders never share an entry.
    this.claimTx = (topic: string, now: number, limit: number, leaseMs: number) =>
      db.inTransaction ? claim(topic, now, limit, leaseMs) : claim.immediate(topic, now, limit, leaseMs);
  }

  enqueue(entries: readonly NewOutboxEntry[], at: number): Promise<number[]> {
    return this.exec(() => (entries.length === 0 ? [] : this.enqueueTx(entries, at)));
  }

  claimDue(topic: string, now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    return this.exec(() => this.claimTx(topic, now, Math.min(Math.max(1, Math.trunc(limit)), OUTBOX_MAX_LIMIT), leaseMs));
  }

  claimHead(topic: string, now: number, leaseMs: number, limit = 1): Promise<{ head: OutboxEntry; leased: OutboxEntry[] } | undefined> {
    return this.exec(() => this.headTx(topic, now, leaseMs, Math.min(Math.max(1, Math.trunc(limit)), OUTBOX_MAX_LIMIT)));
  }

  markDelivered(id: number, at: number, attempt?: OutboxAttempt): Promise<boolean> {
    return this.exec(() => this.settleTx(id, { at }, attempt));
  }

  markDeliveredMany(items: readonly { id: number; at: number; attempt?: OutboxAttempt | undefined }[]): Promise<number> {
    return this.exec(() => (items.length === 0 ? 0 : this.settleManyTx(items)));
  }

  markFailed(id: number, error: string, nextAttemptAt: number | null, attempt?: OutboxAttempt): Promise<boolean> {
    return this.exec(() => this.settleTx(id, { error, next: nextAttemptAt }, attempt));
  }

  release(topic: string, ids: readonly number[], at: number): Promise<number> {
    return this.exec(() => (ids.length === 0 ? 0 : this.releaseTx(topic, ids, at)));
  }

  attemptsOf(id: number): Promise<OutboxAttempt[]> {
    return this.exec(
      () => this.db.prepare('SELECT at, status, answer FROM outbox_attempts WHERE outbox_id = ? ORDER BY seq').all(id) as OutboxAttempt[],
    );
  }

  requeue(id: number, at: number): Promise<boolean> {
    return this.exec(
      () =>
        this.db.prepare("UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status = 'dead'").run(at, id).changes >
        0,
    );
  }

  discard(id: number, reason: string): Promise<boolean> {
    return this.exec(
      () =>
        this.db.prepare("UPDATE outbox SET status = 'dead', last_error = ? WHERE id = ? AND status = 'pending'").run(reason, id).changes >
        0,
    );
  }

  counts(): Promise<OutboxCount[]> {
    return this.exec(() =>
      (
        this.db
          .prepare(
            'SELECT topic, status, attempts > 0 AS attempted, count(*) AS count FROM outbox GROUP BY topic, status, attempts > 0 ORDER BY 1, 2, 3',
          )
          .all() as { topic: string; status: OutboxStatus; attempted: number; count: number }[]
      ).map((r) => ({ ...r, attempted: r.attempted === 1 })),
    );
  }

  get(id: number): Promise<OutboxEntry | undefined> {
    return this.exec(() => {
      const r = this.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
      return r ? outboxEntryOf(r) : undefined;
    });
  }

  list(q: OutboxListQuery = {}): Promise<OutboxEntry[]> {
    return this.exec(() => {
      const where = ['id > ?'];
      const params: unknown[] = [q.afterId ?? 0];
      if (q.topic !== undefined) {
        where.push('topic = ?');
        params.push(q.topic);
      }
      if (q.status !== undefined) {
        where.push('status = ?');
        params.push(q.status);
      }
      if (q.group !== undefined) {
        where.push('grp = ?');
        params.push(q.group);
      }
      if (q.attempted !== undefined) where.push(q.attempted ? 'attempts > 0' : 'attempts = 0');
      const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 100)), OUTBOX_MAX_LIMIT);
      return (
        this.db.prepare(`SELECT * FROM outbox WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...params, limit) as OutboxRow[]
      ).map(outboxEntryOf);
    });
  }

  pruneDelivered(before: number): Promise<number> {
    return this.exec(() => {
      this.db
        .prepare("DELETE FROM outbox_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE status = 'delivered' AND delivered_at < ?)")
        .run(before);
      return this.db.prepare("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?").run(before).changes;
    });
  }
}
