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
  /**
   * Rows about this tag (exact, case-sensitive): those whose `target` is it, and those with no `target` whose details
   * list it as an item's `name` (a bulk write, or the writes refused in one request). Unindexed: it scans the rows the
   * other filters leave (within `from`/`to`, newest or oldest first until the page is full), reading the details of
   * those without a target; see `tagItemNeedle`.
   */
  tag?: string | undefined;
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
 * The text every row listing `tag` as an item's name contains: `details` is canonical JSON (`JSON.stringify`, no
 * spaces), so such an item reads `"name":` followed by the name as JSON.stringify writes it, closing quote included
 * (so `A.B` does not match `"name":"A.BC"`). A plain substring test (no LIKE, so `%`, `_` and `\` mean themselves)
 * that skips parsing the JSON of the rows that cannot match; the backends then check the items exactly.
 */
export function tagItemNeedle(tag: string): string {
  return `"name":${JSON.stringify(tag)}`;
}

/** Whether canonical-JSON `details` list `tag` as the `name` of one of their `items` (the exact test). */
export function detailsListTag(details: string | null, tag: string): boolean {
  if (details === null) return false;
  const items = (JSON.parse(details) as { items?: unknown } | null)?.items;
  return Array.isArray(items) && items.some((i) => i !== null && typeof i === 'object' && (i as { name?: unknown }).name === tag);
}

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
