/**
 * Reconnect delays: exponential with full jitter ("AWS backoff"), so that many connections that dropped
 * together do not reconnect in lock-step. `reset()` after a successful connect.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly initialMs = 500,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; grows with each call until `reset`. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Never below half the ceiling: a zero delay would hammer a device that just refused us.
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
