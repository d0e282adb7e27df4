import type { AggregateValue, BucketWindow } from './series.js';

/**
 * Number of raw samples in the bucket, whatever their quality: a BAD sample is still a logged event (a
 * connection loss). An empty bucket is answered as `null` by the bucketing (the contract's rule for every
 * aggregate), with `count: 0` beside it.
 */
export function count(w: BucketWindow): AggregateValue {
  return w.hi - w.lo;
}
