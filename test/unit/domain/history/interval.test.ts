import { describe, expect, it } from 'vitest';
import { parseInterval } from '../../../../src/domain/history/interval.js';
import { TagwayError } from '../../../../src/domain/problems.js';

describe('parseInterval', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['2w', 14 * 86_400_000],
    ['PT1M', 60_000],
    ['PT0.5S', 500],
    ['PT0,25S', 250],
    ['P1D', 86_400_000],
    ['P1DT12H', 129_600_000],
    ['PT1H30M', 5_400_000],
    ['P1W', 604_800_000],
    ['pt15m', 900_000],
    [' 1h ', 3_600_000],
    ['P0Y0M1D', 86_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  it.each([
    ['', 'expected a number'],
    ['1', 'expected a number'],
    ['1.5s', 'expected a number'],
    ['-1s', 'expected a number'],
    ['1min', 'expected a number'],
    ['0s', 'longer than zero'],
    ['PT0S', 'longer than zero'],
    ['P', 'expected a number'],
    ['PT', 'ISO 8601'],
    ['P1M', 'months'],
    ['P1Y', 'months'],
    ['PT0.0001S', 'whole number'],
    ['P400D', 'exceed'],
    ['PT1S1M', 'ISO 8601'],
  ])('refuses %j', (text, why) => {
    try {
      parseInterval(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TagwayError);
      const e = err as TagwayError;
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.errors?.[0]?.field).toBe('interval');
      expect(e.message).toContain(why);
    }
  });
});
