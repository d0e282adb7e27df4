import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../../src/domain/clock.js';

const T0 = Date.UTC(2026, 0, 1);

describe('ManualClock', () => {
  it('starts at 2026-01-01 by default or at the given time, and only moves when told', () => {
    expect(new ManualClock().now()).toBe(T0);
    const c = new ManualClock(1000);
    expect(c.now()).toBe(1000);
    c.advance(250);
    expect(c.now()).toBe(1250);
    c.advance(0);
    expect(c.now()).toBe(1250);
  });

  it('fires timeouts in due order, not in creation order, each at its due time', () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    c.setTimeout(() => log.push(`c@${c.now()}`), 30);
    c.setTimeout(() => log.push(`a@${c.now()}`), 10);
    c.setTimeout(() => log.push(`b@${c.now()}`), 20);
    c.advance(15);
    expect(log).toEqual(['a@10']);
    expect(c.now()).toBe(15);
    c.advance(100);
    expect(log).toEqual(['a@10', 'b@20', 'c@30']);
    expect(c.now()).toBe(115);
    c.advance(1000);
    expect(log).toHaveLength(3); // a timeout fires once
  });

  it('timeouts due at the same time fire in creation order', () => {
    const c = new ManualClock(0);
    const log: number[] = [];
    for (let i = 0; i < 5; i++) c.setTimeout(() => log.push(i), 10);
    c.advance(10);
    expect(log).toEqual([0, 1, 2, 3, 4]);
  });

  it('a zero or negative timeout fires on the next advance, never moving time backwards', () => {
    const c = new ManualClock(100);
    const at: number[] = [];
    c.setTimeout(() => at.push(c.now()), 0);
    c.setTimeout(() => at.push(c.now()), -50);
    c.advance(0);
    expect(at).toEqual([100, 100]);
  });

  it('intervals repeat at their period until cleared', () => {
    const c = new ManualClock(0);
    const at: number[] = [];
    const h = c.setInterval(() => at.push(c.now()), 100);
    c.advance(350);
    expect(at).toEqual([100, 200, 300]);
    c.advance(50);
    expect(at).toEqual([100, 200, 300, 400]);
    c.clearInterval(h);
    c.advance(1000);
    expect(at).toEqual([100, 200, 300, 400]);
  });

  it('interleaves intervals and timeouts in time order', () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    c.setInterval(() => log.push(`i${c.now()}`), 40);
    c.setTimeout(() => log.push(`t${c.now()}`), 50);
    c.setInterval(() => log.push(`j${c.now()}`), 70);
    c.advance(150);
    expect(log).toEqual(['i40', 't50', 'j70', 'i80', 'i120', 'j140']);
  });

  it('clearTimeout cancels a pending timeout; clearing twice or an unknown handle is harmless', () => {
    const c = new ManualClock(0);
    let fired = 0;
    const h = c.setTimeout(() => fired++, 10);
    c.setTimeout(() => (fired += 10), 20);
    c.clearTimeout(h);
    c.clearTimeout(h);
    c.clearTimeout(12345);
    c.clearTimeout(undefined);
    c.advance(100);
    expect(fired).toBe(10);
  });

  it('an interval may clear itself from its own callback', () => {
    const c = new ManualClock(0);
    let n = 0;
    const h = c.setInterval(() => {
      if (++n === 3) c.clearInterval(h);
    }, 10);
    c.advance(1000);
    expect(n).toBe(3);
  });

  it('a timer set from a callback fires within the same advance when due', () => {
    const c = new ManualClock(0);
    const at: number[] = [];
    c.setTimeout(() => {
      at.push(c.now());
      c.setTimeout(() => at.push(c.now()), 5);
      c.setTimeout(() => at.push(c.now()), 500);
    }, 10);
    c.advance(20);
    expect(at).toEqual([10, 15]);
    c.advance(480);
    expect(at).toEqual([10, 15]);
    c.advance(10);
    expect(at).toEqual([10, 15, 510]);
  });

  it('a callback may cancel a later timer due in the same advance', () => {
    const c = new ManualClock(0);
    const log: string[] = [];
    const handles: { later?: unknown } = {};
    c.setTimeout(() => {
      log.push('first');
      c.clearTimeout(handles.later);
    }, 10);
    handles.later = c.setTimeout(() => log.push('later'), 20);
    c.advance(30);
    expect(log).toEqual(['first']);
  });

  it('handles are distinct for timeouts and intervals', () => {
    const c = new ManualClock(0);
    const hs = [c.setTimeout(() => {}, 1), c.setInterval(() => {}, 1), c.setTimeout(() => {}, 1)];
    expect(new Set(hs).size).toBe(3);
  });

  it('an interval of 0 or a negative period fires every 1 ms from now on, never moving time backwards', () => {
    const c = new ManualClock(1000);
    const at: number[] = [];
    const h0 = c.setInterval(() => at.push(c.now()), 0);
    c.advance(0);
    expect(at).toEqual([]);
    c.advance(3);
    expect(at).toEqual([1001, 1002, 1003]);
    c.clearInterval(h0);
    at.length = 0;
    const hNeg = c.setInterval(() => at.push(c.now()), -500);
    c.advance(2);
    expect(at).toEqual([1004, 1005]);
    expect(c.now()).toBe(1005);
    c.clearInterval(hNeg);
  });

  it('property: every timeout fires exactly once, at its due time, in non-decreasing time order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 10 }),
        (delays, steps) => {
          const c = new ManualClock(0);
          const fired: { i: number; at: number }[] = [];
          delays.forEach((d, i) => c.setTimeout(() => fired.push({ i, at: c.now() }), d));
          let last = 0;
          for (const s of steps) {
            c.advance(s);
            if (c.now() < last) return false;
            last = c.now();
          }
          const end = c.now();
          const due = delays
            .map((d, i) => ({ i, at: d }))
            .filter((x) => x.at <= end)
            .sort((a, b) => a.at - b.at || a.i - b.i);
          return JSON.stringify(fired) === JSON.stringify(due);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: an interval of period p fires floor(t/p) times in t ms, however t is split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 10 }), (p, steps) => {
        const c = new ManualClock(0);
        let n = 0;
        c.setInterval(() => {
          n++;
          if (c.now() !== n * p) throw new Error(`fired at ${c.now()}, expected ${n * p}`);
        }, p);
        for (const s of steps) c.advance(s);
        return n === Math.floor(c.now() / p);
      }),
      { numRuns: 300 },
    );
  });
});

describe('systemClock', () => {
  it('reads the wall clock and runs real timers', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    await new Promise<void>((resolve) => {
      systemClock.setTimeout(resolve, 1);
    });
    let fired = false;
    const h = systemClock.setTimeout(() => {
      fired = true;
    }, 1);
    systemClock.clearTimeout(h);
    let ticks = 0;
    const i = systemClock.setInterval(() => {
      ticks++;
    }, 1);
    await new Promise((r) => setTimeout(r, 20));
    systemClock.clearInterval(i);
    const after = ticks;
    await new Promise((r) => setTimeout(r, 10));
    expect(fired).toBe(false);
    expect(after).toBeGreaterThan(0);
    expect(ticks).toBe(after);
  });
});
