import type { AlarmJournalRepository } from '../../storage/alarm-journal-repository.js';
import type { Clock } from '../../domain/clock.js';

export interface PrunerOptions {
  retentionDays: number;
  /** How often to look for old events (default hourly). */
  intervalMs?: number | undefined;
  /** Events deleted per transaction (default 1000). */
  batch?: number | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

/**
 * Deletes journal events older than the retention in small batches, yielding to the event loop between batches,
 * so that a large backlog (first start after raising the retention, a year of events) never blocks alarm
 * evaluation or requests for more than one short transaction.
 */
export class AlarmJournalPruner {
  private timer: unknown;
  private running: Promise<number> | undefined;
  private stopping = false;

  constructor(
    private readonly journal: Pick<AlarmJournalRepository, 'pruneBatch'>,
    private readonly clock: Clock,
    private readonly opts: PrunerOptions,
  ) {}

  start(): void {
    this.stopping = false;
    this.timer = this.clock.setInterval(() => {
      void this.runOnce();
    }, this.opts.intervalMs ?? 3_600_000);
    void this.runOnce();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One full pass; resolves with the number of events deleted. Concurrent calls share the pass. */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const batch = this.opts.batch ?? 1000;
    const before = this.clock.now() - this.opts.retentionDays * 86_400_000;
    let total = 0;
    try {
      for (;;) {
        const n = await this.journal.pruneBatch(before, batch);
        total += n;
        if (n < batch) break;
        // Let alarms, requests and timers run between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // stop() ends a pass between batches; each batch is its own transaction, so nothing is half done.
        if (this.stopping) break;
      }
    } catch (err) {
      this.opts.onError?.(err);
    }
    return total;
  }
}
