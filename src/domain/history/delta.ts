import { numeric, usable, type AggregateValue, type BucketWindow } from './series.js';

export interface DeltaOptions {
  /**
   * For a fixed-width counter that wraps (e.g. 65536 for a UInt16): a decrease is then read as a wrap and
   * counts `wrapAt - previous + current`. Without it a decrease is read as a reset to zero.
   */
  wrapAt?: number | undefined;
}

/**
 * How much a counter counted in the bucket: the sum of the increases between consecutive usable samples,
 * starting from the last usable sample before the bucket (the value held at its start), so that the deltas of
 * adjacent buckets add up to the increase over their union.
 *
 * A decrease is a counter reset (power cycle, manual reset) and, by default, contributes the new value, as if
 * the counter had restarted from zero and counted up to it — Prometheus' `increase()` convention. This loses
 * at most the counts between the last sample and the reset, and never yields a negative delta. A wrap of a
 * fixed-width counter looks exactly like a reset from the data alone; pass `wrapAt` when the counter is known
 * to wrap. BAD samples are skipped: the increase across a connection loss is counted in the bucket where the
 * counter is read again, so no counts are lost to a gap.
 */
export function deltaWith(opts: DeltaOptions): (w: BucketWindow) => AggregateValue {
  const wrapAt = opts.wrapAt;
  return (w) => {
    const { values, quality } = w.series;
    let prev = NaN;
    // The last usable sample before the bucket; earlier buckets' BAD runs are skipped back over.
    for (let p = w.lo - 1; p >= 0; p--) {
      if (!usable(quality[p]!)) continue;
      prev = numeric(values[p]!);
      break;
    }
    let sum = 0;
    let any = false;
    for (let i = w.lo; i < w.hi; i++) {
      if (!usable(quality[i]!)) continue;
      const v = numeric(values[i]!);
      if (v !== v) continue;
      if (prev === prev) {
        const d = v - prev;
        sum += d >= 0 ? d : wrapAt !== undefined ? wrapAt - prev + v : v;
      }
      prev = v;
      any = true;
    }
    return any ? sum : null;
  };
}

export const delta = deltaWith({});
