import { describe, expect, it } from 'vitest';
import { computeField } from '../../../../src/domain/exports/aggregates.js';
import { seriesOf } from '../../../../src/domain/history/series.js';

const GOOD = 0xc0;
const BAD = 0x00;
const s = (...rows: [number, number | string, number?][]) => seriesOf(rows.map(([ts, value, q]) => ({ ts, value, quality: q ?? GOOD })));

describe('report field aggregates', () => {
  // Period [100, 200). A sample at 50 holds 10 at the start.
  const speed = s([50, 10], [120, 20], [150, 40], [180, 0]);

  it('avg is time-weighted from the value held at the start', () => {
    // 10 for 20, 20 for 30, 40 for 30, 0 for 20 → (200 + 600 + 1200 + 0) / 100 = 20
    expect(computeField('avg', speed, 100, 200)).toEqual({ value: 20, flags: [] });
  });

  it('min/max include the held value; first/last are the values in effect; count the samples logged inside', () => {
    expect(computeField('min', speed, 100, 200).value).toBe(0);
    expect(computeField('max', speed, 100, 200).value).toBe(40);
    expect(computeField('first', speed, 100, 200).value).toBe(10);
    expect(computeField('last', speed, 100, 200).value).toBe(0);
    expect(computeField('count', speed, 100, 200).value).toBe(3);
    expect(computeField('max', speed, 125, 145).value).toBe(20);
  });

  it('delta counts increases, a reset as a restart from zero, and a wrap by the counter range', () => {
    const counter = s([90, 65000], [110, 65500], [130, 200], [160, 300]);
    // 500, then a decrease: without wrapAt a reset (+200), then +100.
    expect(computeField('delta', counter, 100, 200).value).toBe(800);
    // UInt16: 65500 → 200 wraps over 65536: 36 + 200 = 236.
    expect(computeField('delta', counter, 100, 200, { wrapAt: 65536 }).value).toBe(500 + 236 + 100);
    // A counter that did not move in the period counted nothing (on-change logging leaves no sample).
    expect(computeField('delta', counter, 170, 200)).toEqual({ value: 0, flags: [] });
  });

  it('timeTrue/timeFalse in seconds, BAD time in neither', () => {
    const running = s([0, 1], [4000, 0], [6000, 1, BAD], [7000, 1]);
    // [1000, 10000): true 1000–4000 (3 s) and 7000–10000 (3 s); false 4000–6000 (2 s); BAD 6000–7000.
    expect(computeField('timeTrue', running, 1000, 10_000)).toEqual({ value: 6, flags: ['bad'] });
    expect(computeField('timeFalse', running, 1000, 10_000)).toEqual({ value: 2, flags: ['bad'] });
  });

  it('flags BAD samples and leaves their time out of the average instead of filling it', () => {
    const x = s([0, 10], [50, 999, BAD], [75, 30]);
    // 10 for 50, BAD for 25, 30 for 25 → (500 + 750) / 75
    const r = computeField('avg', x, 0, 100);
    expect(r.value).toBeCloseTo(1250 / 75, 10);
    expect(r.flags).toEqual(['bad']);
  });

  it('flags gaps longer than maxGapMs and history starting inside the period', () => {
    const x = s([130, 5], [140, 6], [190, 7]);
    expect(computeField('last', x, 100, 200, { maxGapMs: 40 })).toEqual({ value: 7, flags: ['gap', 'partial'] });
    expect(computeField('last', x, 100, 200, { maxGapMs: 60 })).toEqual({ value: 7, flags: ['partial'] });
    // Held from before the period with no sample inside: a 100 ms gap with maxGapMs 60.
    expect(computeField('last', x, 200, 300, { maxGapMs: 60 })).toEqual({ value: 7, flags: ['gap'] });
  });

  it('no data at all is null and flagged, never zero', () => {
    expect(computeField('delta', s(), 0, 100)).toEqual({ value: null, flags: ['noData', 'partial'] });
    expect(computeField('avg', s([200, 1]), 0, 100)).toEqual({ value: null, flags: ['noData', 'partial'] });
    expect(computeField('timeTrue', s([0, 1, BAD]), 0, 100)).toEqual({ value: null, flags: ['bad', 'noData'] });
  });

  it('works for 64-bit counters stored as decimal strings and text for last', () => {
    expect(computeField('delta', s([0, '9007199254740000'], [10, '9007199254740990']), 0, 20).value).toBe(990);
    expect(computeField('last', s([0, 'LOT-1'], [10, 'LOT-2']), 0, 20).value).toBe('LOT-2');
  });
});

describe('counter wrap', () => {
  it('uses the tag max or the integer type range', async () => {
    const { counterWrap } = await import('../../../../src/domain/exports/aggregates.js');
    const { INTEGER_RANGES } = await import('../../../../src/domain/tag-types.js');
    expect(counterWrap('UInt16', undefined, INTEGER_RANGES)).toBe(65536);
    expect(counterWrap('Int16', undefined, INTEGER_RANGES)).toBe(65536);
    expect(counterWrap('UInt32', 9999, INTEGER_RANGES)).toBe(10000);
    expect(counterWrap('Float64', undefined, INTEGER_RANGES)).toBeUndefined();
  });
});
