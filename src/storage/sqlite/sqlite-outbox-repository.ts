import {
  OUTBOX_MAX_LIMIT,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxListQuery,
  type OutboxRepository,
  type OutboxStatus,
} from '../outbox-repository.js';
import { migrate, type Database } from './database.js';
import { SqliteRepository } from './repository.js';

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
];

interface Row {
  id: number;
  topic: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
}

const toEntry = (r: Row): OutboxEntry => ({
  id: r.id,
  topic: r.topic,
  payload: JSON.parse(r.payload) as unknown,
  status: r.status,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});

export class SqliteOutboxRepository extends SqliteRepository implements OutboxRepository {
  private readonly enqueueTx;
  private readonly claimTx;

  constructor(private readonly db: Database) {
    super();
    migrate(db, 'outbox', MIGRATIONS);
    const insert = db.prepare(
      "INSERT INTO outbox (topic, payload, status, attempts, created_at, next_attempt_at) VALUES (?, ?, 'pending', 0, ?, ?)",
    );
    this.enqueueTx = db.transaction((entries: readonly NewOutboxEntry[], at: number) =>
      entries.map((e) => {
        const payload = JSON.stringify(e.payload);
        if (payload === undefined) throw new TypeError('outbox: the payload has no JSON form');
        return Number(insert.run(e.topic, payload, at, e.notBefore ?? at).lastInsertRowid);
      }),
    );
    const due = db.prepare(
      "SELECT * FROM outbox WHERE topic = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
    );
    const lease = db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?');
    const claim = db.transaction((topic: string, now: number, limit: number, leaseMs: number) => {
      const rows = due.all(topic, now, limit) as Row[];
      for (const r of rows) {
        r.next_attempt_at = now + leaseMs;
        lease.run(r.next_attempt_at, r.id);
      }
      return rows.map(toEntry);
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

  markDelivered(id: number, at: number): Promise<boolean> {
    return this.exec(
      () =>
        this.db
          .prepare("UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ? WHERE id = ? AND status = 'pending'")
          .run(at, id).changes > 0,
    );
  }

  markFailed(id: number, error: string, nextAttemptAt: number | null): Promise<boolean> {
    return this.exec(
      () =>
        this.db
          .prepare(
            `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
               status = CASE WHEN ? IS NULL THEN 'dead' ELSE 'pending' END,
               next_attempt_at = coalesce(?, next_attempt_at)
             WHERE id = ? AND status = 'pending'`,
          )
          .run(error, nextAttemptAt, nextAttemptAt, id).changes > 0,
    );
  }

  get(id: number): Promise<OutboxEntry | undefined> {
    return this.exec(() => {
      const r = this.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined;
      return r ? toEntry(r) : undefined;
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
      const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 100)), OUTBOX_MAX_LIMIT);
      return (this.db.prepare(`SELECT * FROM outbox WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...params, limit) as Row[]).map(
        toEntry,
      );
    });
  }

  pruneDelivered(before: number): Promise<number> {
    return this.exec(() => this.db.prepare("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?").run(before).changes);
  }
}
