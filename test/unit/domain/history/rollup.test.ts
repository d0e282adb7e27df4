import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeField, computeFieldRolled, type TagAggregate } from '../../../../src/domain/exports/aggregates.js';
import { AGGREGATES } from '../../../../src/domain/history/aggregates.js';
import { bucketCuts, bucketize, bucketizeRolled, type RolledAggregate } from '../../../../src/domain/history/bucket.js';
import {
  MINUTE_MS,
  outsideSpans,
  planRollups,
  RollupBuilder,
  rollupFieldsFor,
  summarize,
  type Rollup,
  type RolledSeries,
} from '../../../../src/domain/history/rollup.js';
import { seriesOf, type Series, type StoredValue } from '../../../../src/domain/history/series.js';

const T0 = Date.UTC(2026, 2, 1, 6);
const WRAP = 1000;

interface S {
  ts: number;
  value: StoredValue;
  quality: number;
}

/** A tag's history: random steps (bursts, 1 s, long gaps), counter-like values that wrap, BAD and UNCERTAIN runs. */
const history = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 500, max: 5000 }), fc.integer({ min: 20_000, max: 400_000 })),
      kind: fc.constantFrom('up', 'up', 'up', 'wrap', 'bool', 'float', 'text', 'big'),
      step: fc.integer({ min: 0, max: 300 }),
      quality: fc.constantFrom(0xc0, 0xc0, 0xc0, 0xc0, 0x00, 0x40, 0x08),
    }),
    { maxLength: 250 },
  )
  .map((steps) => {
    const out: S[] = [];
    let t = T0 + 7_123;
    let c = 0;
    for (const s of steps) {
      t += s.gap;
      c = s.kind === 'wrap' ? (c + s.step) % WRAP : s.kind === 'up' ? c + s.step : c;
      const value: StoredValue =
        s.kind === 'bool' ? s.step % 2 : s.kind === 'float' ? s.step / 7 - 20 : s.kind === 'text' ? 'x' : s.kind === 'big' ? String(c) : c;
      out.push({ ts: t, value, quality: s.quality });
    }
    return out;
  });

/** A window over the history: aligned to minutes, or not; reaching before and beyond it. */
const window = fc.record({
  from: fc.oneof(
    fc.integer({ min: -3, max: 600 }).map((m) => T0 + m * MINUTE_MS),
    fc.integer({ min: -200_000, max: 20_000_000 }).map((d) => T0 + d),
  ),
  len: fc.oneof(
    fc.integer({ min: 1, max: 300 }).map((m) => m * MINUTE_MS),
    fc.integer({ min: 1, max: 20_000_000 }),
  ),
});

/** What HistoryRepository.series answers: the last sample before `from`, then those in [from, to). */
function seriesIn(h: S[], from: number, to: number): Series {
  const before = h.filter((s) => s.ts < from);
  return seriesOf([...before.slice(-1), ...h.filter((s) => s.ts >= from && s.ts < to)]);
}

/**
 * What HistoryRepository.rolledSeries answers for a plan: roll-ups made of the raw samples, raw for the spans; the
 * fields the aggregate does not need as null (as a store may answer them).
 */
function rolledIn(h: S[], from: number, to: number, agg: string, cuts: number[] = []): RolledSeries {
  const fields = rollupFieldsFor(agg)!;
  const only = (r: Rollup) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fields.has(k as keyof Rollup) ? v : null])) as unknown as Rollup;
  const plan = planRollups(from, to, cuts);
  const before = h.filter((s) => s.ts < from).slice(-1);
  const raw = h.filter((s) => plan.spans.some((sp) => s.ts >= sp.from && s.ts < sp.to));
  const rollups = summarize(seriesOf(h.filter((s) => s.ts >= plan.rollFrom && s.ts < plan.rollTo)));
  return { series: seriesOf([...before, ...raw]), rollups: outsideSpans(plan, rollups).map(only) };
}

function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  return a === b;
}

const RUNS = { numRuns: 400 };

describe('history roll-ups', () => {
  it('appending samples in order to a roll-up gives the roll-up of all of them, bit for bit', () => {
    fc.assert(
      fc.property(history, fc.nat(), (h, cut) => {
        const all = summarize(seriesOf(h));
        for (const r of all) {
          const inMinute = h.filter((s) => s.ts >= r.minute && s.ts < r.minute + MINUTE_MS);
          const k = cut % inMinute.length;
          const a = new RollupBuilder(r.minute);
          for (const s of inMinute.slice(0, k)) a.push(s.ts, s.value, s.quality);
          const b = new RollupBuilder(r.minute, a.result());
          for (const s of inMinute.slice(k)) b.push(s.ts, s.value, s.quality);
          expect(b.result()).toEqual(r);
          // The batch form folds the same way, bit for bit.
          const c = new RollupBuilder(r.minute, a.result());
          const rest = inMinute.slice(k);
          c.pushMany(
            rest.map((_, i) => i),
            0,
            rest.length,
            rest.map((s) => s.ts),
            rest.map((s) => s.value),
            rest.map((s) => s.quality),
          );
          expect(c.result()).toEqual(r);
        }
      }),
      RUNS,
    );
  });

  it('API buckets of 1 min or more from roll-ups + raw edges equal the buckets from raw samples', () => {
    const aggs: RolledAggregate[] = ['avg', 'min', 'max', 'first', 'last', 'count', 'delta'];
    fc.assert(
      fc.property(
        history,
        window,
        fc.constantFrom(60_000, 120_000, 90_000, 61_000, 300_000, 3_600_000, 86_400_000),
        fc.option(fc.integer({ min: 0, max: 20_000_000 }).map((d) => T0 + d)),
        fc.constantFrom(...aggs),
        (h, w, intervalMs, horizon, agg) => {
          const opts = { from: w.from, to: w.from + w.len, intervalMs, horizon: horizon ?? undefined };
          const raw = bucketize(seriesIn(h, opts.from, opts.to), AGGREGATES[agg], opts);
          const rolled = bucketizeRolled(rolledIn(h, opts.from, opts.to, agg, bucketCuts(opts)), agg, opts);
          expect(rolled.length).toBe(raw.length);
          raw.forEach((b, k) => {
            const r = rolled[k]!;
            if (!(r.timestamp === b.timestamp && r.count === b.count && close(r.value, b.value))) expect({ k, ...r }).toEqual({ k, ...b });
          });
        },
      ),
      RUNS,
    );
  });

  it('report fields from roll-ups + raw edges equal those from raw samples: value and flags', () => {
    const aggs: TagAggregate[] = ['delta', 'avg', 'min', 'max', 'first', 'last', 'count', 'timeTrue', 'timeFalse'];
    fc.assert(
      fc.property(
        history,
        window,
        fc.constantFrom(...aggs),
        fc.option(fc.constantFrom(WRAP, 65_536)),
        fc.option(fc.constantFrom(1_000, 10_000, 60_000, 120_000)),
        (h, w, agg, wrapAt, maxGapMs) => {
          const opts = { wrapAt: wrapAt ?? undefined, maxGapMs: maxGapMs ?? undefined };
          const to = w.from + w.len;
          const raw = computeField(agg, seriesIn(h, w.from, to), w.from, to, opts);
          const rolled = computeFieldRolled(agg, rolledIn(h, w.from, to, agg), w.from, to, opts);
          expect(rolled.flags).toEqual(raw.flags);
          if (!close(rolled.value, raw.value)) expect(rolled.value).toBe(raw.value);
        },
      ),
      RUNS,
    );
  });

  it('plans whole minutes from roll-ups and reads raw only the partial minutes and those split by a cut', () => {
    const m = (k: number) => T0 + k * MINUTE_MS;
    expect(planRollups(m(0) + 5, m(10) - 5, [m(3), m(4) + 30_000])).toEqual({
      from: m(0) + 5,
      spans: [
        { from: m(0) + 5, to: m(1) },
        { from: m(4), to: m(5) },
        { from: m(9), to: m(10) - 5 },
      ],
      rollFrom: m(1),
      rollTo: m(9),
    });
    expect(planRollups(m(0), m(2))).toEqual({ from: m(0), spans: [], rollFrom: m(0), rollTo: m(2) });
    expect(planRollups(m(0) + 1, m(1) + 1).spans).toEqual([{ from: m(0) + 1, to: m(1) + 1 }]);
  });
});
