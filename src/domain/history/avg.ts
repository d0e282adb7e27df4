import { numeric, usable, type AggregateValue, type BucketWindow } from './series.js';

/**
 * Time-weighted average with step interpolation: each value holds until the next sample, as SCADA
 * historians draw it. The value held at the bucket start is the last sample before the bucket. Time during
 * which the tag was BAD (or held text) is left out of both the weighted sum and the total time, so a
 * connection loss does not drag the average towards the stale value.
 *
 * When the usable time is zero but the bucket holds usable samples (a span of zero length, e.g. the last
 * sample sits exactly at the horizon), the last usable value is the answer: it is what the tag read.
 */
export function avg(w: BucketWindow): AggregateValue {
  const { ts, values, quality } = w.series;
  let sum = 0;
  let time = 0;
  let t = w.start;
  let v = NaN;
  if (w.lo > 0) {
    const p = w.lo - 1;
    v = usable(quality[p]!) ? numeric(values[p]!) : NaN;
  }
  let lastUsable = NaN;
  for (let i = w.lo; i < w.hi; i++) {
    const ti = Math.min(ts[i]!, w.end);
    if (ti > t) {
      if (v === v) {
        sum += v * (ti - t);
        time += ti - t;
      } // v === v: not NaN
      t = ti;
    }
    v = usable(quality[i]!) ? numeric(values[i]!) : NaN;
    if (v === v) lastUsable = v;
  }
  if (w.end > t && v === v) {
    sum += v * (w.end - t);
    time += w.end - t;
  }
  if (time > 0) return sum / time;
  return lastUsable === lastUsable ? lastUsable : null;
}
