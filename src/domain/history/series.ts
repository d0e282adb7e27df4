/**
 * The shapes that history aggregation works on. Samples travel column-wise (one array per field) because a
 * day of 1 s data is 86,400 samples and an object per sample would cost more than the aggregation itself.
 */

/** One logged value, as stored: values of Bool tags are 1/0, 64-bit integers decimal strings, text as text. */
export type StoredValue = number | string;

/** Samples of one tag, ascending by timestamp, no two with the same timestamp. */
export interface Series {
  readonly length: number;
  /** Epoch milliseconds. */
  readonly ts: ArrayLike<number>;
  readonly values: ArrayLike<StoredValue>;
  /** Quality bytes (`QQSSSSLL`). */
  readonly quality: ArrayLike<number>;
}

/**
 * What an aggregate sees of one bucket: the samples `lo..hi-1` of `series` fall into the effective span
 * `[start, end)`; the sample at `lo - 1` (when `lo > 0`) is the last one before the span, whose value is held
 * at `start` (step interpolation).
 */
export interface BucketWindow {
  readonly series: Series;
  readonly lo: number;
  readonly hi: number;
  readonly start: number;
  readonly end: number;
}

export type AggregateValue = number | string | null;

export type AggregateFn = (w: BucketWindow) => AggregateValue;

/**
 * A sample takes part in value aggregates unless its quality is BAD: a BAD sample says the value was not
 * known from that moment on (a connection loss), so its time is left out of averages and its value out of
 * min/max. UNCERTAIN values are kept, as most historians do, since they are often the best value there is.
 */
export function usable(quality: number): boolean {
  return (quality & 0xc0) !== 0;
}

/** Numeric view of a stored value (64-bit integers are decimal strings); NaN for text. */
export function numeric(v: StoredValue): number {
  if (typeof v === 'number') return v;
  if (/^-?\d+$/.test(v)) return Number(v);
  return NaN;
}

/** Builds a Series from sample objects; convenient for tests and small inputs. */
export function seriesOf(samples: readonly { ts: number; value: StoredValue; quality: number }[]): Series {
  return {
    length: samples.length,
    ts: samples.map((s) => s.ts),
    values: samples.map((s) => s.value),
    quality: samples.map((s) => s.quality),
  };
}
