import { AGGREGATES, NUMERIC_AGGREGATES, type AggregateName } from '../domain/history/aggregates.js';
import { bucketCuts, bucketize, bucketizeRolled, type Bucket, type BucketOptions } from '../domain/history/bucket.js';
import { MINUTE_MS, planRollups, rollupFieldsFor } from '../domain/history/rollup.js';
import { numeric, type AggregateValue, type Series, type StoredValue } from '../domain/history/series.js';
import { TagwayError } from '../domain/problems.js';
import { qualityName, type QualityName } from '../domain/quality.js';
import { isBigIntegerType, isNumericType, type TagType, type TagValue } from '../domain/tag-types.js';
import { SeriesTooLarge, type HistoryRepository, type Sample } from '../storage/history-repository.js';
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
  /** Aggregates: most samples of the tag to read (PAYLOAD_TOO_LARGE beyond, before reading values); default none. */
  maxSamplesRead?: number | undefined;
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

  /** Every tag that logs history, in project order (authorisation is the caller's). */
  loggedTags(): TagState[] {
    return this.engine.tags.filter((t) => this.historian.logs(t));
  }

  /** NOT_FOUND when the tag logs no history (its history is a resource that does not exist). */
  requireLogged(tag: TagState): void {
    if (!this.historian.logs(tag))
      throw new TagwayError('NOT_FOUND', `Tag '${tag.def.name}' does not log history (no 'history:' in the project)`);
  }

  /** Read your writes: samples still in the historian's buffer would otherwise be missing for up to a second. */
  async flush(): Promise<void> {
    await this.historian.flush();
  }

  async query(tag: TagState, q: HistoryQuery): Promise<HistoryResult> {
    checkQuery(q);
    await this.flush();
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

  /**
   * Raw samples as `query` answers them, read from the store in chunks of at most `chunkSize` (the caller encodes
   * each before the next is read, so a 100,000-sample page never sits in memory whole). Returns the next cursor.
   * The caller flushes and checks the query first.
   */
  async *rawChunks(tag: TagState, q: HistoryQuery, chunkSize: number): AsyncGenerator<RawItem[], string | null> {
    const type = tag.def.type;
    const tagId = await this.store.findTagId(tag.def.name);
    if (tagId === undefined) return null;
    const start = q.cursor === undefined ? undefined : decodeCursor(q.cursor, q.order);
    const firstPage = start === undefined;
    // Bounding values belong to the ends of the whole result (see `raw`): the one at the start of this page is
    // known now, the one at its end only once the page turns out to be the last.
    if (q.boundingValues && firstPage) {
      const head = q.order === 'asc' ? await this.store.lastBefore(tagId, q.from) : await this.store.firstAtOrAfter(tagId, q.to);
      if (head) yield [rawItem(type, head)];
    }
    let after = start;
    let left = q.limit;
    let next: number | null = null;
    while (left > 0) {
      const page = await this.store.raw(tagId, { from: q.from, to: q.to, limit: Math.min(chunkSize, left), order: q.order, after });
      left -= page.samples.length;
      if (page.samples.length > 0) yield page.samples.map((s) => rawItem(type, s));
      next = page.next;
      if (next === null) break;
      after = next;
    }
    if (q.boundingValues && next === null) {
      const tail = q.order === 'asc' ? await this.store.firstAtOrAfter(tagId, q.to) : await this.store.lastBefore(tagId, q.from);
      if (tail) yield [rawItem(type, tail)];
    }
    return next === null ? null : encodeCursor(next, q.order);
  }

  private async aggregated(
    tag: TagState,
    tagId: number | undefined,
    q: HistoryQuery & { intervalMs: number; aggregate: AggregateName },
  ): Promise<HistoryResult> {
    const type = tag.def.type;
    checkTagQuery(tag, q);
    const opts: BucketOptions = { from: q.from, to: q.to, intervalMs: q.intervalMs, horizon: Math.min(q.to, this.clock.now()) };
    let buckets: Bucket[];
    try {
      // Buckets of a minute or more read the per-minute roll-ups and raw samples only where a minute is not whole
      // (the edges, a bucket boundary or the horizon inside it): a 30-day trend reads 43,200 rows, not 2.6 M.
      if (q.intervalMs >= MINUTE_MS) {
        const cuts = bucketCuts(opts);
        const rolled =
          tagId === undefined
            ? { series: { length: 0, ts: [], values: [], quality: [] }, rollups: [] }
            : await this.store.rolledSeries(tagId, planRollups(q.from, q.to, cuts), q.maxSamplesRead, rollupFieldsFor(q.aggregate));
        buckets = bucketizeRolled(rolled, q.aggregate, opts);
      } else {
        let series: Series = { length: 0, ts: [], values: [], quality: [] };
        if (tagId !== undefined) series = await this.store.series(tagId, q.from, q.to, q.maxSamplesRead);
        buckets = bucketize(series, AGGREGATES[q.aggregate], opts);
      }
    } catch (err) {
      if (!(err instanceof SeriesTooLarge)) throw err;
      throw new TagwayError(
        'PAYLOAD_TOO_LARGE',
        `Tag '${tag.def.name}' has more than ${err.maxSamples} samples in the range; at most that many are aggregated per tag and request (a minute's roll-up counts as one). Ask for a shorter range.`,
      );
    }
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

/** What depends on the tag but needs no data: VALIDATION_FAILED for a numeric aggregate of a non-numeric tag. */
export function checkTagQuery(tag: TagState, q: Pick<HistoryQuery, 'aggregate'>): void {
  const type = tag.def.type;
  if (q.aggregate !== undefined && NUMERIC_AGGREGATES.has(q.aggregate) && !isNumericType(type) && type !== 'Bool') {
    throw new TagwayError('VALIDATION_FAILED', `Aggregate '${q.aggregate}' needs a numeric tag; '${tag.def.name}' is ${type}`, {
      errors: [{ field: 'aggregate', message: `not defined for ${type} tags (first, last and count are)` }],
    });
  }
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
