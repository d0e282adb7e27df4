import { StorageClosedError } from '../errors.js';
import type { Database } from './database.js';

/**
 * Serialises a unit of work against the one SQLite connection. better-sqlite3 runs every statement synchronously,
 * so a repository call outside a transaction does its work at once; but `Storage.transaction(fn)` spans awaits,
 * and anything else run on the connection meanwhile would silently join (and roll back with) that transaction.
 * So while one is open, calls through the ordinary repositories wait for it to end; the transaction's own
 * repositories pass straight through.
 */
export class SqliteGate {
  private open: Promise<void> | undefined;
  private readonly rollbackHooks: Array<() => void> = [];
  /** Set by close: every later call is refused with StorageClosedError. */
  closed = false;

  constructor(readonly db: Database) {}

  /** Runs `fn` now, or after the open transaction ended. */
  run<T>(fn: () => T): Promise<T> {
    if (this.open) return this.open.then(() => this.run(fn));
    if (this.closed) return Promise.reject(new StorageClosedError());
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Something a repository caches that a rollback may have made untrue (ids, the journal's newest time). */
  onRollback(hook: () => void): void {
    this.rollbackHooks.push(hook);
  }

  /**
   * Runs `fn` as one IMMEDIATE transaction. With `noSyncAtCommit` (the caller makes the WAL durable itself, off the
   * event loop: see WalSync) the commit runs at `synchronous = NORMAL` and the connection's level is restored after.
   */
  async transaction<T>(fn: () => Promise<T>, opts: { noSyncAtCommit?: boolean; restoreSync?: 'FULL' | 'NORMAL' } = {}): Promise<T> {
    while (this.open) await this.open;
    if (this.closed) throw new StorageClosedError();
    let release!: () => void;
    this.open = new Promise<void>((r) => (release = r));
    const lowered = opts.noSyncAtCommit === true && opts.restoreSync !== undefined && opts.restoreSync !== 'NORMAL';
    try {
      if (lowered) this.db.exec('PRAGMA synchronous = NORMAL');
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn();
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.inTransaction) {
          this.db.exec('ROLLBACK');
          for (const h of this.rollbackHooks) h();
        }
        throw err;
      }
    } finally {
      if (lowered) this.db.exec(`PRAGMA synchronous = ${opts.restoreSync}`);
      this.open = undefined;
      release();
    }
  }
}

/** SQLite's UNIQUE / PRIMARY KEY violation. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
