import { AGGREGATES, NUMERIC_AGGREGATES, type AggregateName } from '../domain/history/aggregates.js';
import { bucketize } from '../domain/history/bucket.js';
import { numeric, type AggregateValue, type StoredValue } from '../domain/history/series.js';
import { TagwayError } from '../domain/problems.js';
import { qualityName, type QualityName } from '../domain/quality.js';
import { isBigIntegerType, isNumericType, type TagType, type TagValue } from '../domain/tag-types.js';
import type { HistoryRepository, Sample } from '../storage/history-repository.js';
import type { Clock } from '../domain/clock.js';
import type { Historian } from './historian.js';
import type { TagEngine, TagState } from './tag-engine.js';

/** One raw sample as the API shows it. */
export interface RawItem {
  timestamp: string;
  value: TagValue | null;
  quality: QualityName;
  qualityCode: number;
}

/** One aggregation bucket as the API shows it. */
export interface BucketItem {
  timestamp: string;
  value: TagValue | null;
  count: number;
}

export interface HistoryQuery {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Raw queries: page size. */
  limit: number;
  order: 'asc' | 'desc';
  cursor?: string | undefined;
  /** Aggregated when both are given. */
  intervalMs?: number | undefined;
  aggregate?: AggregateName | undefined;
  boundingValues: boolean;
}

export type HistoryResult =
  | { kind: 'raw'; items: RawItem[]; next: string | null }
  | { kind: 'aggregate'; items: BucketItem[]; boundingValues?: { before: RawItem | null; after: RawItem | null } };

export const DEFAULT_RAW_LIMIT = 1000;
export const MAX_RAW_LIMIT = 100_000;

/**
 * Reads history for the API (and any other adapter): tag lookup, the "does this tag log history" rule,
 * cursors, bounding values, and turning stored values back into the tag's JSON type. Authorisation is the
 * caller's; this only answers what it is asked.
 */
export class HistoryQueries {
  constructor(
    private readonly engine: TagEngine,
    private readonly store: HistoryRepository,
    private readonly historian: Historian,
    private readonly clock: Clock,
  ) {}

  /** The tag, or TAG_NOT_FOUND. */
  requireTag(name: string): TagState {
    return this.engine.require(name);
  }

  /** NOT_FOUND when the tag logs no history (its history is a resource that does not exist). */
  requireLogged(tag: TagState): void {
    if (!this.historian.logs(tag))
      throw new TagwayError('NOT_FOUND', `Tag '${tag.def.name}' does not log history (no 'history:' in the project)`);
  }

  async query(tag: TagState, q: HistoryQuery): Promise<HistoryResult> {
    checkQuery(q);
    // Read your writes: samples still in the historian's buffer would otherwise be missing for up to a second.
    await this.historian.flush();
    const tagId = await this.store.findTagId(tag.def.name);
    if (q.intervalMs !== undefined && q.aggregate !== undefined)
      return this.aggregated(tag, tagId, { ...q, intervalMs: q.intervalMs, aggregate: q.aggregate });
    return this.raw(tag, tagId, q);
  }

  private async raw(tag: TagState, tagId: number | undefined, q: HistoryQuery): Promise<HistoryResult> {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, q.order);
    if (tagId === undefined) return { kind: 'raw', items: [], next: null };
    const page = await this.store.raw(tagId, { from: q.from, to: q.to, limit: q.limit, order: q.order, after });
    const type = tag.def.type;
    const items = page.samples.map((s) => rawItem(type, s));
    if (q.boundingValues) {
      // The bounds belong to the ends of the whole result: the one before `from` on the page that starts at
      // `from`, the one at/after `to` on the page that reaches `to`.
      const before = await this.store.lastBefore(tagId, q.from);
      const after2 = await this.store.firstAtOrAfter(tagId, q.to);
      const firstPage = after === undefined;
      const lastPage = page.next === null;
      const lowEnd = q.order === 'asc' ? firstPage : lastPage;
      const highEnd = q.order === 'asc' ? lastPage : firstPage;
      if (q.order === 'asc') {
        if (lowEnd && before) items.unshift(rawItem(type, before));
        if (highEnd && after2) items.push(rawItem(type, after2));
      } else {
        if (highEnd && after2) items.unshift(rawItem(type, after2));
        if (lowEnd && before) items.push(rawItem(type, before));
      }
    }
    return { kind: 'raw', items, next: page.next === null ? null : encodeCursor(page.next, q.order) };
  }

  private async aggregated(
    tag: TagState,
    tagId: number | undefined,
    q: HistoryQuery & { intervalMs: number; aggregate: AggregateName },
  ): Promise<HistoryResult> {
    const type = tag.def.type;
    if (NUMERIC_AGGREGATES.has(q.aggregate) && !isNumericType(type) && type !== 'Bool') {
      throw new TagwayError('VALIDATION_FAILED', `Aggregate '${q.aggregate}' needs a numeric tag; '${tag.def.name}' is ${type}`, {
        errors: [{ field: 'aggregate', message: `not defined for ${type} tags (first, last and count are)` }],
      });
    }
    const series = tagId === undefined ? { length: 0, ts: [], values: [], quality: [] } : await this.store.series(tagId, q.from, q.to);
    const buckets = bucketize(series, AGGREGATES[q.aggregate], {
      from: q.from,
      to: q.to,
      intervalMs: q.intervalMs,
      horizon: Math.min(q.to, this.clock.now()),
    });
    const decodeValue = q.aggregate === 'first' || q.aggregate === 'last';
    const items: BucketItem[] = buckets.map((b) => ({
      timestamp: new Date(b.timestamp).toISOString(),
      value: decodeValue ? decode(type, b.value) : aggregateNumber(b.value),
      count: b.count,
    }));
    if (!q.boundingValues) return { kind: 'aggregate', items };
    const before = tagId === undefined ? undefined : await this.store.lastBefore(tagId, q.from);
    const after = tagId === undefined ? undefined : await this.store.firstAtOrAfter(tagId, q.to);
    return {
      kind: 'aggregate',
      items,
      boundingValues: { before: before ? rawItem(type, before) : null, after: after ? rawItem(type, after) : null },
    };
  }
}

/**
 * Checks what does not depend on the tag (so a many-tag query can refuse once, not per tag):
 * VALIDATION_FAILED for an empty range, or `interval` without `aggregate` or the reverse.
 */
export function checkQuery(q: HistoryQuery): void {
  if (!(q.from < q.to)) {
    throw new TagwayError('VALIDATION_FAILED', '`from` must be before `to`', { errors: [{ field: 'from', message: 'must be before to' }] });
  }
  if ((q.intervalMs === undefined) !== (q.aggregate === undefined)) {
    const missing = q.intervalMs === undefined ? 'interval' : 'aggregate';
    throw new TagwayError('VALIDATION_FAILED', '`interval` and `aggregate` go together', {
      errors: [{ field: missing, message: `required with ${missing === 'interval' ? 'aggregate' : 'interval'}` }],
    });
  }
  if (q.cursor !== undefined) decodeCursor(q.cursor, q.order);
}

function aggregateNumber(v: AggregateValue): number | null {
  if (v === null) return null;
  const n = typeof v === 'number' ? v : numeric(v);
  return Number.isFinite(n) ? n : null;
}

/** A stored value back in the tag's JSON type; values logged under another type are passed through. */
export function decode(type: TagType, v: StoredValue | AggregateValue): TagValue | null {
  if (v === null) return null;
  if (type === 'Bool') return typeof v === 'number' ? v !== 0 : v;
  if (isBigIntegerType(type) && typeof v === 'number') return String(v);
  return v;
}

function rawItem(type: TagType, s: Sample): RawItem {
  return {
    timestamp: new Date(s.ts).toISOString(),
    value: decode(type, s.value),
    quality: qualityName(s.quality),
    qualityCode: s.quality,
  };
}

// Cursors are opaque to clients; inside, the order they were made for and the last timestamp served.
export function encodeCursor(ts: number, order: 'asc' | 'desc'): string {
  return Buffer.from(`${order === 'asc' ? 'a' : 'd'}${ts}`).toString('base64url');
}

export function decodeCursor(cursor: string, order: 'asc' | 'desc'): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^([ad])(-?\d{1,16})$/.exec(text);
  if (!m || (m[1] === 'a') !== (order === 'asc')) {
    throw new TagwayError('VALIDATION_FAILED', 'Invalid cursor', {
      errors: [{ field: 'cursor', message: 'not a cursor from a previous page of this query (same order)' }],
    });
  }
  return Number(m[2]);
}
