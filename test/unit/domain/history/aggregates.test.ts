import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AGGREGATES, type AggregateName } from '../../../../src/domain/history/aggregates.js';
import { bucketize, bucketCount } from '../../../../src/domain/history/bucket.js';
import { deltaWith } from '../../../../src/domain/history/delta.js';
import { seriesOf, type StoredValue } from '../../../../src/domain/history/series.js';

const GOOD = 0xc0;
const UNCERTAIN = 0x44;
const BAD = 0x08;

interface S {
  ts: number;
  value: StoredValue;
  quality: number;
}
const s = (ts: number, value: StoredValue, quality = GOOD): S => ({ ts, value, quality });

function run(name: AggregateName, samples: S[], from: number, to: number, intervalMs: number, horizon?: number) {
  return bucketize(seriesOf(samples), AGGREGATES[name], { from, to, intervalMs, horizon });
}

// ---------- a reference written from the contract, one millisecond at a time (slow but obviously right) ----------

const isUsable = (q: number) => q >= 0x40;
const num = (v: StoredValue) => (typeof v === 'number' ? v : NaN);

function reference(name: AggregateName, samples: S[], from: number, to: number, interval: number, horizon: number) {
  const out: { timestamp: number; value: StoredValue | null; count: number }[] = [];
  for (let b = Math.floor(from / interval) * interval; b < to; b += interval) {
    const start = Math.max(b, from);
    const end = Math.min(b + interval, to);
    const inside = samples.filter((x) => x.ts >= start && x.ts < end);
    if (inside.length === 0) {
      out.push({ timestamp: b, value: null, count: 0 });
      continue;
    }
    const good = inside.filter((x) => isUsable(x.quality));
    const goodNum = good.map((x) => num(x.value)).filter((v) => !Number.isNaN(v));
    let value: StoredValue | null = null;
    switch (name) {
      case 'count':
        value = inside.length;
        break;
      case 'min':
        value = goodNum.length ? Math.min(...goodNum) : null;
        break;
      case 'max':
        value = goodNum.length ? Math.max(...goodNum) : null;
        break;
      case 'first':
        value = good[0]?.value ?? null;
        break;
      case 'last':
        value = good.at(-1)?.value ?? null;
        break;
      case 'avg': {
        let sum = 0;
        let n = 0;
        for (let t = start; t < Math.min(end, horizon); t++) {
          const held = samples.filter((x) => x.ts <= t).at(-1);
          if (held && isUsable(held.quality) && !Number.isNaN(num(held.value))) {
            sum += num(held.value);
            n++;
          }
        }
        value = n > 0 ? sum / n : (goodNum.at(-1) ?? null);
        break;
      }
      case 'delta': {
        const before = samples.filter((x) => x.ts < start && isUsable(x.quality)).at(-1);
        let prev = before ? num(before.value) : NaN;
        let sum = 0;
        for (const v of goodNum) {
          if (!Number.isNaN(prev)) sum += v >= prev ? v - prev : v;
          prev = v;
        }
        value = goodNum.length ? sum : null;
        break;
      }
    }
    out.push({ timestamp: b, value, count: inside.length });
  }
  return out;
}

const sampleArb = fc.record({
  value: fc.integer({ min: -20, max: 20 }),
  quality: fc.constantFrom(GOOD, GOOD, GOOD, UNCERTAIN, BAD),
});
const caseArb = fc.record({
  samples: fc
    .uniqueArray(fc.integer({ min: -50, max: 399 }), { maxLength: 60 })
    .chain((tss) => fc.tuple(...tss.sort((a, b) => a - b).map((ts) => sampleArb.map((x) => s(ts, x.value, x.quality))))),
  from: fc.integer({ min: 0, max: 200 }),
  span: fc.integer({ min: 1, max: 200 }),
  interval: fc.integer({ min: 1, max: 120 }),
  horizonSlack: fc.option(fc.integer({ min: -100, max: 50 }), { nil: undefined }),
});

function close(a: StoredValue | null, b: StoredValue | null): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  return a === b;
}

describe('aggregates against a millisecond-by-millisecond reference', () => {
  for (const name of Object.keys(AGGREGATES) as AggregateName[]) {
    it(name, () => {
      fc.assert(
        fc.property(caseArb, ({ samples, from, span, interval, horizonSlack }) => {
          const to = from + span;
          const horizon = horizonSlack === undefined ? to : Math.max(from, to + horizonSlack);
          const got = run(name, samples, from, to, interval, horizon);
          const want = reference(name, samples, from, to, interval, horizon);
          expect(got.length).toBe(want.length);
          got.forEach((g, i) => {
            const w = want[i]!;
            expect(g.timestamp).toBe(w.timestamp);
            expect(g.count).toBe(w.count);
            if (!close(g.value, w.value)) expect(g.value).toBe(w.value);
          });
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('aggregate properties', () => {
  it('avg of a constant is the constant', () => {
    fc.assert(
      fc.property(caseArb, fc.double({ min: -1e6, max: 1e6, noNaN: true }), ({ samples, from, span, interval }, c) => {
        const constant = samples.map((x) => ({ ...x, value: c, quality: GOOD }));
        for (const b of run('avg', constant, from, from + span, interval)) if (b.count > 0) expect(close(b.value, c)).toBe(true);
      }),
    );
  });

  it('counts add up to the number of samples in [from, to)', () => {
    fc.assert(
      fc.property(caseArb, ({ samples, from, span, interval }) => {
        const to = from + span;
        const total = run('count', samples, from, to, interval).reduce((a, b) => a + b.count, 0);
        expect(total).toBe(samples.filter((x) => x.ts >= from && x.ts < to).length);
      }),
    );
  });

  it('avg lies between the smallest and largest value held in the bucket', () => {
    fc.assert(
      fc.property(caseArb, ({ samples, from, span, interval }) => {
        const to = from + span;
        const avgs = run('avg', samples, from, to, interval);
        const mins = run('min', samples, from, to, interval);
        const maxs = run('max', samples, from, to, interval);
        avgs.forEach((a, k) => {
          if (typeof a.value !== 'number') return;
          // The value held at the bucket start (the sample before it) also counts towards the average.
          const start = Math.max(a.timestamp, from);
          const held = samples.filter((x) => x.ts < start).at(-1);
          const extra = held && isUsable(held.quality) ? [held.value as number] : [];
          const lo = Math.min(...extra, ...(typeof mins[k]!.value === 'number' ? [mins[k]!.value] : []));
          const hi = Math.max(...extra, ...(typeof maxs[k]!.value === 'number' ? [maxs[k]!.value] : []));
          expect(a.value).toBeGreaterThanOrEqual(lo - 1e-9);
          expect(a.value).toBeLessThanOrEqual(hi + 1e-9);
        });
      }),
    );
  });

  it('deltas of adjacent buckets add up to the delta of their union', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 2, max: 8 }), ({ samples, from, interval }, parts) => {
        const big = interval * parts;
        const aligned = Math.floor(from / big) * big;
        const whole = run('delta', samples, aligned, aligned + big, big)[0]!;
        const pieces = run('delta', samples, aligned, aligned + big, interval);
        const sum = pieces.reduce((a, b) => a + (typeof b.value === 'number' ? b.value : 0), 0);
        if (whole.value === null) expect(pieces.every((p) => p.value === null)).toBe(true);
        else expect(sum).toBe(whole.value);
      }),
    );
  });
});

describe('worked examples', () => {
  it('time-weighted avg holds each value until the next sample and starts from the one before the bucket', () => {
    // 0 held from before the bucket until 15, then 10 until 40, then 20 to the end (60).
    const b = run('avg', [s(-5, 0), s(15, 10), s(40, 20)], 0, 60, 60);
    expect(b).toEqual([{ timestamp: 0, value: (0 * 15 + 10 * 25 + 20 * 20) / 60, count: 2 }]);
  });

  it('avg leaves out the time a tag was BAD', () => {
    const b = run('avg', [s(0, 10), s(10, 10, BAD), s(30, 40)], 0, 40, 40);
    expect(b[0]!.value).toBe((10 * 10 + 40 * 10) / 20);
  });

  it('avg of a running bucket stops at the horizon', () => {
    const b = run('avg', [s(0, 0), s(10, 100)], 0, 60, 60, 20);
    expect(b[0]!.value).toBe(50);
  });

  it('buckets are aligned to the epoch and labelled by their start; empty ones are null with count 0', () => {
    const b = run('max', [s(1005, 1), s(1500, 3), s(3100, 2)], 1000, 4000, 1000);
    expect(b).toEqual([
      { timestamp: 1000, value: 3, count: 2 },
      { timestamp: 2000, value: null, count: 0 },
      { timestamp: 3000, value: 2, count: 1 },
    ]);
    // Unaligned from/to: the buckets containing them are answered with only the samples inside [from, to).
    expect(run('count', [s(1005, 1), s(1500, 3), s(3100, 2)], 1200, 3050, 1000)).toEqual([
      { timestamp: 1000, value: 1, count: 1 },
      { timestamp: 2000, value: null, count: 0 },
      { timestamp: 3000, value: null, count: 0 },
    ]);
  });

  it('first and last skip BAD samples and keep text', () => {
    const sm = [s(0, 'a', BAD), s(1, 'b'), s(2, 'c'), s(3, 'd', BAD)];
    expect(run('first', sm, 0, 10, 10)[0]!.value).toBe('b');
    expect(run('last', sm, 0, 10, 10)[0]!.value).toBe('c');
    expect(run('avg', sm, 0, 10, 10)[0]!.value).toBe(null);
  });

  it('delta reads a decrease as a reset to zero, or as a wrap when told the width', () => {
    const sm = [s(0, 100), s(10, 65530), s(20, 5), s(30, 15)];
    expect(run('delta', sm, 0, 40, 40)[0]!.value).toBe(65430 + 5 + 10);
    const wrapped = bucketize(seriesOf(sm), deltaWith({ wrapAt: 65536 }), { from: 0, to: 40, intervalMs: 40 });
    expect(wrapped[0]!.value).toBe(65430 + 11 + 10);
  });

  it('delta counts the increase across a connection loss in the bucket where the counter is read again', () => {
    const sm = [s(0, 10), s(5, 10, BAD), s(25, 30)];
    expect(run('delta', sm, 0, 40, 10).map((b) => b.value)).toEqual([0, null, 20, null]);
  });

  it('refuses ranges with too many buckets', () => {
    expect(() => bucketize(seriesOf([]), AGGREGATES.avg, { from: 0, to: 1e9, intervalMs: 1 })).toThrow(/intervals/);
    expect(bucketCount(0, 86_400_000, 60_000)).toBe(1440);
  });
});
