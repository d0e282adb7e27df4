import { describe, expect, it } from 'vitest';
import { qualityByte, unifiedQuality } from '../../../../src/adapters/http/wincc-unified/quality.js';
import { Quality } from '../../../../src/domain/quality.js';

describe('quality byte ↔ Unified Quality', () => {
  it.each([
    [Quality.GOOD, 'GOOD_CASCADE', 'NON_SPECIFIC', 'OK'],
    [Quality.GOOD_NON_CASCADE, 'GOOD_NON_CASCADE', 'NON_SPECIFIC', 'OK'],
    [Quality.GOOD_LOCAL_OVERRIDE, 'GOOD_CASCADE', 'LOCAL_OVERRIDE', 'OK'],
    [Quality.BAD_NOT_CONNECTED, 'BAD', 'NOT_CONNECTED', 'OK'],
    [Quality.BAD_DEVICE_FAILURE, 'BAD', 'DEVICE_FAILURE', 'OK'],
    [Quality.BAD_NO_COMMUNICATION_LAST_USABLE, 'BAD', 'NO_COMMUNICATION_WITH_LAST_USABLE_VALUE', 'OK'],
    [Quality.UNCERTAIN_SUBSTITUTE_SET, 'UNCERTAIN', 'SUBSTITUTE_VALUE', 'OK'],
    [Quality.UNCERTAIN_EU_RANGE_VIOLATION | 1, 'UNCERTAIN', 'RANGE_VIOLATION', 'LOW_LIMIT_VIOLATION'],
    [Quality.UNCERTAIN_SIMULATED_VALUE | 3, 'UNCERTAIN', 'SIMULATED_VALUE', 'CONSTANT'],
    [0x3c, 'BAD', 'NON_SPECIFIC', 'OK'], // a sub-status Unified has no name for
  ])('0x%s', (code, quality, subStatus, limit) => {
    expect(unifiedQuality(code)).toMatchObject({ quality, subStatus, limit, extendedSubStatus: 'NON_SPECIFIC' });
  });

  it('round-trips every named main quality and sub-status', () => {
    for (let b = 0; b < 256; b += 4) {
      const q = unifiedQuality(b);
      const back = qualityByte(q);
      expect(back).toBeDefined();
      expect(unifiedQuality(back!)).toEqual(q);
    }
    expect(qualityByte({ quality: 'BAD', subStatus: 'INIT_ACKED' })).toBeUndefined();
    expect(qualityByte({ quality: 'GOOD_CASCADE' })).toBe(0xc0);
  });
});
