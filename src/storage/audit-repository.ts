import type { AuditEntryFields, AuditRow, ChainVerdict } from '../domain/audit/chain.js';

export type { AuditEntryFields, AuditRow };

/** A row to append: the repository assigns the id and chains it onto the head. */
export type NewAuditEntry = Omit<AuditEntryFields, 'id'>;

export interface AuditQuery {
  /** Inclusive, ISO 8601. */
  from?: string | undefined;
  /** Exclusive, ISO 8601. */
  to?: string | undefined;
  user?: string | undefined;
  /** One action or several (any of). */
  action?: string | readonly string[] | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit?: number | undefined;
  /** Opaque cursor from a previous page's `next`; RangeError when it is not one. */
  cursor?: string | undefined;
}

export interface AuditPage {
  items: AuditRow[];
  next: string | null;
}

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 10_000;

/**
 * The audit trail: append-only and hash-chained. Appends are serialised by the store (reading the head and
 * inserting the next row is one atomic step, even across processes), so the chain never forks.
 */
export interface AuditRepository {
  /** Appends one row; resolves with it once committed. */
  append(entry: NewAuditEntry): Promise<AuditRow>;
  /** Appends several rows atomically (one commit), chained in order. */
  appendMany(entries: readonly NewAuditEntry[]): Promise<AuditRow[]>;
  /** One page, keyset-paged by id (stable while rows arrive). */
  query(q?: AuditQuery): Promise<AuditPage>;
  /** Walks the whole chain in id order and reports the first row that no longer fits. */
  verify(): Promise<ChainVerdict>;
  count(): Promise<number>;
}
