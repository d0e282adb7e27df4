import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repositories, Storage, StorageConfig, StorageHealth, TransactionOptions } from '../open.js';
import { openDatabase, type Database } from './database.js';
import { SqliteGate } from './gate.js';
import type { SqliteRepository } from './repository.js';
import { SqliteAlarmJournalRepository, SqliteAlarmSettingsRepository } from './sqlite-alarm-journal-repository.js';
import { SqliteApiClientRepository } from './sqlite-api-client-repository.js';
import { SqliteAuditRepository } from './sqlite-audit-repository.js';
import { SqliteBoardRepository } from './sqlite-board-repository.js';
import { SqliteGroupRepository } from './sqlite-group-repository.js';
import { SqliteHistoryRepository } from './sqlite-history-repository.js';
import { SqliteKeyValueRepository } from './sqlite-key-value-repository.js';
import { SqliteOutboxRepository } from './sqlite-outbox-repository.js';
import { SqliteSessionRepository } from './sqlite-session-repository.js';
import { SqliteSigningKeyRepository } from './sqlite-signing-key-repository.js';
import { SqliteUserRepository } from './sqlite-user-repository.js';
import { WalSync, type WalSyncOptions } from './wal-sync.js';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE = 'tagway.db';

const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
/** A storage fault makes health `degraded` for this long after it happened (as the server's /health remembers one). */
const FAULT_MEMORY_MS = 5_000;

type SqliteRepositories = { [K in keyof Repositories]: Repositories[K] & SqliteRepository };

/**
 * SQLite storage: one file `<dataDir>/tagway.db` in WAL mode, one connection shared by every repository (better-
 * sqlite3 is synchronous, so each call's SQL runs at once and its promise is already settled when returned).
 */
export class SqliteStorage implements Storage {
  readonly alarmJournal: SqliteAlarmJournalRepository;
  readonly alarmSettings: SqliteAlarmSettingsRepository;
  readonly history: SqliteHistoryRepository;
  readonly audit: SqliteAuditRepository;
  readonly users: SqliteUserRepository;
  readonly groups: SqliteGroupRepository;
  readonly sessions: SqliteSessionRepository;
  readonly apiClients: SqliteApiClientRepository;
  readonly signingKeys: SqliteSigningKeyRepository;
  readonly keyValues: SqliteKeyValueRepository;
  readonly outbox: SqliteOutboxRepository;
  readonly boards: SqliteBoardRepository;
  private readonly gate: SqliteGate;
  private readonly tx: SqliteRepositories;
  private lastFault: { at: number; message: string } | undefined;
  private closed = false;
  /** Makes commits made without their own fsync durable, off the event loop (group commit). */
  readonly walSync: WalSync;

  constructor(
    private readonly db: Database,
    private readonly dataDir: string,
    private readonly minFreeBytes = DEFAULT_MIN_FREE_BYTES,
    private readonly synchronous: 'FULL' | 'NORMAL' = 'FULL',
    opts: { datasync?: WalSyncOptions['datasync']; onDurabilityLost?: StorageConfig['onDurabilityLost'] } = {},
  ) {
    this.gate = new SqliteGate(db);
    this.walSync = new WalSync(`${db.name}-wal`, {
      datasync: opts.datasync,
      onFailure: (err) => {
        this.refuseWrites();
        opts.onDurabilityLost?.(err);
      },
    });
    this.alarmJournal = new SqliteAlarmJournalRepository(db);
    this.alarmSettings = new SqliteAlarmSettingsRepository(this.alarmJournal.journal);
    this.history = new SqliteHistoryRepository(db);
    this.audit = new SqliteAuditRepository(db);
    this.users = new SqliteUserRepository(db);
    this.groups = new SqliteGroupRepository(db);
    this.sessions = new SqliteSessionRepository(db);
    this.apiClients = new SqliteApiClientRepository(db);
    this.signingKeys = new SqliteSigningKeyRepository(db);
    this.keyValues = new SqliteKeyValueRepository(db);
    this.outbox = new SqliteOutboxRepository(db);
    this.boards = new SqliteBoardRepository(db);
    const repos: SqliteRepositories = {
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
    // The ordinary repositories wait while a unit of work is open; the unit's own views of them run at once.
    const tx: Record<string, SqliteRepository> = {};
    for (const [k, r] of Object.entries(repos) as Array<[string, SqliteRepository]>) {
      r.gatedBy(this.gate, (err) => this.refusal(err));
      tx[k] = r.unGated((err) => this.refusal(err));
    }
    this.tx = tx as unknown as SqliteRepositories;
    this.gate.onRollback(() => {
      this.alarmJournal.afterRollback();
      this.history.afterRollback();
    });
  }

  transaction<T>(fn: (tx: Repositories) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    // Every unit, not only those that wait for a WAL sync: a commit made now would follow frames that may be lost,
    // and it would be lost with them (SQLite's recovery drops every frame after the first bad one).
    const lost = this.walSync.failure;
    if (lost !== undefined) return Promise.reject(lost);
    const deferred = opts?.deferSync === true && this.synchronous === 'FULL';
    const done = this.gate
      .transaction(() => fn(this.tx), deferred ? { noSyncAtCommit: true, restoreSync: this.synchronous } : {})
      .catch((err: unknown) => {
        throw this.refusal(err);
      });
    const onCommit = opts?.onCommit;
    if (!deferred || opts?.syncLater === true) return onCommit === undefined ? done : done.then((out) => (onCommit(), out));
    // Committed (safe from a crash of this process) when `done` resolves; durable on disk after the WAL sync, which
    // runs in the thread pool while the event loop goes on serving (and committing the next group).
    return done.then((out) => {
      onCommit?.();
      return this.walSync.sync().then(
        () => out,
        (err: unknown) => {
          this.fault(err);
          throw err;
        },
      );
    });
  }

  whenSyncSlotFree(): Promise<void> | undefined {
    return this.synchronous === 'FULL' ? this.walSync.whenSlotFree() : undefined;
  }

  async health(): Promise<StorageHealth> {
    let freeBytes: number | null = null;
    try {
      const s = await statfs(this.dataDir);
      freeBytes = s.bavail * s.bsize;
    } catch {
      /* unknown: reported as null */
    }
    const lost = this.walSync.failure;
    if (lost !== undefined) return { status: 'degraded', reason: lost.message, freeBytes };
    if (this.closed) return { status: 'degraded', reason: 'storage is closed', freeBytes };
    const f = this.lastFault;
    if (f && Date.now() - f.at < FAULT_MEMORY_MS) return { status: 'degraded', reason: f.message, freeBytes };
    if (freeBytes !== null && freeBytes < this.minFreeBytes)
      return { status: 'degraded', reason: `only ${freeBytes} bytes free in the data directory`, freeBytes };
    const limit = this.sizeLimit();
    if (limit) return { status: 'degraded', reason: limit, freeBytes };
    return { status: 'ok', freeBytes };
  }

  /** Why the file cannot grow (it reached `max_page_count` with no free page left), if it cannot. */
  private sizeLimit(): string | undefined {
    try {
      const pages = Number(this.db.pragma('page_count', { simple: true }));
      const max = Number(this.db.pragma('max_page_count', { simple: true }));
      if (pages >= max && Number(this.db.pragma('freelist_count', { simple: true })) === 0)
        return `the database reached its size limit (${max} pages)`;
    } catch (err) {
      return `cannot read the database: ${(err as Error).message}`.slice(0, 200);
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gate.run(() => undefined);
    this.gate.closed = true;
    await this.walSync.close();
    this.db.close();
  }

  /**
   * After a failed WAL sync: no statement may write any more (see `transaction`). `query_only` covers the calls of
   * the ordinary repositories too (they fail with SQLITE_READONLY, a storage fault like a full disk); reads go on.
   * Closing still checkpoints the WAL into the database file and syncs that file, which is why a restart helps.
   */
  private refuseWrites(): void {
    try {
      this.db.pragma('query_only = ON');
    } catch {
      /* closed meanwhile: nothing can write anyway */
    }
  }

  /**
   * The error to throw for one a statement threw: after a failed WAL sync, a write refused by `query_only` is
   * reported as that failure (which says why, and that a restart is needed), not as a read-only database.
   */
  private refusal(err: unknown): unknown {
    const lost = this.walSync.failure;
    if (lost !== undefined && (err as { code?: unknown } | null)?.code === 'SQLITE_READONLY') return lost;
    this.fault(err);
    return err;
  }

  /** Remembers faults of the store itself (disk full, I/O error), not refusals of the caller's data. */
  private fault(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_') || code.startsWith('SQLITE_CONSTRAINT')) return;
    this.lastFault = { at: Date.now(), message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * FOR TESTS AND THE SOAK SCRIPT ONLY: the connection under a SQLite storage, to inject storage faults (a full disk
 * with `max_page_count`, a failing trigger). Product code never reaches a database handle (drivers get
 * `DriverHost.kv`, everything else a repository); a lint rule may forbid importing this outside test/ and scripts/.
 */
export function sqliteDatabaseForTests(storage: Storage): Database {
  if (!(storage instanceof SqliteStorage)) throw new Error('not a SQLite storage');
  return storage['db'];
}

/**
 * Opens the SQLite storage. `testing.datasync` is FOR TESTS ONLY: it replaces the sync of the WAL's descriptor, to
 * inject a failing disk.
 */
export function openSqliteStorage(config: StorageConfig, testing: { datasync?: WalSyncOptions['datasync'] } = {}): SqliteStorage {
  const db = openDatabase(join(config.dataDir, SQLITE_FILE), { synchronous: config.sqliteSynchronous ?? 'FULL' });
  try {
    return new SqliteStorage(db, config.dataDir, config.minFreeBytes, config.sqliteSynchronous ?? 'FULL', {
      datasync: testing.datasync,
      onDurabilityLost: config.onDurabilityLost,
    });
  } catch (err) {
    db.close();
    throw err;
  }
}
