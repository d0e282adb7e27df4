import { TagwayError } from '../problems.js';
import { mergedItems, WindowFold, type RolledSeries } from './rollup.js';
import { numeric, usable, type AggregateFn, type AggregateValue, type Series, type StoredValue } from './series.js';

export interface Bucket {
  /** Start of the bucket, epoch ms, a multiple of the interval. */
  timestamp: number;
  value: AggregateValue;
  /** Raw samples in the bucket (within `[from, to)`). */
  count: number;
}

export interface BucketOptions {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  intervalMs: number;
  /**
   * Time up to which the tag's history is known (normally "now"). The value of the last sample is held only
   * up to here, so a bucket that is still running is not averaged as if its last value lasted to its end.
   */
  horizon?: number | undefined;
  /** Refuse more buckets than this (VALIDATION_FAILED), so one request cannot allocate without bound. */
  maxBuckets?: number | undefined;
}

export const DEFAULT_MAX_BUCKETS = 100_000;

/** Start of the bucket holding `t`: buckets are aligned to multiples of the interval since the Unix epoch. */
export function bucketStart(t: number, intervalMs: number): number {
  return Math.floor(t / intervalMs) * intervalMs;
}

export function bucketCount(from: number, to: number, intervalMs: number): number {
  if (to <= from) return 0;
  return (bucketStart(to - 1, intervalMs) - bucketStart(from, intervalMs)) / intervalMs + 1;
}

/** The number of buckets, or RangeError / VALIDATION_FAILED. */
function checkBuckets(opts: BucketOptions): number {
  const { from, to, intervalMs } = opts;
  if (!(intervalMs > 0) || !Number.isInteger(intervalMs))
    throw new RangeError(`interval must be a positive integer of ms, got ${intervalMs}`);
  const n = bucketCount(from, to, intervalMs);
  const maxBuckets = opts.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  if (n > maxBuckets) {
    throw new TagwayError('VALIDATION_FAILED', `The range holds ${n} intervals; at most ${maxBuckets} are answered`, {
      errors: [{ field: 'interval', message: `too small for the range: ${n} buckets, at most ${maxBuckets}` }],
    });
  }
  return n;
}

/**
 * Splits an ascending series into buckets aligned to the interval and applies one aggregate to each, in one
 * pass. Every bucket that overlaps `[from, to)` is answered, labelled by its start; only samples inside
 * `[from, to)` are counted, so the first and last bucket may cover less than a full interval when `from`/`to`
 * are not aligned. The series may begin with samples before `from`: the last of them is the value held at
 * `from` (step interpolation); samples at or after `to` are ignored. An empty bucket is `{value: null,
 * count: 0}`.
 */
export function bucketize(series: Series, aggregate: AggregateFn, opts: BucketOptions): Bucket[] {
  const { from, to, intervalMs } = opts;
  const n = checkBuckets(opts);
  const horizon = opts.horizon ?? to;
  const ts = series.ts;
  const len = series.length;
  const out: Bucket[] = new Array(n);
  let i = 0;
  while (i < len && ts[i]! < from) i++;
  let b = bucketStart(from, intervalMs);
  for (let k = 0; k < n; k++, b += intervalMs) {
    const start = b < from ? from : b;
    const end = b + intervalMs > to ? to : b + intervalMs;
    const lo = i;
    while (i < len && ts[i]! < end) i++;
    const count = i - lo;
    if (count === 0) {
      out[k] = { timestamp: b, value: null, count: 0 };
      continue;
    }
    const clipped = end > horizon ? Math.max(horizon, start) : end;
    out[k] = { timestamp: b, value: aggregate({ series, lo, hi: i, start, end: clipped }), count };
  }
  return out;
}

/** The aggregates `bucketizeRolled` computes (those of the API, src/domain/history/aggregates.ts). */
export type RolledAggregate = 'avg' | 'min' | 'max' | 'first' | 'last' | 'count' | 'delta';

/** Bucket boundaries and the horizon inside `[from, to)`: where a minute cannot come from its roll-up whole. */
export function bucketCuts(opts: BucketOptions): number[] {
  const { from, to, intervalMs } = opts;
  checkBuckets(opts);
  const cuts: number[] = [];
  if (intervalMs % 60_000 !== 0) for (let b = bucketStart(from, intervalMs) + intervalMs; b < to; b += intervalMs) cuts.push(b);
  const horizon = opts.horizon ?? to;
  if (horizon > from && horizon < to) cuts.push(horizon);
  return cuts;
}

/** A stored value's counter reading, as a delta starts from it (NaN for text: no reading). */
function reading(v: StoredValue | null): number | null {
  if (v === null) return null;
  const n = numeric(v);
  return n === n ? n : null;
}

/**
 * `bucketize` over roll-ups and raw edges (read as `planRollups(from, to, bucketCuts(opts))` plans it), with the
 * same answers as `bucketize` over the raw samples with the same aggregate: the value held at each bucket start and
 * the counter reading a delta starts from are carried from bucket to bucket as the raw aggregates find them.
 */
export function bucketizeRolled(rs: RolledSeries, aggregate: RolledAggregate, opts: BucketOptions): Bucket[] {
  const { from, to, intervalMs } = opts;
  const n = checkBuckets(opts);
  const horizon = opts.horizon ?? to;
  const { series } = rs;
  let held: { ts: number; value: StoredValue; quality: number } | undefined;
  let lastGood: StoredValue | null = null;
  for (let i = 0; i < series.length && series.ts[i]! < from; i++) {
    held = { ts: series.ts[i]!, value: series.values[i]!, quality: series.quality[i]! };
    if (usable(held.quality)) lastGood = held.value;
  }
  const items = mergedItems(rs, from);
  let next = items.next();
  const out: Bucket[] = new Array(n);
  let b = bucketStart(from, intervalMs);
  for (let k = 0; k < n; k++, b += intervalMs) {
    const start = b < from ? from : b;
    const end = b + intervalMs > to ? to : b + intervalMs;
    const clipped = end > horizon ? Math.max(horizon, start) : end;
    const fold = new WindowFold(start, clipped, held, reading(lastGood));
    while (!next.done && next.value.ts < end) {
      const it = next.value;
      if (it.r) fold.rollup(it.r);
      else fold.sample(it.ts, series.values[it.i]!, series.quality[it.i]!);
      next = items.next();
    }
    fold.finish();
    held = fold.cur;
    if (fold.goodLast !== null) lastGood = fold.goodLast;
    out[k] = { timestamp: b, value: fold.count === 0 ? null : rolledValue(fold, aggregate), count: fold.count };
  }
  return out;
}

function rolledValue(f: WindowFold, aggregate: RolledAggregate): AggregateValue {
  switch (aggregate) {
    case 'avg':
      return f.avg();
    case 'min':
      return f.min;
    case 'max':
      return f.max;
    case 'first':
      return f.goodFirst;
    case 'last':
      return f.goodLast;
    case 'count':
      return f.count;
    case 'delta':
      return f.delta(undefined);
  }
}
