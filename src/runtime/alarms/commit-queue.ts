import type { AlarmEventRecord } from '../../domain/alarms/records.js';
import type { Clock } from '../../domain/clock.js';
import { TagwayError } from '../../domain/problems.js';
import { JournalFencedError, type JournalFence, type LeaseRef, type NewAlarmEvent } from '../../storage/alarm-journal-repository.js';
import type { Occurrence } from './occurrence.js';
import type { AlarmLogger, AlarmStorageState } from './types.js';

/** An event waiting for its commit, with the occurrence it belongs to (the current list is updated on commit). */
export interface QueuedEvent {
  event: NewAlarmEvent;
  occ: Occurrence;
  /** In a cluster: the lease the event was evaluated under (stamped when queued), which its commit must still hold. */
  lease?: LeaseRef | undefined;
}

/**
 * A cluster member's fencing of its commits (see AlarmPeer): each event carries the lease it was evaluated under,
 * and the journal records a batch only while this node still holds those leases.
 */
export interface QueueFence {
  holder: string;
  /** The lease of the connection whose owner evaluates this event's alarm, with the token held now. */
  leaseOf(event: NewAlarmEvent): LeaseRef;
  /** A commit was refused for these leases; `dropped` are the events given up for them (the new owner's now). */
  fenced(refused: readonly LeaseRef[], dropped: readonly QueuedEvent[]): void;
}

export interface CommitQueueOptions {
  journal: { append(events: readonly NewAlarmEvent[], fence?: JournalFence): Promise<AlarmEventRecord[]> };
  clock: Clock;
  /** Pause between retries of a refused commit (default 250 ms). */
  retryMs?: number | undefined;
  /** Events kept while the journal refuses; past it, callers hold back what can wait (default 10,000). */
  maxPending?: number | undefined;
  /** Called after each commit with the records and the queued events, in order. */
  committed: (records: AlarmEventRecord[], batch: readonly QueuedEvent[]) => void;
  /** Called after the first commit that follows a refusal or an overflow: held-back changes can go now. */
  recovered: () => void;
  logger?: AlarmLogger | undefined;
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' ? `${e.code}: ${msg}` : msg;
}

/**
 * Group commit of alarm journal events. Events queue as transitions happen and commit in one transaction at the
 * end of the synchronous burst (a microtask), or at once when asked (operator actions answer after their commit).
 * The journal is asynchronous: commits run one after the other (a chain), each taking what is queued when it
 * starts; events queued while one is under way go with the next, so the journal order is the queue order.
 *
 * A refused commit (a full disk) drops nothing: the events stay queued in order with their original times and
 * the commit is retried every `retryMs` until the journal takes them; microtask commits pause meanwhile (each
 * would only fail again). The queue is bounded: at `maxPending` it reports `full`, and the evaluator then holds
 * back clears (the occurrence stays active until there is room, which is re-judged on recovery) while raises
 * still queue. An alarm has at most one active occurrence, so raises beyond the bound are at most one per alarm:
 * memory stays bounded and no RAISED event is ever lost.
 *
 * In a cluster (`fenceWith`) a commit is also refused when this node no longer holds a lease its events were
 * evaluated under (JournalFencedError). That is no outage and is never retried: those events are dropped (another
 * node owns those alarms now and rebuilt them from the journal, which must not get a second account of them), the
 * rest of the queue commits at once.
 */
export class CommitQueue {
  private pending: QueuedEvent[] = [];
  /** The commits asked for, one after the other. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Called by every refused commit (operator actions under way undo themselves, see `guard`). */
  private readonly guards = new Set<() => void>();
  private microtaskQueued = false;
  private retryTimer: unknown;
  private failure: { reason: string; since: number } | undefined;
  private overflowed = false;
  private readonly retryMs: number;
  private readonly maxPending: number;
  private fence: QueueFence | undefined;
  /** The last refusal was a fence (operator actions then answer DEVICE_UNAVAILABLE, not STORAGE_UNAVAILABLE). */
  private lastFenced = false;
  /** Leases whose refusal was logged already: one line per lease lost, not one per dropped burst. */
  private readonly loggedFences = new Set<string>();

  constructor(private readonly opts: CommitQueueOptions) {
    this.retryMs = opts.retryMs ?? 250;
    this.maxPending = opts.maxPending ?? 10_000;
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * At the bound during an outage: hold back what can wait (a clear), never a raise. A long burst while the journal
   * works is not held back: it commits at the end of its tick anyway.
   */
  get full(): boolean {
    if (this.failure === undefined || this.pending.length < this.maxPending) return false;
    if (!this.overflowed) {
      this.overflowed = true;
      this.opts.logger?.warn({ pending: this.pending.length }, 'alarm journal queue full; clears are held back until storage returns');
    }
    return true;
  }

  /** Makes every commit prove the leases its events were evaluated under (a cluster member); call before use. */
  fenceWith(fence: QueueFence): void {
    this.fence = fence;
  }

  push(e: QueuedEvent): void {
    if (this.fence) e.lease = this.fence.leaseOf(e.event);
    this.pending.push(e);
    if (!this.microtaskQueued && this.retryTimer === undefined) {
      this.microtaskQueued = true;
      queueMicrotask(this.onMicrotask);
    }
  }

  private readonly onMicrotask = (): void => {
    this.microtaskQueued = false;
    if (this.retryTimer === undefined) void this.tryCommit(undefined, true);
  };

  /** The events queued since the queue had `size` events (no commit may have run in between). */
  queuedSince(size: number): QueuedEvent[] {
    return this.pending.slice(size);
  }

  /**
   * Runs `onRefused` when any commit is refused until the returned function is called: an operator action's events
   * may be taken by a burst's commit before its own, and must be undone whichever commit finds the journal refusing.
   */
  guard(onRefused: () => void): () => void {
    this.guards.add(onRefused);
    return () => this.guards.delete(onRefused);
  }

  /**
   * Forgets these queued events (an operator action that failed to commit is undone as a whole). Safe only where
   * no commit can have taken them: in a refused commit's `onRefused` or `guard` hook.
   */
  remove(events: readonly QueuedEvent[]): void {
    if (events.length === 0) return;
    const gone = new Set(events);
    this.pending = this.pending.filter((e) => !gone.has(e));
  }

  /**
   * Commits everything queued once the commits asked for before have run. Resolves false when the journal
   * refused: the events stay queued (except what `onRefused`, called at once, removes) and a retry is scheduled.
   */
  tryCommit(onRefused?: () => void, background = false): Promise<boolean> {
    const run = this.chain.then(() => this.attempt(onRefused, background));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async attempt(onRefused: (() => void) | undefined, background: boolean): Promise<boolean> {
    if (this.pending.length === 0) return true;
    // A burst's commit that finds a refusal before it waits for the retry instead (it would only fail again).
    if (background && this.retryTimer !== undefined) return false;
    // The batch stays queued until it is committed: a refused one keeps its place at the head, in order.
    const batch = this.pending.slice();
    let records: AlarmEventRecord[];
    try {
      records = await this.opts.journal.append(
        batch.map((p) => p.event),
        this.fence ? { holder: this.fence.holder, leases: leasesOf(batch) } : undefined,
      );
    } catch (err) {
      onRefused?.();
      for (const g of [...this.guards]) g();
      if (this.fence && err instanceof JournalFencedError) this.fencedOut(this.fence, err.refused);
      else this.refused(err);
      return false;
    }
    this.lastFenced = false;
    // Only appended to meanwhile (removal happens only in a refused attempt, and attempts never overlap).
    this.pending = this.pending.slice(batch.length);
    const recovering = this.failure !== undefined || this.overflowed;
    if (this.retryTimer !== undefined) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (recovering) {
      this.opts.logger?.warn({ events: batch.length, since: this.failure?.since }, 'alarm journal writable again; held events committed');
      this.failure = undefined;
      this.overflowed = false;
    }
    this.opts.committed(records, batch);
    if (recovering) this.opts.recovered();
    return true;
  }

  /** Commits what is queued unless a retry is already waiting (readers wait for it: a pending burst shows at once). */
  async commitIfIdle(): Promise<void> {
    // Also waits for a commit under way (the chain), so that a read sees the burst that was just taken.
    if (this.retryTimer === undefined) await this.tryCommit(undefined, true);
  }

  /**
   * Commits everything queued, or throws STORAGE_UNAVAILABLE (503, Retry-After) with the events still queued
   * (but for those `onRefused` removes).
   */
  async commit(onRefused?: () => void): Promise<void> {
    if (!(await this.tryCommit(onRefused))) throw this.unavailable();
  }

  /** STORAGE_UNAVAILABLE (503, Retry-After) with the reason of the current outage. */
  unavailable(): TagwayError {
    if (this.lastFenced && this.failure === undefined)
      return new TagwayError('DEVICE_UNAVAILABLE', 'This node no longer evaluates these alarms (another node took the connection over)');
    return new TagwayError('STORAGE_UNAVAILABLE', `The alarm journal cannot be written now (${this.failure?.reason ?? 'unknown'})`, {
      headers: { 'Retry-After': '1' },
    });
  }

  /** Drops every queued event of the refused leases (now or later they could only be refused again). */
  private fencedOut(fence: QueueFence, refused: readonly LeaseRef[]): void {
    this.lastFenced = true;
    const keys = new Set(refused.map(leaseKey));
    const dropped: QueuedEvent[] = [];
    this.pending = this.pending.filter((e) => {
      if (e.lease === undefined || !keys.has(leaseKey(e.lease))) return true;
      dropped.push(e);
      return false;
    });
    const fresh = refused.filter((l) => !this.loggedFences.has(leaseKey(l)));
    if (fresh.length > 0) {
      if (this.loggedFences.size > 1000) this.loggedFences.clear();
      for (const l of fresh) this.loggedFences.add(leaseKey(l));
      this.opts.logger?.warn(
        { leases: fresh, events: dropped.length },
        'alarm events not journaled: this node no longer holds the lease they were evaluated under (the new owner rebuilds from the journal)',
      );
    }
    fence.fenced(refused, dropped);
    // What is left belongs to leases still held: it commits now, in order (the dropped ones can no longer block it).
    if (this.pending.length > 0 && this.retryTimer === undefined) void this.tryCommit(undefined, true);
  }

  private refused(err: unknown): void {
    const reason = describe(err);
    // One log line per outage, not one per retry: a full disk must not also fill the log.
    if (!this.failure) {
      this.failure = { reason, since: this.opts.clock.now() };
      this.opts.logger?.error({ err, pending: this.pending.length }, 'alarm journal write failed; events kept in memory and retried');
    } else this.failure.reason = reason;
    this.retryTimer ??= this.opts.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.tryCommit(undefined, true);
    }, this.retryMs);
  }

  state(): AlarmStorageState {
    const f = this.failure;
    return {
      state: f || this.overflowed ? 'degraded' : 'ok',
      ...(f ? { reason: f.reason, since: new Date(f.since).toISOString() } : {}),
      pendingEvents: this.pending.length,
      overflowing: this.overflowed,
    };
  }

  /** Stops retrying (the last attempt is the caller's `tryCommit`). */
  stop(): void {
    if (this.retryTimer !== undefined) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

function leaseKey(l: LeaseRef): string {
  return `${l.token}\u0000${l.connection}`;
}

/** The distinct leases of a batch, each once. */
function leasesOf(batch: readonly QueuedEvent[]): LeaseRef[] {
  const out = new Map<string, LeaseRef>();
  for (const e of batch) if (e.lease) out.set(leaseKey(e.lease), e.lease);
  return [...out.values()];
}
