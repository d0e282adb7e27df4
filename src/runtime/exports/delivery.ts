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

/**
 * Entries leased per storage write: at least this many; more while a target keeps up, as many as it answers in a
 * quarter of the lease (each write is a durable commit, an fsync with SQLite's FULL: at 1,000/s they were a fifth
 * of the time with 64-entry batches), at most CLAIM_MAX so that a slow target does not hold leases it cannot use.
 */
const CLAIM_MIN = 32;
const CLAIM_MAX = 512;
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

type Delivered = { id: number; at: number; attempt: OutboxAttempt };

export interface DeliveryStats {
  delivered: number;
  failedAttempts: number;
  dead: number;
}

/**
 * Delivers the exports' outbox, each target in id (= period) order: an entry is settled (marked delivered, or
 * given up) only after every entry before it of the target is settled, so an ERP that was down for a day books the
 * night shift before the early one.
 *
 * A target's `inFlight` (default 1) is how many requests are sent before the oldest one answered (pipelined on one
 * connection, in id order). Answers are taken in id order: when entry k fails while k+1… are in flight, k waits
 * for its retry and the answers of k+1… are not kept (their leases are released, no attempt is counted); they
 * are sent again, with the same keys, after k is delivered or dead. After a failure the head is tried alone, and
 * the window opens again on its success, so a target that is down gets one probe at a time.
 *
 * An entry is leased before its attempt (lease = 2 × timeout + 1 s: a token fetch and the POST); a crash
 * mid-delivery leaves it leased, and after the restart it is attempted again when the lease has run out, with the
 * same idempotency key.
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

  /** @internal One request; never throws (a sender's bug counts as a network error). */
  async send(q: TargetQueue, entry: OutboxEntry): Promise<SendResult> {
    const payload = entry.payload as ExportPayload;
    try {
      return await q.sender.send(payload.body, payload.key);
    } catch (err) {
      return { status: null, answer: `error: ${(err as Error).message}` };
    }
  }

  /**
   * @internal The outcome of an entry's attempt; true when the entry is settled (delivered or dead), false when it
   * waits for a retry. A delivery is only noted in `delivered`: the caller writes a batch's deliveries at once (one
   * commit, not one per entry).
   */
  async record(q: TargetQueue, entry: OutboxEntry, r: SendResult, delivered: Delivered[]): Promise<boolean> {
    const payload = entry.payload as ExportPayload;
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
    const window = Math.max(1, this.target.inFlight ?? 1);
    let size = Math.max(CLAIM_MIN, 4 * window);
    while (!this.stopped) {
      // A batch of due entries is leased in one write; answers are taken one at a time, in order.
      const claim = await this.d.repo.claimHead(this.target.name, this.d.time.now(), lease, size);
      if (!claim) return;
      if (claim.leased.length === 0) return this.wakeAt(claim.head.nextAttemptAt);
      const entries = claim.leased;
      // Deliveries of the batch are written together: a crash before that write sends them again, with their keys.
      // Written at the latest after SETTLE_AFTER_MS, so that a slow target does not hold many unrecorded deliveries.
      const delivered: Delivered[] = [];
      const answers: Promise<SendResult>[] = [];
      // A head that failed before is sent alone; its success opens the window.
      let width = entries[0]!.attempts > 0 ? 1 : window;
      let sent = 0;
      let done = 0;
      const began = performance.now();
      let since = began;
      try {
        while (done < sent || (!this.stopped && done < entries.length)) {
          while (!this.stopped && sent < entries.length && sent - done < width) {
            answers.push(this.d.send(this, entries[sent]!));
            sent++;
          }
          if (delivered.length === 0) since = performance.now();
          // Deliveries noted are written after SETTLE_AFTER_MS even while the next answer is slow to come.
          else await this.settleUnless(answers[done]!, delivered, SETTLE_AFTER_MS - (performance.now() - since));
          const ok = await this.d.record(this, entries[done]!, await answers[done]!, delivered);
          done++;
          // A failed entry stays the head: the rest of the batch waits for it.
          if (!ok) break;
          width = window;
          if (performance.now() - since >= SETTLE_AFTER_MS) await this.settle(delivered);
        }
        const perMs = done / Math.max(1, performance.now() - began);
        size = Math.round(Math.min(CLAIM_MAX, Math.max(CLAIM_MIN, 4 * window, (perMs * lease) / 4)));
      } finally {
        try {
          await this.settle(delivered);
        } finally {
          // Sent after the failed one (their answers are not kept) or not sent: claimable again at once.
          const rest = entries.slice(done);
          if (rest.length > 0) {
            await Promise.allSettled(answers.slice(done));
            await this.d.repo.release(
              this.target.name,
              rest.map((e) => e.id),
              this.d.time.now(),
            );
          }
        }
      }
    }
  }

  /** Writes the deliveries noted so far when `answer` has not come within `ms`. */
  private async settleUnless(answer: Promise<SendResult>, delivered: Delivered[], ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      answer.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), Math.max(0, ms));
      }),
    ]);
    clearTimeout(timer);
    if (late) await this.settle(delivered);
  }

  /** Writes the deliveries noted so far (and empties the list). */
  async settle(delivered: Delivered[]): Promise<void> {
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
