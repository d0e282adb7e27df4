import { open, type FileHandle } from 'node:fs/promises';

/**
 * Makes the WAL durable off the event loop: `fdatasync` of `<db>-wal` in libuv's thread pool. A commit made with
 * `synchronous = NORMAL` is in the operating system's cache when COMMIT returns (it survives kill -9 of this
 * process); this sync makes it survive a power loss as well, which is what `synchronous = FULL` does inside COMMIT
 * while blocking the event loop for the whole disk flush. Callers arriving while a sync is under way share the next
 * one: one flush covers every commit made before it started.
 */
export class WalSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private handle: Promise<FileHandle | undefined> | undefined;
  private closed = false;

  /** Syncs done (for tests and benchmarks: how many commits shared one). */
  syncs = 0;

  constructor(private readonly walFile: string) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running === undefined) return this.start();
    // The sync under way may have started before the caller's commit was written: the caller needs the next one.
    if (this.next === undefined) {
      const after = (): Promise<void> => {
        this.next = undefined;
        return this.start();
      };
      this.next = this.running.then(after, after);
    }
    return this.next;
  }

  private start(): Promise<void> {
    const p = this.flush().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
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
    await this.next?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    this.closed = true;
    const fh = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await fh?.close().catch(() => undefined);
  }
}
