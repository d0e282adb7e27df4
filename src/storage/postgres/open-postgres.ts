import { statfs } from 'node:fs/promises';
import pg from 'pg';
import { StorageClosedError } from '../errors.js';
import type { Repositories, Storage, StorageConfig, StorageHealth, TransactionOptions } from '../open.js';
import { ALARM_MIGRATIONS, PgAlarmJournalRepository, PgAlarmSettingsRepository } from './pg-alarm-journal-repository.js';
import { API_CLIENT_MIGRATIONS, PgApiClientRepository } from './pg-api-client-repository.js';
import { AUDIT_MIGRATIONS, PgAuditRepository } from './pg-audit-repository.js';
import { GROUP_MIGRATIONS, PgGroupRepository } from './pg-group-repository.js';
import { HISTORY_MIGRATIONS, PgHistoryRepository } from './pg-history-repository.js';
import { KV_MIGRATIONS, PgKeyValueRepository } from './pg-key-value-repository.js';
import { OUTBOX_MIGRATIONS, PgOutboxRepository } from './pg-outbox-repository.js';
import { BOARD_MIGRATIONS, PgBoardRepository } from './pg-board-repository.js';
import { PgSessionRepository, SESSION_MIGRATIONS } from './pg-session-repository.js';
import { PgSigningKeyRepository, SIGNING_KEY_MIGRATIONS } from './pg-signing-key-repository.js';
import { PgUserRepository, USER_MIGRATIONS } from './pg-user-repository.js';
import { BEGIN, inTransaction, isStoreFault, migrateAll, pgTypes, redactUrl, type PgExec, type PgMigrations, type Sql } from './db.js';

/** Every module's migrations, in the order they are applied. A new store adds its entry here (docs/postgresql.md). */
export const PG_MIGRATIONS: readonly PgMigrations[] = [
  KV_MIGRATIONS,
  USER_MIGRATIONS,
  GROUP_MIGRATIONS,
  SESSION_MIGRATIONS,
  API_CLIENT_MIGRATIONS,
  SIGNING_KEY_MIGRATIONS,
  AUDIT_MIGRATIONS,
  ALARM_MIGRATIONS,
  HISTORY_MIGRATIONS,
  OUTBOX_MIGRATIONS,
  BOARD_MIGRATIONS,
];

const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
const FAULT_MEMORY_MS = 5_000;
const DEFAULT_POOL_SIZE = 10;

/**
 * Keeps units of work apart from everything else, as SQLite's gate does: while one is open, calls through the
 * ordinary repositories wait (they neither see nor join it), and units of work run one at a time in this process.
 * Outside a unit of work, calls run concurrently on the pool. Other processes are kept apart by PostgreSQL itself.
 */
class PgGate {
  private open: Promise<void> | undefined;
  private readonly running = new Set<Promise<unknown>>();
  closed = false;

  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    if (this.closed) throw new StorageClosedError();
    const p = fn();
    this.running.add(p);
    try {
      return await p;
    } finally {
      this.running.delete(p);
    }
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    if (this.closed) throw new StorageClosedError();
    let release!: () => void;
    this.open = new Promise<void>((r) => (release = r));
    try {
      return await fn();
    } finally {
      this.open = undefined;
      release();
    }
  }

  /** Waits for the open unit of work and every call in flight. */
  async drain(): Promise<void> {
    while (this.open) await this.open;
    await Promise.allSettled([...this.running]);
  }
}

type PgRepositories = { [K in keyof Repositories]: Repositories[K] & { within(exec: PgExec): Repositories[K] } };

export interface PostgresStorageConfig extends StorageConfig {
  databaseUrl: string;
}

export class PostgresStorage implements Storage {
  readonly alarmJournal: PgAlarmJournalRepository;
  readonly alarmSettings: PgAlarmSettingsRepository;
  readonly history: PgHistoryRepository;
  readonly audit: PgAuditRepository;
  readonly users: PgUserRepository;
  readonly groups: PgGroupRepository;
  readonly sessions: PgSessionRepository;
  readonly apiClients: PgApiClientRepository;
  readonly signingKeys: PgSigningKeyRepository;
  readonly keyValues: PgKeyValueRepository;
  readonly outbox: PgOutboxRepository;
  readonly boards: PgBoardRepository;
  private readonly gate = new PgGate();
  private readonly repos: PgRepositories;
  private lastFault: { at: number; message: string } | undefined;
  private closed = false;

  constructor(
    readonly pool: pg.Pool,
    private readonly dataDir: string,
    private readonly minFreeBytes = DEFAULT_MIN_FREE_BYTES,
  ) {
    const exec: PgExec = {
      run: (fn) => this.observe(this.gate.run(() => fn(pool))),
      atomic: (fn) => this.observe(this.gate.run(() => inTransaction(pool, fn))),
    };
    this.alarmJournal = new PgAlarmJournalRepository(exec, (n) => this.reserveOccurrenceBlocks(n));
    this.alarmSettings = new PgAlarmSettingsRepository(exec);
    this.history = new PgHistoryRepository(exec);
    this.audit = new PgAuditRepository(exec);
    this.users = new PgUserRepository(exec);
    this.groups = new PgGroupRepository(exec);
    this.sessions = new PgSessionRepository(exec);
    this.apiClients = new PgApiClientRepository(exec);
    this.signingKeys = new PgSigningKeyRepository(exec);
    this.keyValues = new PgKeyValueRepository(exec);
    this.outbox = new PgOutboxRepository(exec);
    this.boards = new PgBoardRepository(exec);
    this.repos = {
      alarmJournal: this.alarmJournal,
      alarmSettings: this.alarmSettings,
      history: this.history,
      audit: this.audit,
      users: this.users,
      groups: this.groups,
      sessions: this.sessions,
      apiClients: this.apiClients,
      signingKeys: this.signingKeys,
      keyValues: this.keyValues,
      outbox: this.outbox,
      boards: this.boards,
    };
  }

  private async reserveOccurrenceBlocks(n: number): Promise<number[]> {
    if (this.closed) return [];
    const r = await this.pool.query<{ b: number }>('SELECT nextval($1) AS b FROM generate_series(1, $2)', ['alarm_occurrence_blocks', n]);
    return r.rows.map((x) => x.b);
  }

  private observe<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      this.fault(err);
      throw err;
    });
  }

  /** PostgreSQL's COMMIT already waits without blocking the event loop: `deferSync` changes nothing here. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    return this.observe(
      this.gate.transaction(async () => {
        const client = await this.pool.connect();
        let broken: Error | undefined;
        try {
          await client.query(BEGIN);
          const exec: PgExec = { run: (f) => f(client), atomic: (f) => f(client) };
          const tx: Record<string, unknown> = {};
          for (const [k, r] of Object.entries(this.repos)) tx[k] = (r as { within(e: PgExec): unknown }).within(exec);
          try {
            const out = await fn(tx as unknown as Repositories);
            await client.query('COMMIT');
            opts.onCommit?.();
            return out;
          } catch (err) {
            await client.query('ROLLBACK').catch((e: Error) => (broken = e));
            this.history.afterRollback();
            throw err;
          }
        } finally {
          client.release(broken);
        }
      }),
    );
  }

  async health(): Promise<StorageHealth> {
    let freeBytes: number | null = null;
    try {
      // The node's own data directory (TLS material, logs); the database server's disk is its administrator's to watch.
      const s = await statfs(this.dataDir);
      freeBytes = s.bavail * s.bsize;
    } catch {
      /* unknown */
    }
    if (this.closed) return { status: 'degraded', reason: 'storage is closed', freeBytes };
    const f = this.lastFault;
    if (f && Date.now() - f.at < FAULT_MEMORY_MS) return { status: 'degraded', reason: f.message, freeBytes };
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      return { status: 'degraded', reason: `PostgreSQL unreachable: ${(err as Error).message}`.slice(0, 200), freeBytes };
    }
    if (freeBytes !== null && freeBytes < this.minFreeBytes)
      return { status: 'degraded', reason: `only ${freeBytes} bytes free in the data directory`, freeBytes };
    return { status: 'ok', freeBytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gate.drain();
    this.gate.closed = true;
    await this.pool.end();
  }

  private fault(err: unknown): void {
    if (!isStoreFault(err)) return;
    this.lastFault = { at: Date.now(), message: err instanceof Error ? err.message : String(err) };
  }
}

/** A pool for a database URL, with BIGINT parsed as numbers and a name that shows in pg_stat_activity. */
export function createPool(databaseUrl: string, max = DEFAULT_POOL_SIZE): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, application_name: 'tagway', types: pgTypes });
  // An idle client losing its connection (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // A client checked out of the pool (a transaction, a statement under way) has no listener of the pool's: its
  // connection dropping then raised an unhandled 'error' and ended the process (found by the cluster fault test that
  // cuts one node off PostgreSQL). Its statements fail anyway, and the pool drops a broken client on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Applies pending migrations (`tagway migrate`, and every start); returns what was applied. */
export async function migratePostgres(databaseUrl: string): Promise<string[]> {
  const pool = createPool(databaseUrl, 1);
  try {
    return await migrateAll(pool, PG_MIGRATIONS);
  } catch (err) {
    throw new Error(`PostgreSQL at ${redactUrl(databaseUrl)}: ${(err as Error).message}`, { cause: err });
  } finally {
    await pool.end();
  }
}

export async function openPostgresStorage(config: PostgresStorageConfig): Promise<PostgresStorage> {
  const pool = createPool(config.databaseUrl, config.poolSize);
  try {
    await migrateAll(pool, PG_MIGRATIONS);
    const storage = new PostgresStorage(pool, config.dataDir, config.minFreeBytes);
    await storage.alarmJournal.init();
    await storage.history.init();
    return storage;
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL at ${redactUrl(config.databaseUrl)}: ${(err as Error).message}`, { cause: err });
  }
}

/** FOR TESTS AND TOOLS: SQL on the storage's pool (fault injection, `tagway migrate-data`). */
export function postgresSqlForTests(storage: Storage): Sql {
  if (!(storage instanceof PostgresStorage)) throw new Error('not a PostgreSQL storage');
  return storage.pool;
}
