import { statfsSync } from 'node:fs';
import type { Clock } from '../domain/clock.js';

/** One storage's state as /health reports it: `ok: false` makes the server `degraded`, with the reason. */
export interface StorageState {
  name: string;
  ok: boolean;
  reason?: string | undefined;
}

/**
 * A source of storage state (the database, the alarm journal, …), asked on every /health. Must be cheap; may answer
 * later (a storage's own `health()` is asynchronous).
 */
export type StorageCheck = () => StorageState | Promise<StorageState>;

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/** Free space under which the data dir's disk counts as degraded: SQLite needs room for its WAL and checkpoints. */
export const MIN_FREE_DISK_BYTES = 64 * 1024 * 1024;

/** How long a seen storage fault keeps the state degraded: a fault is only seen when a write fails. */
export const FAULT_MEMORY_MS = 5_000;

/** Retry-After of an answer refused because storage cannot take writes (503 STORAGE_UNAVAILABLE), in seconds. */
export const STORAGE_RETRY_AFTER_S = 30;

const STORAGE_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/**
 * True for errors that mean "the storage cannot take writes now" (full disk, quota, I/O error, read-only file
 * system, database server unreachable), from SQLite (`SQLITE_FULL`, `SQLITE_IOERR_*` …), PostgreSQL (`53100` disk full,
 * `08006` connection failure …) or the OS (`ENOSPC` …), also when wrapped as a cause.
 */
export function isStorageFault(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (STORAGE_CODES.has(code) || /^SQLITE_(FULL|IOERR|READONLY)(_|$)/.test(code))) return true;
    // PostgreSQL: connection exceptions (08…), insufficient resources (53…: disk full, too many connections),
    // the server shutting down (57P0…), and the connection refused or cut on the way to it.
    if (
      typeof code === 'string' &&
      (/^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-3])$/.test(code) || code === 'ECONNREFUSED' || code === 'ECONNRESET')
    )
      return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /database or disk is full|no space left on device|Connection terminated unexpectedly/i.test(message))
      return true;
  }
  return false;
}

/**
 * Storage state of the server, for /health: a small list of checks that parts register (the database's own,
 * the alarm engine's `storageState()`, …), the storage faults seen by request handling, and the data dir's free
 * disk space.
 */
export class StorageHealth {
  private readonly checks: StorageCheck[] = [];
  private lastFault: { at: number; reason: string } | undefined;
  private disk: { at: number; space: DiskSpace | undefined } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly dataDir: string,
  ) {}

  /** Adds a source of storage state; returns its removal. */
  register(check: StorageCheck): () => void {
    this.checks.push(check);
    return () => {
      const i = this.checks.indexOf(check);
      if (i >= 0) this.checks.splice(i, 1);
    };
  }

  /** A write failed for lack of storage (reported by whoever saw it: the HTTP error handler, a store). */
  fault(err: unknown): void {
    const e = err as { code?: unknown; message?: unknown };
    const reason = `${typeof e.code === 'string' ? `${e.code}: ` : ''}${typeof e.message === 'string' ? e.message.slice(0, 200) : 'storage fault'}`;
    this.lastFault = { at: this.clock.now(), reason };
  }

  /** The last fault, while it is recent. */
  recentFault(): { at: number; reason: string } | undefined {
    const f = this.lastFault;
    return f && this.clock.now() - f.at < FAULT_MEMORY_MS ? f : undefined;
  }

  /** Free and total bytes of the data dir's file system (cached for a second: /health is public and may be polled). */
  diskSpace(): DiskSpace | undefined {
    const now = this.clock.now();
    if (this.disk && now - this.disk.at < 1000) return this.disk.space;
    let space: DiskSpace | undefined;
    try {
      const s = statfsSync(this.dataDir);
      space = { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch {
      space = undefined;
    }
    this.disk = { at: now, space };
    return space;
  }

  /** Every registered check's state (a check that throws counts as not ok), plus the disk's. */
  async states(): Promise<StorageState[]> {
    const out: StorageState[] = [];
    for (const c of this.checks) {
      try {
        out.push(await c());
      } catch (err) {
        out.push({ name: 'unknown', ok: false, reason: `check failed: ${(err as Error).message}`.slice(0, 200) });
      }
    }
    const disk = this.diskSpace();
    if (disk && disk.freeBytes < MIN_FREE_DISK_BYTES)
      out.push({ name: 'disk', ok: false, reason: `only ${Math.floor(disk.freeBytes / 1048576)} MiB free in the data directory` });
    return out;
  }
}

/** The part of a better-sqlite3 database the check needs. */
interface PragmaReader {
  pragma(source: string, options: { simple: true }): unknown;
}

/**
 * A SQLite database's own check: not ok while a storage fault is recent, or when the file cannot grow (it has
 * reached `max_page_count` with no free page left; a full disk shows in the disk check).
 */
export function sqliteCheck(name: string, db: PragmaReader, health: StorageHealth): StorageCheck {
  return () => {
    const fault = health.recentFault();
    if (fault) return { name, ok: false, reason: `writes fail: ${fault.reason}` };
    try {
      const pages = Number(db.pragma('page_count', { simple: true }));
      const max = Number(db.pragma('max_page_count', { simple: true }));
      if (pages >= max && Number(db.pragma('freelist_count', { simple: true })) === 0)
        return { name, ok: false, reason: `the database reached its size limit (${max} pages)` };
    } catch (err) {
      return { name, ok: false, reason: `cannot read the database: ${(err as Error).message}`.slice(0, 200) };
    }
    return { name, ok: true };
  };
}

/** The part of a storage the check needs (`Storage.health()`). */
interface HealthReader {
  health(): Promise<{ status: 'ok' | 'degraded'; reason?: string | undefined }>;
}

/**
 * A storage's own check (replaces a check on a raw database handle): not ok while a storage fault seen by request
 * handling is recent, or while the storage's `health()` says degraded (its own recent faults, a database at its
 * size limit, little free disk).
 */
export function storageCheck(name: string, storage: HealthReader, health: StorageHealth): StorageCheck {
  return async () => {
    const fault = health.recentFault();
    if (fault) return { name, ok: false, reason: `writes fail: ${fault.reason}` };
    try {
      const h = await storage.health();
      return h.status === 'ok' ? { name, ok: true } : { name, ok: false, reason: h.reason };
    } catch (err) {
      return { name, ok: false, reason: `cannot read the storage state: ${(err as Error).message}`.slice(0, 200) };
    }
  };
}
