import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shouldLog } from '../../../../src/domain/history/deadband.js';

const GOOD = 0xc0;
const BAD = 0x08;

describe('shouldLog', () => {
  it('logs the first value', () => {
    expect(shouldLog(undefined, 1, GOOD, 5)).toBe(true);
  });
  it('logs a quality change even with the same value', () => {
    expect(shouldLog({ value: 1, quality: GOOD }, 1, BAD, 5)).toBe(true);
    expect(shouldLog({ value: 1, quality: BAD }, 1, GOOD, 5)).toBe(true);
  });
  it('suppresses changes within the deadband, compared with the last logged value', () => {
    const last = { value: 10, quality: GOOD };
    expect(shouldLog(last, 10.4, GOOD, 0.5)).toBe(false);
    expect(shouldLog(last, 10.5, GOOD, 0.5)).toBe(false);
    expect(shouldLog(last, 10.51, GOOD, 0.5)).toBe(true);
    expect(shouldLog(last, 9.4, GOOD, 0.5)).toBe(true);
  });
  it('without a deadband logs every change and nothing else', () => {
    expect(shouldLog({ value: 1, quality: GOOD }, 1, GOOD)).toBe(false);
    expect(shouldLog({ value: 1, quality: GOOD }, 1.0000001, GOOD)).toBe(true);
  });
  it('treats text and Bool changes as changes whatever the deadband', () => {
    expect(shouldLog({ value: 'a', quality: GOOD }, 'b', GOOD, 100)).toBe(true);
    expect(shouldLog({ value: false, quality: GOOD }, true, GOOD, 100)).toBe(true);
    expect(shouldLog({ value: 'x', quality: GOOD }, 'x', GOOD, 0)).toBe(false);
  });
  it('compares 64-bit integers numerically', () => {
    expect(shouldLog({ value: '1000', quality: GOOD }, '1003', GOOD, 5)).toBe(false);
    expect(shouldLog({ value: '1000', quality: GOOD }, '1006', GOOD, 5)).toBe(true);
  });
  it('property: a drift in small steps is logged once it adds up past the deadband', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.5, max: 10, noNaN: true }),
        (steps, deadband) => {
          let value = 0;
          let last = { value: 0, quality: GOOD };
          for (const s of steps) {
            value += s;
            if (shouldLog(last, value, GOOD, deadband)) last = { value, quality: GOOD };
            // Whatever was suppressed, the logged value never lags the real one by more than the deadband.
            expect(Math.abs(value - last.value)).toBeLessThanOrEqual(deadband);
          }
        },
      ),
    );
  });
});
