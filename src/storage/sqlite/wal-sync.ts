import { open, type FileHandle } from 'node:fs/promises';

/** Syncs in flight at once: a commit made while one runs starts its own instead of waiting for it to end. */
const MAX_IN_FLIGHT = 2;

/**
 * Makes the WAL durable off the event loop: `fdatasync` of `<db>-wal` in libuv's thread pool. A commit made with
 * `synchronous = NORMAL` is in the operating system's cache when COMMIT returns (it survives kill -9 of this
 * process); this sync makes it survive a power loss as well, which is what `synchronous = FULL` does inside COMMIT
 * while blocking the event loop for the whole disk flush. One flush covers every commit made before it started.
 * Up to two run at once, so that a group committed while one runs does not wait for it to end before its own starts
 * (a single write is answered only after its group's sync, so that wait was a wait of every client); callers
 * arriving while two run share the next one.
 */
export class WalSync {
  private readonly inFlight = new Set<Promise<void>>();
  private queued: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  private handle: Promise<FileHandle | undefined> | undefined;
  private closed = false;

  /** Syncs done (for tests and benchmarks: how many commits shared one). */
  syncs = 0;

  constructor(private readonly walFile: string) {}

  /**
   * Undefined when a sync called now would start at once; otherwise settles when one under way ends (a commit
   * made before then would wait for it anyway before its own sync starts).
   */
  whenSlotFree(): Promise<void> | undefined {
    if (this.closed || this.inFlight.size < MAX_IN_FLIGHT) return undefined;
    return Promise.race(this.inFlight).then(noop, noop);
  }

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
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
        this.start().then(q.resolve, q.reject);
      }
    });
    this.inFlight.add(p);
    return p;
  }

  private async flush(): Promise<void> {
    // The WAL file exists from the first commit until the last connection closes (WAL mode never deletes it in
    // between, a checkpoint only rewinds or truncates it), so one descriptor stays valid for the storage's life.
    this.handle ??= open(this.walFile, 'r+').catch((err: NodeJS.ErrnoException) => {
      this.handle = undefined;
      // No WAL yet means nothing was committed through it: nothing to make durable.
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    const fh = await this.handle;
    if (fh === undefined || this.closed) return;
    await fh.datasync();
    this.syncs++;
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
  }
}

function noop(): void {}
