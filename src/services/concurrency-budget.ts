import { TagwayError } from '../domain/problems.js';

/**
 * At most `max` operations in flight per key (a principal's name): one client's 20 parallel 10,000-name reads or
 * day-long history queries cannot crowd out everyone else. Over budget the caller gets 429 at once (no queue to
 * grow without bound).
 */
export class ConcurrencyBudget {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {}

  /** Runs `fn` within the key's budget; TOO_MANY_REQUESTS (Retry-After: 1) when the key already has `max` running. */
  async run<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    const release = this.acquire(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Takes one slot now (synchronously, no promise) and returns its release, which may be called more than once:
   * for work whose end is an event rather than a promise (a request's last byte sent or its connection closed).
   * TOO_MANY_REQUESTS (Retry-After: 1) when the key already has `max` running.
   */
  acquire(key: string): () => void {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.max) {
      throw new TagwayError('TOO_MANY_REQUESTS', `At most ${this.max} ${this.what} at a time per user; wait for one to finish`, {
        headers: { 'Retry-After': '1' },
      });
    }
    this.inFlight.set(key, n + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
  }

  /** Operations in flight for a key (tests, metrics). */
  running(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}
