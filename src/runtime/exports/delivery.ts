import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import type { ExportTargetConfig } from '../../project/exports.js';
import { OUTBOX_MAX_ANSWER, type OutboxAttempt, type OutboxEntry, type OutboxRepository } from '../../storage/outbox-repository.js';
import { verdictOf, type ExportPayload, type SendResult, type TargetSender } from './types.js';

export interface BackoffOptions {
  /** First retry after about this long. */
  baseMs: number;
  /** Retries are never further apart than this. */
  maxMs: number;
  /** Retry-After is honoured up to this. */
  maxRetryAfterMs: number;
}

/** Entries leased per storage write while a target keeps up. */
const CLAIM_BATCH = 32;
/** Deliveries noted but not yet written are written after this long at the latest. */
const SETTLE_AFTER_MS = 100;

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 300_000, maxRetryAfterMs: 3_600_000 };

/**
 * The wait before attempt `attempts + 1`: exponential, capped, with jitter (half to the whole interval) so that
 * many entries of many plants do not hammer an ERP that just came back in lockstep. A Retry-After wins when longer.
 */
export function backoffMs(attempts: number, opts: BackoffOptions, random: () => number, retryAfterMs?: number): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  const jittered = Math.round(exp * (0.5 + random() / 2));
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, opts.maxRetryAfterMs));
}

export interface DeliveryStats {
  delivered: number;
  failedAttempts: number;
  dead: number;
}

/**
 * Delivers the exports' outbox, one target at a time in id (= period) order: a target's next entry waits until the
 * head is delivered or dead, so an ERP that was down for a day books the night shift before the early one.
 *
 * An entry is leased before its attempt (lease = 2 × timeout + 1 s: a token fetch and the POST); a crash mid-delivery leaves it leased, and
 * after the restart it is attempted again when the lease has run out, with the same idempotency key.
 */
export class OutboxDispatcher {
  private readonly queues = new Map<string, TargetQueue>();
  readonly stats = new Map<string, DeliveryStats>();
  /** Called after entries of a target left the outbox's pending set (delivered or dead): there may be room now. */
  onSettled: ((target: string) => void) | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    senders: ReadonlyMap<string, TargetSender>,
    targets: readonly ExportTargetConfig[],
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {
    for (const t of targets) {
      const sender = senders.get(t.name);
      if (!sender) continue;
      const stats: DeliveryStats = { delivered: 0, failedAttempts: 0, dead: 0 };
      this.stats.set(t.name, stats);
      this.queues.set(t.name, new TargetQueue(this, t, sender, stats));
    }
  }

  /** Looks at every target (start-up: entries left from before). */
  start(): void {
    for (const q of this.queues.values()) q.kick();
  }

  /** Something was enqueued or requeued for the target. */
  notify(target: string): void {
    this.queues.get(target)?.kick();
  }

  /** Stops taking entries and waits for attempts under way (bounded by their timeouts). */
  async stop(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
  }

  /** @internal */
  /**
   * One attempt; true when the entry is settled (delivered or dead), false when it waits for a retry. A delivery
   * is only noted in `delivered`: the caller writes a batch's deliveries at once (one commit, not one per entry).
   */
  async attempt(q: TargetQueue, entry: OutboxEntry, delivered: { id: number; at: number; attempt: OutboxAttempt }[]): Promise<boolean> {
    const payload = entry.payload as ExportPayload;
    let r: SendResult;
    try {
      r = await q.sender.send(payload.body, payload.key);
    } catch (err) {
      r = { status: null, answer: `error: ${(err as Error).message}` };
    }
    const now = this.clock.now();
    const attempt = { at: now, status: r.status, answer: r.answer.slice(0, OUTBOX_MAX_ANSWER) };
    const verdict = verdictOf(r.status);
    const what = r.status === null ? r.answer.slice(0, 200) : `HTTP ${r.status}`;
    if (verdict === 'delivered') {
      delivered.push({ id: entry.id, at: now, attempt });
      return true;
    }
    // Failures are written in order after the deliveries before them.
    await q.settle(delivered);
    q.stats.failedAttempts++;
    const tooOld = now - entry.createdAt >= q.target.giveUpAfterMs;
    if (verdict === 'permanent' || tooOld) {
      await this.outbox.markFailed(
        entry.id,
        verdict === 'permanent' ? `refused: ${what}` : `given up after ${entry.attempts + 1} attempts: ${what}`,
        null,
        attempt,
      );
      q.stats.dead++;
      this.onSettled?.(q.target.name);
      this.logger?.error({ target: q.target.name, id: entry.id, key: payload.key, status: r.status }, 'export entry dead');
      return true;
    }
    const opts = { ...this.backoff, baseMs: q.target.retryBaseMs ?? this.backoff.baseMs, maxMs: q.target.retryMaxMs ?? this.backoff.maxMs };
    const wait = backoffMs(entry.attempts + 1, opts, this.random, r.retryAfterMs);
    await this.outbox.markFailed(entry.id, what, now + wait, attempt);
    this.logger?.warn({ target: q.target.name, id: entry.id, status: r.status, retryInMs: wait }, 'export delivery failed; will retry');
    return false;
  }

  /** @internal */
  get repo(): OutboxRepository {
    return this.outbox;
  }
  /** @internal */
  get time(): Clock {
    return this.clock;
  }
  /** @internal */
  log(err: unknown, target: string): void {
    this.logger?.error({ err, target }, 'export delivery loop failed; retrying in 1 s');
  }
}

class TargetQueue {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly d: OutboxDispatcher,
    readonly target: ExportTargetConfig,
    readonly sender: TargetSender,
    readonly stats: DeliveryStats,
  ) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) {
      this.d.time.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running = this.drain()
      .catch((err: unknown) => {
        this.d.log(err, this.target.name);
        this.wakeAt(this.d.time.now() + 1000);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private wakeAt(t: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.d.time.clearTimeout(this.timer);
    // Node timers overflow past 24.8 days; wake daily and look again.
    this.timer = this.d.time.setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.min(86_400_000, Math.max(0, t - this.d.time.now())),
    );
  }

  private async drain(): Promise<void> {
    const lease = 2 * this.target.timeoutMs + 1000;
    while (!this.stopped) {
      // A batch of due entries is leased in one write; they are still sent one at a time, in order.
      const claim = await this.d.repo.claimHead(this.target.name, this.d.time.now(), lease, CLAIM_BATCH);
      if (!claim) return;
      if (claim.leased.length === 0) return this.wakeAt(claim.head.nextAttemptAt);
      // Deliveries of the batch are written together: a crash before that write sends them again, with their keys.
      // Written at the latest after SETTLE_AFTER_MS, so that a slow target does not hold many unrecorded deliveries.
      const delivered: { id: number; at: number; attempt: OutboxAttempt }[] = [];
      let since = performance.now();
      try {
        for (const entry of claim.leased) {
          if (this.stopped) break;
          if (delivered.length === 0) since = performance.now();
          const ok = await this.d.attempt(this, entry, delivered);
          // A failed entry stays the head: the rest of the batch waits for it.
          if (!ok) break;
          if (performance.now() - since >= SETTLE_AFTER_MS) await this.settle(delivered);
        }
      } finally {
        await this.settle(delivered);
      }
    }
  }

  /** Writes the deliveries noted so far (and empties the list). */
  async settle(delivered: { id: number; at: number; attempt: OutboxAttempt }[]): Promise<void> {
    if (delivered.length === 0) return;
    const batch = delivered.splice(0);
    await this.d.repo.markDeliveredMany(batch);
    this.stats.delivered += batch.length;
    this.d.onSettled?.(this.target.name);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.d.time.clearTimeout(this.timer);
    await this.running;
    await this.sender.close();
  }
}
