import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/drivers/backoff.js';

/** A random source that answers the given values in turn. */
function seq(...xs: number[]): () => number {
  let i = 0;
  return () => xs[i++ % xs.length]!;
}

describe('Backoff', () => {
  it('with random 0 answers half the ceiling; the ceiling doubles from 500 ms up to 30 s', () => {
    const b = new Backoff(500, 30_000, () => 0);
    const delays = Array.from({ length: 10 }, () => b.next());
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]);
  });

  it('with random→1 answers the full ceiling', () => {
    const b = new Backoff(500, 30_000, () => 0.999999999);
    expect(Array.from({ length: 9 }, () => b.next())).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('uses defaults of 500 ms initial and 30 s maximum', () => {
    const b = new Backoff(undefined, undefined, () => 0.5);
    expect(b.next()).toBe(375); // 250 + 0.5 * 250
    for (let i = 0; i < 20; i++) b.next();
    expect(b.next()).toBe(22500); // 15000 + 0.5 * 15000
  });

  it('counts attempts and reset() starts over', () => {
    const b = new Backoff(100, 10_000, () => 0);
    expect(b.attempts).toBe(0);
    b.next();
    b.next();
    b.next();
    expect(b.attempts).toBe(3);
    expect(b.next()).toBe(400);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(50);
  });

  it('jitters between calls', () => {
    const b = new Backoff(1000, 1000, seq(0, 0.5, 0.25));
    expect([b.next(), b.next(), b.next()]).toEqual([500, 750, 625]);
  });

  it('never overflows after very many attempts', () => {
    const b = new Backoff(500, 30_000, () => 0.5);
    for (let i = 0; i < 10_000; i++) b.next();
    expect(b.next()).toBe(22500);
    expect(b.attempts).toBe(10_001);
  });

  it('property: every delay is within [ceiling/2, ceiling] of the expected ceiling', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (initial, max, randoms) => {
          const b = new Backoff(initial, max, seq(...randoms));
          for (let k = 0; k < randoms.length; k++) {
            const ceiling = Math.min(max, initial * 2 ** k);
            const d = b.next();
            if (!(d >= ceiling / 2 && d <= ceiling)) return false;
          }
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: with a fixed random, delays never decrease and stop growing at the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (initial, max, r) => {
          const b = new Backoff(initial, max, () => r);
          const ds = Array.from({ length: 30 }, () => b.next());
          for (let i = 1; i < ds.length; i++) if (ds[i]! < ds[i - 1]!) return false;
          return ds[29] === Math.round(max / 2 + r * (max / 2)) || initial * 2 ** 29 < max;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: after reset the sequence repeats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), (n) => {
        const b = new Backoff(500, 30_000, () => 0.3);
        const first = Array.from({ length: n }, () => b.next());
        b.reset();
        const second = Array.from({ length: n }, () => b.next());
        return JSON.stringify(first) === JSON.stringify(second);
      }),
      { numRuns: 100 },
    );
  });
});
