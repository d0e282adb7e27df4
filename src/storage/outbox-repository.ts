/**
 * A durable outbox: messages for another system (the ERP export) are enqueued in the same transaction as the
 * change that caused them, and a sender delivers them later, at least once, retrying with back-off. Nothing is
 * lost on a crash: an entry claimed but neither delivered nor failed is claimable again once its lease ran out.
 */
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export interface OutboxEntry {
  id: number;
  /** Where it goes, e.g. `erp`. */
  topic: string;
  /** The message, JSON. */
  payload: unknown;
  status: OutboxStatus;
  /** Delivery attempts made (failed ones and the successful one). */
  attempts: number;
  createdAt: number;
  /** Epoch ms from which the entry may be claimed (again). */
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface NewOutboxEntry {
  topic: string;
  payload: unknown;
  /** Default: `at`, i.e. due at once. */
  notBefore?: number | undefined;
  /**
   * Unique per topic: enqueuing a key the topic already holds inserts nothing and answers the existing entry's id
   * (a report period computed twice, e.g. after a crash between enqueue and remembering it, is booked once).
   */
  key?: string | undefined;
  /** A label to filter lists by (the export's report name). */
  group?: string | undefined;
}

/** One delivery attempt as the receiver answered it. */
export interface OutboxAttempt {
  /** Epoch ms the attempt ended. */
  at: number;
  /** HTTP status, or null when no answer came (network error, timeout). */
  status: number | null;
  /** The start of the answer or the error (the caller keeps it short: at most 1 KB is stored). */
  answer: string;
}

/** Attempts stored per entry at most (the newest); `attempts` on the entry keeps counting. */
export const OUTBOX_MAX_ATTEMPTS_KEPT = 50;
export const OUTBOX_MAX_ANSWER = 1024;

export interface OutboxCount {
  topic: string;
  status: OutboxStatus;
  /** Whether the entries were tried before (pending entries with attempts are retrying). */
  attempted: boolean;
  count: number;
}

export interface OutboxListQuery {
  topic?: string | undefined;
  status?: OutboxStatus | undefined;
  group?: string | undefined;
  /** true: only entries tried at least once; false: only untried ones. */
  attempted?: boolean | undefined;
  /** Keyset: entries with an id greater than this, ascending. */
  afterId?: number | undefined;
  /** Default 100, at most 1,000. */
  limit?: number | undefined;
}

export const OUTBOX_MAX_LIMIT = 1000;

export interface OutboxRepository {
  /** Adds entries (in order) due at `notBefore`; returns their ids. */
  enqueue(entries: readonly NewOutboxEntry[], at: number): Promise<number[]>;
  /**
   * Takes up to `limit` pending entries of a topic that are due at `now`, oldest first, and leases them for
   * `leaseMs` (their next attempt moves to now + leaseMs), so that two senders never hold the same entry.
   */
  claimDue(topic: string, now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]>;
  /**
   * For the one sender of a topic that delivers in order: the oldest pending entry by id (`head`, due or not) and,
   * when it is due at `now`, it and the entries right after it (at most `limit`) that are due or were never tried
   * (a lease left on them by an earlier batch of this sender does not hold them back), all leased until
   * now + leaseMs. Stops at the first entry that waits for a retry. Undefined when the topic has no pending entry.
   */
  claimHead(topic: string, now: number, leaseMs: number, limit?: number): Promise<{ head: OutboxEntry; leased: OutboxEntry[] } | undefined>;
  /** The entry was delivered: counts the attempt; it is never claimed again. False when unknown or not pending. */
  markDelivered(id: number, at: number, attempt?: OutboxAttempt): Promise<boolean>;
  /** markDelivered for several entries in one write (senders settle a batch at once); returns how many changed. */
  markDeliveredMany(items: readonly { id: number; at: number; attempt?: OutboxAttempt | undefined }[]): Promise<number>;
  /**
   * A delivery attempt failed: counts it and records the error; the entry is due again at `nextAttemptAt`, or is
   * given up (`dead`) when `nextAttemptAt` is null. False when unknown or not pending.
   */
  markFailed(id: number, error: string, nextAttemptAt: number | null, attempt?: OutboxAttempt): Promise<boolean>;
  /**
   * Ends the lease of pending entries of a topic (due at `at` again, unless due earlier): a sender that sent them
   * but keeps no outcome (an earlier entry failed while they were in flight) lets them be claimed again at once.
   * Their attempts are not counted. Returns how many changed.
   */
  release(topic: string, ids: readonly number[], at: number): Promise<number>;
  /** The attempts recorded with markDelivered/markFailed, oldest first (the newest OUTBOX_MAX_ATTEMPTS_KEPT). */
  attemptsOf(id: number): Promise<OutboxAttempt[]>;
  /** A dead entry becomes pending again, due at `at` (its attempts are kept). False when unknown or not dead. */
  requeue(id: number, at: number): Promise<boolean>;
  /** A pending entry is given up without an attempt (`dead`, `reason` as its error). False when unknown or not pending. */
  discard(id: number, reason: string): Promise<boolean>;
  /** Entries per topic, status and tried-or-not (for depth metrics and per-topic caps); zero counts are left out. */
  counts(): Promise<OutboxCount[]>;
  get(id: number): Promise<OutboxEntry | undefined>;
  /** Entries ascending by id. */
  list(q?: OutboxListQuery): Promise<OutboxEntry[]>;
  /** Deletes delivered entries delivered before `before`; returns how many. */
  pruneDelivered(before: number): Promise<number>;
}
