import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGood, limitName, Quality, qualityName, subStatusName } from '../../../src/domain/quality.js';

const ALL_BYTES = Array.from({ length: 256 }, (_, i) => i);

describe('quality byte: codes named in the API contract', () => {
  it.each([
    [0xc0, true, 'GOOD', 'NON_SPECIFIC'],
    [0x08, false, 'BAD', 'NOT_CONNECTED'],
    [0x18, false, 'BAD', 'NO_COMMUNICATION_NO_USABLE_VALUE'],
    [0x4c, false, 'UNCERTAIN', 'INITIAL_VALUE'],
    [0x44, false, 'UNCERTAIN', 'LAST_USABLE_VALUE'],
  ] as const)('0x%s', (code, good, name, sub) => {
    expect(isGood(code)).toBe(good);
    expect(qualityName(code)).toBe(name);
    expect(subStatusName(code)).toBe(sub);
  });

  it('the Quality constants carry the values of the contract', () => {
    expect(Quality.GOOD).toBe(192);
    expect(Quality.BAD_NOT_CONNECTED).toBe(0x08);
    expect(Quality.BAD_NO_COMMUNICATION).toBe(0x18);
    expect(Quality.UNCERTAIN_INITIAL_VALUE).toBe(0x4c);
    expect(Quality.UNCERTAIN_LAST_USABLE_VALUE).toBe(0x44);
  });
});

describe('quality byte: other codes', () => {
  it('GOOD non-cascade (QQ=2) is good', () => {
    expect(isGood(0x80)).toBe(true);
    expect(qualityName(0x80)).toBe('GOOD');
    expect(subStatusName(0x80)).toBe('NON_SPECIFIC');
    expect(subStatusName(0xa4)).toBe('MAINTENANCE_DEMANDED'); // 0x80 | 9<<2
  });

  it('GOOD cascade local override', () => {
    expect(subStatusName(Quality.GOOD_LOCAL_OVERRIDE)).toBe('LOCAL_OVERRIDE');
    expect(qualityName(Quality.GOOD_LOCAL_OVERRIDE)).toBe('GOOD');
  });

  it('every named constant agrees with its own name', () => {
    for (const [key, code] of Object.entries(Quality)) {
      const q = key.split('_')[0];
      expect(qualityName(code), key).toBe(q);
      expect(isGood(code), key).toBe(q === 'GOOD');
    }
    expect(subStatusName(Quality.BAD)).toBe('NON_SPECIFIC');
    expect(subStatusName(Quality.BAD_CONFIGURATION_ERROR)).toBe('CONFIGURATION_ERROR');
    expect(subStatusName(Quality.BAD_DEVICE_FAILURE)).toBe('DEVICE_FAILURE');
    expect(subStatusName(Quality.BAD_SENSOR_FAILURE)).toBe('SENSOR_FAILURE');
    expect(subStatusName(Quality.BAD_NO_COMMUNICATION_LAST_USABLE)).toBe('NO_COMMUNICATION_WITH_LAST_USABLE_VALUE');
    expect(subStatusName(Quality.BAD_OUT_OF_SERVICE)).toBe('OUT_OF_SERVICE');
    expect(subStatusName(Quality.UNCERTAIN)).toBe('NON_SPECIFIC');
    expect(subStatusName(Quality.UNCERTAIN_SUBSTITUTE_SET)).toBe('SUBSTITUTE_SET');
    expect(subStatusName(Quality.UNCERTAIN_SENSOR_NOT_ACCURATE)).toBe('SENSOR_CONVERSION_NOT_ACCURATE');
    expect(subStatusName(Quality.UNCERTAIN_EU_RANGE_VIOLATION)).toBe('ENGINEERING_UNIT_RANGE_VIOLATION');
    expect(subStatusName(Quality.UNCERTAIN_SUB_NORMAL)).toBe('SUB_NORMAL');
    expect(subStatusName(Quality.UNCERTAIN_SIMULATED_VALUE)).toBe('SIMULATED_VALUE');
  });

  it('unknown sub-statuses get a generic name', () => {
    expect(subStatusName(0x28)).toBe('SUB_STATUS_10'); // BAD, sub 0xA undefined
    expect(subStatusName(0x9c)).toBe('SUB_STATUS_7'); // GOOD non-cascade, sub 7 undefined
  });

  it('the limit bits do not change quality or sub-status', () => {
    for (const ll of [1, 2, 3]) {
      expect(qualityName(0x4c | ll)).toBe('UNCERTAIN');
      expect(subStatusName(0x4c | ll)).toBe('INITIAL_VALUE');
      expect(subStatusName(0x08 | ll)).toBe('NOT_CONNECTED');
    }
    expect([0xc0, 0xc1, 0xc2, 0xc3].map(limitName)).toEqual(['OK', 'LOW_LIMITED', 'HIGH_LIMITED', 'CONSTANT']);
  });
});

describe('quality byte: properties over all 256 bytes', () => {
  it('isGood iff (q & 0xC0) >= 0x80, exhaustively', () => {
    expect(ALL_BYTES.filter(isGood)).toEqual(ALL_BYTES.filter((q) => q >= 0x80));
    for (const q of ALL_BYTES) expect(isGood(q)).toBe((q & 0xc0) >= 0x80);
  });

  it('qualityName is total and consistent with isGood and QQ', () => {
    for (const q of ALL_BYTES) {
      const name = qualityName(q);
      expect(name).toBe(['BAD', 'UNCERTAIN', 'GOOD', 'GOOD'][q >> 6]);
      expect(name === 'GOOD').toBe(isGood(q));
    }
    const counts = { GOOD: 0, UNCERTAIN: 0, BAD: 0 };
    for (const q of ALL_BYTES) counts[qualityName(q)]++;
    expect(counts).toEqual({ GOOD: 128, UNCERTAIN: 64, BAD: 64 });
  });

  it('subStatusName is total: a non-empty upper-case identifier for every byte, never throwing', () => {
    for (const q of ALL_BYTES) expect(subStatusName(q)).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('names depend only on QQ and SSSS (fast-check over bytes and limit bits)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), (q, ll) => {
        const base = q & 0xfc;
        return (
          qualityName(base | ll) === qualityName(q) &&
          subStatusName(base | ll) === subStatusName(q) &&
          isGood(base | ll) === isGood(q) &&
          limitName(q) === ['OK', 'LOW_LIMITED', 'HIGH_LIMITED', 'CONSTANT'][q & 3]
        );
      }),
      { numRuns: 500 },
    );
  });
});
