import { open, type FileHandle } from 'node:fs/promises';
import { DurabilityLostError } from '../errors.js';

/** Syncs in flight at once: a commit made while one runs starts its own instead of waiting for it to end. */
const MAX_IN_FLIGHT = 2;

/**
 * The WAL could not be made durable: a sync of it failed, so commits since the last good sync may be lost on a power
 * failure, and no later sync can vouch for them (see WalSync). Final for this process: restarting the server is the
 * way out. `code` is SQLite's own for a failed fsync, which is what SQLite reports when its own sync inside COMMIT
 * fails; callers thus treat it like any other storage fault (503 STORAGE_UNAVAILABLE, health degraded).
 */
export class WalNotDurableError extends DurabilityLostError {
  override readonly name = 'WalNotDurableError';
  constructor(cause: unknown) {
    const c = cause as { code?: unknown; message?: unknown } | null;
    const why = typeof c?.code === 'string' ? c.code : typeof c?.message === 'string' ? c.message.slice(0, 200) : 'unknown error';
    super(
      `the database's write-ahead log could not be made durable (sync failed: ${why}); writes are refused until the server is restarted`,
      'SQLITE_IOERR_FSYNC',
      cause,
    );
  }
}

export interface WalSyncOptions {
  /**
   * FOR TESTS ONLY: how the descriptor is synced (default `fh.datasync()`), to inject the failure of a disk, which
   * cannot be made here without root.
   */
  datasync?: ((fh: FileHandle) => Promise<void>) | undefined;
  /** Called once, when the first sync fails (the storage refuses writes from then on and logs it). */
  onFailure?: ((err: WalNotDurableError) => void) | undefined;
}

/**
 * Makes the WAL durable off the event loop: `fdatasync` of `<db>-wal` in libuv's thread pool. A commit made with
 * `synchronous = NORMAL` is in the operating system's cache when COMMIT returns (it survives kill -9 of this
 * process); this sync makes it survive a power loss as well, which is what `synchronous = FULL` does inside COMMIT
 * while blocking the event loop for the whole disk flush. One flush covers every commit made before it started.
 * Up to two run at once, so that a group committed while one runs does not wait for it to end before its own starts
 * (a single write is answered only after its group's sync, so that wait was a wait of every client); callers
 * arriving while two run share the next one.
 *
 * A failed flush is final ("fsyncgate"): Linux reports a writeback error once per open file description and may
 * mark the pages that failed clean, so a later or concurrent flush, on this descriptor or a new one, can succeed
 * although those pages never reached the disk. And a WAL frame lost on disk takes every later frame with it (SQLite's
 * recovery stops at the first frame whose checksum fails). So once one fails, every sync that settles after it fails
 * too, and nothing committed from then on can be answered as durable.
 */
export class WalSync {
  private readonly inFlight = new Set<Promise<void>>();
  private queued: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  private handle: Promise<FileHandle | undefined> | undefined;
  /** The descriptor given up after a failed flush: closed once the flushes still using it ended. */
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly datasync: (fh: FileHandle) => Promise<void>;
  private readonly onFailure: ((err: WalNotDurableError) => void) | undefined;
  private lost: WalNotDurableError | undefined;

  /** Syncs done (for tests and benchmarks: how many commits shared one). */
  syncs = 0;

  constructor(
    private readonly walFile: string,
    opts: WalSyncOptions = {},
  ) {
    this.datasync = opts.datasync ?? ((fh) => fh.datasync());
    this.onFailure = opts.onFailure;
  }

  /** Set by the first failed flush; from then on every sync rejects with it. */
  get failure(): WalNotDurableError | undefined {
    return this.lost;
  }

  /**
   * Undefined when a sync called now would start at once (or fail at once); otherwise settles when one under way
   * ends (a commit made before then would wait for it anyway before its own sync starts).
   */
  whenSlotFree(): Promise<void> | undefined {
    if (this.closed || this.failure !== undefined || this.inFlight.size < MAX_IN_FLIGHT) return undefined;
    return Promise.race(this.inFlight).then(noop, noop);
  }

  /** Resolves once everything written to the WAL before this call is on disk; rejects for good once a flush failed. */
  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve();
    if (this.inFlight.size < MAX_IN_FLIGHT) return this.start();
    // Every sync under way may have started before the caller's commit was written: it needs one that starts later.
    if (this.queued === undefined) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((a, b) => {
        resolve = a;
        reject = b;
      });
      this.queued = { promise, resolve, reject };
    }
    return this.queued.promise;
  }

  private start(): Promise<void> {
    const p = this.flush().finally(() => {
      this.inFlight.delete(p);
      const q = this.queued;
      if (q !== undefined) {
        this.queued = undefined;
        // After a failure the queued callers reject at once (flush throws it): no sync would vouch for them.
        this.start().then(q.resolve, q.reject);
      }
    });
    this.inFlight.add(p);
    return p;
  }

  private async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    // The WAL file exists from the first commit until the last connection closes (WAL mode never deletes it in
    // between, a checkpoint only rewinds or truncates it), so one descriptor stays valid for the storage's life.
    // A failed open is no failed flush: it lost nothing (no writeback error was consumed), so the next sync retries.
    this.handle ??= open(this.walFile, 'r+').catch((err: NodeJS.ErrnoException) => {
      this.handle = undefined;
      // No WAL yet means nothing was committed through it: nothing to make durable.
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    const fh = await this.handle;
    if (this.failure !== undefined) throw this.failure;
    if (fh === undefined || this.closed) return;
    try {
      await this.datasync(fh);
    } catch (err) {
      this.fail(err, fh);
    }
    // Also for a flush that succeeded after another one failed: its success may only mean that the error was
    // reported to the other one, with the failed pages marked clean.
    if (this.failure !== undefined) throw this.failure;
    this.syncs++;
  }

  private fail(err: unknown, fh: FileHandle): void {
    if (this.lost !== undefined) return;
    this.lost = new WalNotDurableError(err);
    // Kept closed, never reopened: a sync on this descriptor reports the error once and then succeeds, one on a new
    // descriptor never sees it; either would vouch for pages that may not be on disk. There is nothing left for it
    // to do. FileHandle.close waits for the other flush still using it.
    this.handle = undefined;
    this.closing = fh.close().catch(noop);
    try {
      this.onFailure?.(this.lost);
    } catch {
      /* a listener's fault must not hide the sync's */
    }
  }

  /** Waits for the syncs under way, then releases the descriptor. */
  async close(): Promise<void> {
    while (this.inFlight.size > 0 || this.queued !== undefined) {
      await Promise.allSettled([...this.inFlight, this.queued?.promise]);
    }
    this.closed = true;
    const fh = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await fh?.close().catch(() => undefined);
    await this.closing;
  }
}

function noop(): void {}
