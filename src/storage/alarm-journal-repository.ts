import type { StateMachine } from '../domain/alarms/definition.js';
import type { AlarmEventRecord } from '../domain/alarms/records.js';
import type { AlarmEventType } from '../domain/alarms/state-machine.js';
import { TagwayError } from '../domain/problems.js';

export interface AlarmSetting {
  enabled: boolean;
  shelvedUntil: number | null;
}

/** An event to record: the archive event without `eventId` (the journal assigns it), its time in epoch ms. */
export interface NewAlarmEvent extends Omit<AlarmEventRecord, 'eventId' | 'at'> {
  /** Epoch milliseconds. */
  at: number;
  /** The occurrence's state machine, kept with open occurrences for the rebuild. */
  stateMachine: StateMachine;
  /** This event closes the occurrence (it leaves the current list). */
  closes: boolean;
}

export interface ArchiveQuery {
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  /** Epoch ms, exclusive. */
  to?: number | undefined;
  /** Alarm name or glob. */
  alarm?: string | undefined;
  tag?: string | undefined;
  class?: string | undefined;
  minPriority?: number | undefined;
  maxPriority?: number | undefined;
  event?: AlarmEventType | readonly AlarmEventType[] | undefined;
  /** Case-insensitive substring of the text. */
  text?: string | undefined;
  order?: 'asc' | 'desc' | undefined;
  /** Default 100, at most 10,000. */
  limit?: number | undefined;
  /** Opaque keyset cursor from a previous page's `next`. */
  cursor?: string | undefined;
}

export interface ArchivePage {
  items: AlarmEventRecord[];
  next: string | null;
}

export interface OpenOccurrenceHistory {
  id: number;
  alarm: string;
  stateMachine: StateMachine;
  /** Every event of the occurrence, oldest first. */
  events: AlarmEventRecord[];
}

/** A cluster lease as a node holds it: the connection and the fencing token it got when it took it. */
export interface LeaseRef {
  connection: string;
  token: number;
}

/**
 * What an append in a cluster must prove in its own transaction: `holder` still holds every one of `leases`, with
 * that token, unexpired by the database's clock (see docs/scaling.md, "Alarms in a cluster").
 */
export interface JournalFence {
  holder: string;
  leases: readonly LeaseRef[];
}

/**
 * An append refused because the node no longer holds some of the leases it evaluated under (another node took
 * them, or they expired): nothing was recorded. `refused` names those leases; the rest of the batch may be retried.
 */
export class JournalFencedError extends Error {
  constructor(readonly refused: readonly LeaseRef[]) {
    super(`alarm journal: no longer the lease holder of ${refused.map((l) => `${l.connection} (token ${l.token})`).join(', ')}`);
    this.name = 'JournalFencedError';
  }
}

export const ARCHIVE_MAX_LIMIT = 10_000;
export function encodeCursor(eventId: number, order: 'asc' | 'desc'): string {
  return Buffer.from(JSON.stringify({ k: eventId, o: order })).toString('base64url');
}

export function decodeCursor(cursor: string, order: 'asc' | 'desc'): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const p = parsed as { k?: unknown; o?: unknown } | undefined;
  if (!p || typeof p.k !== 'number' || !Number.isSafeInteger(p.k) || (p.o !== 'asc' && p.o !== 'desc')) {
    throw new TagwayError('VALIDATION_FAILED', 'Invalid cursor', { errors: [{ field: 'cursor', message: 'not a cursor of this list' }] });
  }
  if (p.o !== order) {
    throw new TagwayError('VALIDATION_FAILED', 'The cursor belongs to the other order', {
      errors: [{ field: 'cursor', message: `cursor was made for order=${p.o}` }],
    });
  }
  return p.k;
}

/**
 * The alarm journal: every state change of every occurrence, in commit order. `eventId` increases strictly and is
 * never reused, even after pruning (the archive keyset and the SSE event id). Journal time never goes backwards:
 * an event stamped before the newest one is recorded at the newest time.
 */
export interface AlarmJournalRepository {
  /**
   * A fresh occurrence id, never used before, even across restarts. Synchronous on purpose: the alarm engine
   * assigns it while evaluating a tag change (a hot path); a backend reserves ids ahead (SQLite remembers the
   * highest at open, PostgreSQL would take blocks of a sequence).
   */
  nextOccurrenceId(): number;
  /**
   * Records events atomically and in order; resolves with them and their event ids. Records nothing on failure.
   * With a `fence` (a cluster member, only where `fencing` is true) it records only if the fence holds in the same
   * transaction, else rejects with JournalFencedError.
   */
  append(events: readonly NewAlarmEvent[], fence?: JournalFence): Promise<AlarmEventRecord[]>;
  /** Whether `append` can check a fence: the cluster's leases live in the same database (PostgreSQL). */
  readonly fencing: boolean;
  /** Open occurrences with all their events, for rebuilding the current list at start-up. */
  loadOpen(): Promise<OpenOccurrenceHistory[]>;
  /** Every event of one occurrence, oldest first (empty when unknown or pruned). */
  eventsOf(occurrence: number): Promise<AlarmEventRecord[]>;
  /** Newest event id ever assigned, 0 when none. */
  lastEventId(): Promise<number>;
  count(): Promise<number>;
  /** Events after `eventId` in order (SSE resumption with Last-Event-ID). */
  since(eventId: number, limit?: number): Promise<AlarmEventRecord[]>;
  /** One page of the archive. Filters combine with AND. VALIDATION_FAILED for a cursor that is not one. */
  query(q?: ArchiveQuery): Promise<ArchivePage>;
  /**
   * Deletes up to `batch` events older than `before` (epoch ms), never those of open occurrences; returns how many
   * (less than `batch` means done).
   */
  pruneBatch(before: number, batch?: number): Promise<number>;
}

/** Operator overrides of alarm definitions (disabled, shelved), kept across restarts. */
export interface AlarmSettingsRepository {
  save(alarm: string, setting: AlarmSetting): Promise<void>;
  load(): Promise<Map<string, AlarmSetting>>;
}
