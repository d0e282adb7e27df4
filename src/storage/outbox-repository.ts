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
}

export interface OutboxListQuery {
  topic?: string | undefined;
  status?: OutboxStatus | undefined;
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
  /** The entry was delivered: counts the attempt; it is never claimed again. False when unknown or not pending. */
  markDelivered(id: number, at: number): Promise<boolean>;
  /**
   * A delivery attempt failed: counts it and records the error; the entry is due again at `nextAttemptAt`, or is
   * given up (`dead`) when `nextAttemptAt` is null. False when unknown or not pending.
   */
  markFailed(id: number, error: string, nextAttemptAt: number | null): Promise<boolean>;
  get(id: number): Promise<OutboxEntry | undefined>;
  /** Entries ascending by id. */
  list(q?: OutboxListQuery): Promise<OutboxEntry[]>;
  /** Deletes delivered entries delivered before `before`; returns how many. */
  pruneDelivered(before: number): Promise<number>;
}
