import type { AlarmJournalRepository, AlarmSettingsRepository } from './alarm-journal-repository.js';
import type { ApiClientRepository } from './api-client-repository.js';
import type { AuditRepository } from './audit-repository.js';
import type { BoardRepository } from './board-repository.js';
import type { GroupRepository } from './group-repository.js';
import type { HistoryRepository } from './history-repository.js';
import type { KeyValueRepository } from './key-value-repository.js';
import type { OutboxRepository } from './outbox-repository.js';
import type { SessionRepository } from './session-repository.js';
import type { SigningKeyRepository } from './signing-key-repository.js';
import type { UserRepository } from './user-repository.js';

/** Every store, as one object: what services and the runtime are given instead of a database. */
export interface Repositories {
  readonly alarmJournal: AlarmJournalRepository;
  readonly alarmSettings: AlarmSettingsRepository;
  readonly history: HistoryRepository;
  readonly audit: AuditRepository;
  readonly users: UserRepository;
  readonly groups: GroupRepository;
  readonly sessions: SessionRepository;
  readonly apiClients: ApiClientRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly keyValues: KeyValueRepository;
  readonly outbox: OutboxRepository;
  readonly boards: BoardRepository;
}

export interface StorageHealth {
  status: 'ok' | 'degraded';
  /** Why it is degraded (the last storage fault, or little free disk). */
  reason?: string | undefined;
  /** Free bytes for an unprivileged user on the data directory's file system; null when unknown. */
  freeBytes: number | null;
}

export interface TransactionOptions {
  /**
   * Resolve once the unit is durable, but wait for the disk off the event loop (group commit of client writes):
   * SQLite commits without its own fsync and then syncs the WAL in the thread pool, one sync shared by every unit
   * committed meanwhile. The unit is visible to readers when COMMIT returns and survives a crash of the process from
   * then on; it survives a power loss once the promise resolved. A backend whose commit already waits without
   * blocking (PostgreSQL) ignores it.
   */
  deferSync?: boolean | undefined;
  /**
   * With `deferSync`: no sync for this unit at all; it resolves when committed and becomes durable with the next
   * `deferSync` unit's sync, which covers everything committed before it. For a unit whose result nobody waits on
   * durably by itself (a value whose audit row follows in the next unit).
   */
  syncLater?: boolean | undefined;
  /** Called once the unit is committed (visible, and safe from a crash of the process), before any deferred sync. */
  onCommit?: (() => void) | undefined;
}

export interface Storage extends Repositories {
  /**
   * A unit of work across repositories: everything `fn` does through `tx` commits together, or nothing does when
   * it throws (e.g. an alarm event and its outbox entry). Units of work run one at a time; calls through the
   * ordinary repositories made meanwhile wait until it ended, so `fn` must use `tx` only (calling the ordinary
   * repositories from inside `fn` would wait for itself). Keep `fn` short: it holds the write lock.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /**
   * With deferred syncs (SQLite at FULL): undefined when a `deferSync` unit committed now would have its sync start
   * at once, else a promise that settles when it could. A backend without deferred syncs leaves it out.
   */
  whenSyncSlotFree?(): Promise<void> | undefined;
  health(): Promise<StorageHealth>;
  /** Waits for an open unit of work, then closes; idempotent. */
  close(): Promise<void>;
}

export interface StorageConfig {
  dataDir: string;
  /** SQLite: `FULL` (default) survives power loss; `NORMAL` survives a process crash and is faster. */
  sqliteSynchronous?: 'FULL' | 'NORMAL' | undefined;
  /**
   * PostgreSQL connection URL (`postgres://user:password@host:5432/db`); when set, every store lives there instead
   * of the SQLite file in the data directory (which still holds TLS material). Never logged with its password.
   */
  databaseUrl?: string | undefined;
  /** PostgreSQL: connections in this process's pool (default 10). */
  poolSize?: number | undefined;
  /** Below this many free bytes on the data directory's file system, health is `degraded` (default 64 MiB). */
  minFreeBytes?: number | undefined;
  /**
   * Called once when the storage can no longer make writes durable (SQLite: a sync of its WAL failed, see WalSync):
   * it refuses writes from then on, until the server is restarted. For the log; the error names no secret.
   */
  onDurabilityLost?: ((err: Error) => void) | undefined;
}

/** Opens the configured storage: PostgreSQL when a database URL is set, else the embedded SQLite file. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  if (config.databaseUrl) {
    const { openPostgresStorage } = await import('./postgres/open-postgres.js');
    return openPostgresStorage({ ...config, databaseUrl: config.databaseUrl });
  }
  const { openSqliteStorage } = await import('./sqlite/open-sqlite.js');
  return openSqliteStorage(config);
}
