import pg from 'pg';
import { StorageClosedError } from '../errors.js';

/** What a repository runs SQL on: the pool, or the one client of a unit of work. */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * How a repository reaches the database. `run` is for a single statement (atomic by itself); `atomic` for several
 * that must commit together: a transaction of its own on a pooled client, or simply the open unit of work's.
 */
export interface PgExec {
  run<T>(fn: (db: Sql) => Promise<T>): Promise<T>;
  atomic<T>(fn: (db: Sql) => Promise<T>): Promise<T>;
}

/** A module's migrations: step i (from 0) is version i + 1, applied once, in order, each in its own transaction. */
export interface PgMigrations {
  module: string;
  steps: readonly string[];
}

/** Advisory lock keys (one namespace: the first int of the two-int form is ours). */
export const LOCK_NS = 0x7467; // 'tg'
export const LOCKS = { migrations: 1, audit: 2, alarmJournal: 3, partitions: 4, signingKeys: 5 } as const;

/** pg turns BIGINT (int8) and numeric into strings, as they may exceed 2^53; every one of ours fits a double. */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return (pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown)(oid, format);
  },
};

/** PostgreSQL's unique_violation (also a primary key). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}

/** Faults of the store itself (connection lost, disk full, server shutting down), not refusals of the caller's data. */
export function isStoreFault(err: unknown): boolean {
  if (err instanceof StorageClosedError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return /^(08|53|57|58|XX|E[A-Z])/.test(code);
  return err instanceof Error && /Connection terminated|connect|timeout/i.test(err.message);
}

/**
 * READ COMMITTED whatever the database's default: every statement sees what was committed before it, which is what
 * makes "take the advisory lock, then read the chain head" correct (a REPEATABLE READ snapshot taken before the
 * lock would read a stale head and fork the audit chain).
 */
export const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED';

/** Runs `fn` in a transaction of its own on a client from the pool. */
export async function inTransaction<T>(pool: pg.Pool, fn: (db: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(BEGIN);
    try {
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

/**
 * Applies every module's pending migrations. A session advisory lock serialises nodes starting together, so two
 * never apply the same step. Returns the steps applied, as `module@version`.
 */
export async function migrateAll(pool: pg.Pool, modules: readonly PgMigrations[]): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NS, LOCKS.migrations]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (module, version))`);
      const done = new Set(
        (await client.query<{ module: string; version: number }>('SELECT module, version FROM schema_migrations')).rows.map(
          (r) => `${r.module}@${r.version}`,
        ),
      );
      for (const m of modules) {
        for (let i = 0; i < m.steps.length; i++) {
          const key = `${m.module}@${i + 1}`;
          if (done.has(key)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.steps[i]!);
            await client.query('INSERT INTO schema_migrations (module, version) VALUES ($1, $2)', [m.module, i + 1]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw new Error(`PostgreSQL migration ${key} failed: ${(err as Error).message}`, { cause: err });
          }
          applied.push(key);
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NS, LOCKS.migrations]);
    }
  } finally {
    client.release();
  }
  return applied;
}

/**
 * Base of the PostgreSQL adapters: every method reaches the database through `db`, which is the pool (waiting
 * while a unit of work is open, as SQLite's gate does) or, in the view `within` returns, the unit of work's client.
 */
export abstract class PgRepository {
  constructor(protected db: PgExec) {}

  /** This repository running on another executor (the unit of work's client); state kept in memory is shared. */
  within(exec: PgExec): this {
    const view = Object.create(this) as this;
    view.db = exec;
    return view;
  }
}

/** Masks the password of a connection URL for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
