import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from './database.js';

/**
 * WAL checkpoints in a thread of their own. SQLite's automatic checkpoint runs inside the COMMIT that crosses
 * `wal_autocheckpoint` (1,000 pages): it copies the WAL's pages into the database file and syncs both, so under a
 * stream of group commits every few commits stood the event loop still for two disk flushes. Here a second
 * connection in a worker thread checkpoints (PASSIVE: it never waits for or blocks the writer) when told that
 * commits happened and at least every `intervalMs`; the serving connection's automatic checkpoint is off while the
 * worker runs and back on if it stops (the WAL must never grow without bound). The checkpoint's syncs follow the
 * connection's `synchronous` level, as SQLite's own would.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
let asked = false;
let timer;
const run = () => {
  asked = false;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // SQLITE_BUSY: another checkpoint (a closing connection) is under way; the next poke tries again.
    if (!err || err.code !== 'SQLITE_BUSY') throw err;
  }
};
const soon = () => {
  if (asked) return;
  asked = true;
  setImmediate(run);
};
parentPort.on('message', (m) => {
  if (m === 'poke') soon();
  else if (m === 'stop') {
    clearInterval(timer);
    try { run(); } finally { db.close(); parentPort.close(); }
  }
});
timer = setInterval(soon, workerData.intervalMs);
parentPort.postMessage('ready');
`;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private ready = false;
  private stopped = false;
  private poked = false;

  constructor(
    private readonly db: Database,
    private readonly synchronous: 'FULL' | 'NORMAL',
    private readonly intervalMs = 200,
  ) {}

  /** Starts the worker (once; only for a file database in WAL mode). Commits meanwhile checkpoint as before. */
  start(): void {
    if (this.worker !== undefined || this.stopped || this.db.memory) return;
    if (String(this.db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { module, file: this.db.name, synchronous: this.synchronous, intervalMs: this.intervalMs },
    });
    worker.unref();
    this.worker = worker;
    worker.on('message', (m) => {
      if (m !== 'ready' || this.stopped) return;
      this.ready = true;
      this.db.pragma('wal_autocheckpoint = 0');
    });
    const fallBack = (): void => {
      this.ready = false;
      // Not started again: a worker that fails once (no threads, a file it cannot open) would fail every time.
      this.stopped = true;
      this.worker = undefined;
      // The serving connection checkpoints again by itself (unless it is closed by now).
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
  }

  /** Commits happened: a checkpoint soon (at most one per turn of the worker's loop). */
  poke(): void {
    if (!this.ready || this.poked) return;
    this.poked = true;
    queueMicrotask(() => {
      this.poked = false;
      this.worker?.postMessage('poke');
    });
  }

  /** Stops the worker after a last checkpoint; the serving connection checkpoints by itself again. */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    if (w === undefined) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('stop');
    const timeout = setTimeout(() => void w.terminate(), 5_000);
    await exited;
    clearTimeout(timeout);
  }
}
