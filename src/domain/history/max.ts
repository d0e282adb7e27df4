import { numeric, usable, type AggregateValue, type BucketWindow } from './series.js';

/** Largest usable (not BAD, numeric) raw value in the bucket; null when there is none. */
export function max(w: BucketWindow): AggregateValue {
  const { values, quality } = w.series;
  let m = -Infinity;
  let found = false;
  for (let i = w.lo; i < w.hi; i++) {
    if (!usable(quality[i]!)) continue;
    const v = numeric(values[i]!);
    if (v === v && (v > m || !found)) {
      m = v;
      found = true;
    }
  }
  return found ? m : null;
}
