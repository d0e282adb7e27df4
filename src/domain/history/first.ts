import { usable, type AggregateValue, type BucketWindow } from './series.js';

/** The earliest usable (not BAD) value in the bucket, of any type; null when there is none. */
export function first(w: BucketWindow): AggregateValue {
  const { values, quality } = w.series;
  for (let i = w.lo; i < w.hi; i++) if (usable(quality[i]!)) return values[i]!;
  return null;
}
