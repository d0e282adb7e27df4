import { usable, type AggregateValue, type BucketWindow } from './series.js';

/** The latest usable (not BAD) value in the bucket, of any type; null when there is none. */
export function last(w: BucketWindow): AggregateValue {
  const { values, quality } = w.series;
  for (let i = w.hi - 1; i >= w.lo; i--) if (usable(quality[i]!)) return values[i]!;
  return null;
}
