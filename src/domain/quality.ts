/**
 * The Siemens / OPC DA quality byte `QQSSSSLL`: QQ quality (0 BAD, 1 UNCERTAIN, 2 GOOD non-cascade,
 * 3 GOOD cascade), SSSS sub-status, LL limit. Sub-status names follow WinCC Unified.
 */
export type QualityName = 'GOOD' | 'UNCERTAIN' | 'BAD';

export const Quality = {
  GOOD: 0xc0,
  GOOD_NON_CASCADE: 0x80,
  GOOD_LOCAL_OVERRIDE: 0xd8,
  BAD: 0x00,
  BAD_CONFIGURATION_ERROR: 0x04,
  BAD_NOT_CONNECTED: 0x08,
  BAD_DEVICE_FAILURE: 0x0c,
  BAD_SENSOR_FAILURE: 0x10,
  BAD_NO_COMMUNICATION_LAST_USABLE: 0x14,
  BAD_NO_COMMUNICATION: 0x18,
  BAD_OUT_OF_SERVICE: 0x1c,
  UNCERTAIN: 0x40,
  UNCERTAIN_LAST_USABLE_VALUE: 0x44,
  UNCERTAIN_SUBSTITUTE_SET: 0x48,
  UNCERTAIN_INITIAL_VALUE: 0x4c,
  UNCERTAIN_SENSOR_NOT_ACCURATE: 0x50,
  UNCERTAIN_EU_RANGE_VIOLATION: 0x54,
  UNCERTAIN_SUB_NORMAL: 0x58,
  UNCERTAIN_SIMULATED_VALUE: 0x60,
} as const;

const BAD_SUB: Record<number, string> = {
  0x0: 'NON_SPECIFIC',
  0x1: 'CONFIGURATION_ERROR',
  0x2: 'NOT_CONNECTED',
  0x3: 'DEVICE_FAILURE',
  0x4: 'SENSOR_FAILURE',
  0x5: 'NO_COMMUNICATION_WITH_LAST_USABLE_VALUE',
  0x6: 'NO_COMMUNICATION_NO_USABLE_VALUE',
  0x7: 'OUT_OF_SERVICE',
  0x8: 'MAINTENANCE_ALARM',
  0x9: 'PROCESS_RELATED_SUBSTITUTE_VALUE',
  0xf: 'FUNCTION_CHECK_LOCAL_OVERRIDE',
};
const UNCERTAIN_SUB: Record<number, string> = {
  0x0: 'NON_SPECIFIC',
  0x1: 'LAST_USABLE_VALUE',
  0x2: 'SUBSTITUTE_SET',
  0x3: 'INITIAL_VALUE',
  0x4: 'SENSOR_CONVERSION_NOT_ACCURATE',
  0x5: 'ENGINEERING_UNIT_RANGE_VIOLATION',
  0x6: 'SUB_NORMAL',
  0x7: 'CONFIGURATION_ERROR',
  0x8: 'SIMULATED_VALUE',
  0x9: 'SENSOR_CALIBRATION',
  0xa: 'MAINTENANCE_DEMANDED',
  0xf: 'PROCESS_RELATED_SUBSTITUTE_VALUE',
};
const GOOD_NON_CASCADE_SUB: Record<number, string> = {
  0x0: 'NON_SPECIFIC',
  0x1: 'ACTIVE_BLOCK_ALARM',
  0x2: 'ACTIVE_ADVISORY_ALARM',
  0x3: 'ACTIVE_CRITICAL_ALARM',
  0x4: 'UNACKNOWLEDGED_BLOCK_ALARM',
  0x5: 'UNACKNOWLEDGED_ADVISORY_ALARM',
  0x6: 'UNACKNOWLEDGED_CRITICAL_ALARM',
  0x8: 'INITIATE_FAIL_SAFE',
  0x9: 'MAINTENANCE_DEMANDED',
};
const GOOD_CASCADE_SUB: Record<number, string> = {
  0x0: 'NON_SPECIFIC',
  0x1: 'INITIALIZATION_ACKNOWLEDGED',
  0x2: 'INITIALIZATION_REQUEST',
  0x3: 'NOT_INVITED',
  0x5: 'DO_NOT_SELECT',
  0x6: 'LOCAL_OVERRIDE',
  0x8: 'INITIATE_FAULT_STATE',
};

export function isGood(code: number): boolean {
  return (code & 0xc0) >= 0x80;
}

export function qualityName(code: number): QualityName {
  const qq = code & 0xc0;
  return qq >= 0x80 ? 'GOOD' : qq === 0x40 ? 'UNCERTAIN' : 'BAD';
}

export function subStatusName(code: number): string {
  const sub = (code >> 2) & 0xf;
  const qq = code & 0xc0;
  const table = qq === 0xc0 ? GOOD_CASCADE_SUB : qq === 0x80 ? GOOD_NON_CASCADE_SUB : qq === 0x40 ? UNCERTAIN_SUB : BAD_SUB;
  return table[sub] ?? `SUB_STATUS_${sub}`;
}

export const LIMIT_NAMES = ['OK', 'LOW_LIMITED', 'HIGH_LIMITED', 'CONSTANT'] as const;

export function limitName(code: number): (typeof LIMIT_NAMES)[number] {
  return LIMIT_NAMES[code & 0x3]!;
}
