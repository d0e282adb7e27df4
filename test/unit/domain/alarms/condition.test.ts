import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileCondition } from '../../../../src/domain/alarms/condition.js';
import type { AlarmDefinition, LimitType } from '../../../../src/domain/alarms/definition.js';

const base = { name: 'A', number: 1, class: 'Alarm', priority: 5, tag: 'T', text: '' };
const analog = (type: LimitType, value: number, hysteresis?: number): AlarmDefinition => ({
  ...base,
  kind: 'analog',
  limit: { type, value },
  hysteresis,
});

describe('discrete conditions', () => {
  it('follows a Bool', () => {
    const c = compileCondition({ ...base, kind: 'discrete' }, 'Bool');
    expect(c(true, false)).toBe(true);
    expect(c(false, true)).toBe(false);
  });
  it('reads one bit of an integer, including the sign bit of negative values', () => {
    const c3 = compileCondition({ ...base, kind: 'discrete', bit: 3 }, 'Int16');
    expect(c3(8, false)).toBe(true);
    expect(c3(7, false)).toBe(false);
    expect(c3(-1, false)).toBe(true);
    const c31 = compileCondition({ ...base, kind: 'discrete', bit: 31 }, 'UInt32');
    expect(c31(0x80000000, false)).toBe(true);
    expect(c31(0x7fffffff, false)).toBe(false);
    expect(compileCondition({ ...base, kind: 'discrete', bit: 31 }, 'Int32')(-5, false)).toBe(true);
  });
  it('agrees with a BigInt reference for every bit of 32-bit values', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 31 }), (v, bit) => {
        const c = compileCondition({ ...base, kind: 'discrete', bit }, 'Int32');
        expect(c(v, false)).toBe(((BigInt.asUintN(32, BigInt(v)) >> BigInt(bit)) & 1n) === 1n);
      }),
    );
  });
  it('reads bits of 64-bit integers exactly (they travel as strings)', () => {
    const c = compileCondition({ ...base, kind: 'discrete', bit: 60 }, 'UInt64');
    expect(c((1n << 60n).toString(), false)).toBe(true);
    expect(c(((1n << 60n) - 1n).toString(), false)).toBe(false);
    expect(c('not a number', false)).toBeUndefined();
  });
  it('without a bit, an integer is true while non-zero', () => {
    const c = compileCondition({ ...base, kind: 'discrete' }, 'UInt8');
    expect(c(0, true)).toBe(false);
    expect(c(2, false)).toBe(true);
  });
});

describe('analog conditions', () => {
  it('raises above a high limit and clears only below limit minus hysteresis', () => {
    const c = compileCondition(analog('H', 80, 2), 'Float64');
    expect(c(80, false)).toBe(false);
    expect(c(80.1, false)).toBe(true);
    expect(c(79, true)).toBe(true);
    expect(c(78, true)).toBe(false);
  });
  it('raises below a low limit and clears only above limit plus hysteresis', () => {
    const c = compileCondition(analog('LL', 10, 1), 'Int16');
    expect(c(10, false)).toBe(false);
    expect(c(9, false)).toBe(true);
    expect(c(10, true)).toBe(true);
    expect(c(11, true)).toBe(false);
  });
  it('compares with >=, <=, ==, !=', () => {
    expect(compileCondition(analog('>=', 5), 'Int16')(5, false)).toBe(true);
    expect(compileCondition(analog('<=', 5), 'Int16')(5, false)).toBe(true);
    expect(compileCondition(analog('<', 5), 'Int16')(5, false)).toBe(false);
    expect(compileCondition(analog('==', 3), 'Int16')(3, false)).toBe(true);
    expect(compileCondition(analog('==', 3, 1), 'Int16')(4, true)).toBe(true);
    expect(compileCondition(analog('!=', 3), 'Int16')(3, false)).toBe(false);
    expect(compileCondition(analog('!=', 3), 'Int16')(4, false)).toBe(true);
  });
  it('cannot judge NaN', () => {
    expect(compileCondition(analog('H', 1), 'Float32')(Number.NaN, true)).toBeUndefined();
  });
  it('with hysteresis never chatters: between the two thresholds the previous state holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<LimitType>('HH', 'H', 'L', 'LL', '>', '>=', '<', '<='),
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.array(fc.double({ min: -1100, max: 1100, noNaN: true }), { maxLength: 50 }),
        (type, limit, h, values) => {
          const c = compileCondition(analog(type, limit, h), 'Float64');
          let active = false;
          const high = type === 'HH' || type === 'H' || type === '>' || type === '>=';
          for (const v of values) {
            const next: boolean = c(v, active)!;
            // Entering needs the limit itself violated; leaving needs the value beyond the deadband.
            if (!active && next) expect(high ? v >= limit : v <= limit).toBe(true);
            if (active && !next) expect(high ? v <= limit - h : v >= limit + h).toBe(true);
            active = next;
          }
        },
      ),
    );
  });
});
