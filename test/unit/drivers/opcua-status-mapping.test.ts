import { StatusCodes } from 'node-opcua';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Quality, qualityName, subStatusName } from '../../../src/domain/quality.js';
import { severity, STATUS_QUALITY, statusName, statusToQuality, writeStatusToProblem } from '../../../src/drivers/opcua/status-mapping.js';

describe('OPC UA StatusCode → quality byte', () => {
  it('writes out the same numeric codes as node-opcua', () => {
    for (const [name, code] of STATUS_QUALITY) {
      const sc = (StatusCodes as unknown as Record<string, { value: number } | undefined>)[name];
      expect(sc, name).toBeDefined();
      expect(sc!.value >>> 0, name).toBe(code);
    }
  });

  it.each([
    ['Good', Quality.GOOD, 'GOOD', 'NON_SPECIFIC'],
    ['GoodLocalOverride', Quality.GOOD_LOCAL_OVERRIDE, 'GOOD', 'LOCAL_OVERRIDE'],
    ['Uncertain', Quality.UNCERTAIN, 'UNCERTAIN', 'NON_SPECIFIC'],
    ['UncertainLastUsableValue', Quality.UNCERTAIN_LAST_USABLE_VALUE, 'UNCERTAIN', 'LAST_USABLE_VALUE'],
    ['UncertainInitialValue', Quality.UNCERTAIN_INITIAL_VALUE, 'UNCERTAIN', 'INITIAL_VALUE'],
    ['UncertainEngineeringUnitsExceeded', Quality.UNCERTAIN_EU_RANGE_VIOLATION, 'UNCERTAIN', 'ENGINEERING_UNIT_RANGE_VIOLATION'],
    ['Bad', Quality.BAD, 'BAD', 'NON_SPECIFIC'],
    ['BadNotConnected', 0x08, 'BAD', 'NOT_CONNECTED'],
    ['BadCommunicationError', 0x18, 'BAD', 'NO_COMMUNICATION_NO_USABLE_VALUE'],
    ['BadNoCommunication', 0x18, 'BAD', 'NO_COMMUNICATION_NO_USABLE_VALUE'],
    ['BadOutOfService', 0x1c, 'BAD', 'OUT_OF_SERVICE'],
    ['BadConfigurationError', 0x04, 'BAD', 'CONFIGURATION_ERROR'],
    ['BadNodeIdUnknown', 0x04, 'BAD', 'CONFIGURATION_ERROR'],
    ['BadDeviceFailure', 0x0c, 'BAD', 'DEVICE_FAILURE'],
    ['BadSensorFailure', 0x10, 'BAD', 'SENSOR_FAILURE'],
    ['BadSessionClosed', 0x08, 'BAD', 'NOT_CONNECTED'],
  ] as const)('%s → 0x%s', (name, quality, qn, sub) => {
    const code = (StatusCodes as unknown as Record<string, { value: number }>)[name]!.value;
    expect(statusToQuality(code)).toBe(quality);
    expect(qualityName(statusToQuality(code))).toBe(qn);
    expect(subStatusName(statusToQuality(code))).toBe(sub);
  });

  it('never raises the severity: any Bad code is BAD, any Uncertain code UNCERTAIN, any Good code GOOD', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (status) => {
        const q = statusToQuality(status);
        const expected = { Good: 'GOOD', Uncertain: 'UNCERTAIN', Bad: 'BAD' }[severity(status)];
        expect(qualityName(q)).toBe(expected);
      }),
    );
  });

  it('carries the limit bits of a DataValue status into LL', () => {
    const infoDataValue = 0x400;
    expect(statusToQuality(0x00000000 | infoDataValue | 0x100)).toBe(Quality.GOOD | 1); // low limited
    expect(statusToQuality(0x00000000 | infoDataValue | 0x200)).toBe(Quality.GOOD | 2); // high limited
    expect(statusToQuality(0x80000000 | infoDataValue | 0x300)).toBe(Quality.BAD | 3); // constant
    // Without InfoType = DataValue the bits mean nothing.
    expect(statusToQuality(0x00000300)).toBe(Quality.GOOD);
  });

  it('names codes and maps write refusals to API problems', () => {
    expect(statusName(StatusCodes.BadNodeIdUnknown.value)).toBe('BadNodeIdUnknown (0x80340000)');
    expect(statusName(0x81230000)).toBe('0x81230000');
    expect(writeStatusToProblem(StatusCodes.BadTypeMismatch.value)).toBe('TYPE_MISMATCH');
    expect(writeStatusToProblem(StatusCodes.BadOutOfRange.value)).toBe('OUT_OF_RANGE');
    expect(writeStatusToProblem(StatusCodes.BadNotWritable.value)).toBe('READ_ONLY');
    expect(writeStatusToProblem(StatusCodes.BadUserAccessDenied.value)).toBe('READ_ONLY');
    expect(writeStatusToProblem(StatusCodes.BadTimeout.value)).toBe('DEVICE_TIMEOUT');
    expect(writeStatusToProblem(StatusCodes.BadNotConnected.value)).toBe('DEVICE_UNAVAILABLE');
  });
});
