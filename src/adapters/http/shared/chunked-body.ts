import { Readable } from 'node:stream';

/** Text gathered before it goes out as one chunk: large enough for few syscalls, small enough to be nothing. */
const CHUNK_CHARS = 64 * 1024;

/**
 * A response body written piece by piece by a producer that waits for the client: `write` resolves once the
 * client has taken enough (backpressure), and rejects when the client is gone, so the producer stops reading
 * instead of buffering an answer nobody takes.
 */
export class ChunkedBody extends Readable {
  private pending: string[] = [];
  private pendingChars = 0;
  private waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private gone: Error | undefined;

  /** Queues text; resolves when more may be written. */
  write(text: string): Promise<void> | undefined {
    if (this.gone) return Promise.reject(this.gone);
    this.pending.push(text);
    this.pendingChars += text.length;
    return this.pendingChars >= CHUNK_CHARS ? this.flush() : undefined;
  }

  /** Sends what is queued; resolves when the client is ready for more. */
  flush(): Promise<void> | undefined {
    if (this.gone) return Promise.reject(this.gone);
    if (this.pendingChars === 0) return undefined;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    if (this.push(chunk)) return undefined;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** The last of the body. */
  finish(): void {
    if (this.gone) return;
    if (this.pendingChars > 0) this.push(this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
    this.push(null);
  }

  override _read(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.gone = err ?? new Error('The client closed the connection');
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.gone);
    callback(err);
  }
}
