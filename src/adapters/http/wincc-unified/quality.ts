/**
 * Our quality byte (`QQSSSSLL`, the Siemens/OPC DA layout) as Unified's Quality object, and back for the quality a
 * client writes. The sub-status bits mean different things under each main quality; the tables name them with
 * Unified's enum values. A sub-status Unified has no name for is answered NON_SPECIFIC.
 */

export type MainQuality = 'BAD' | 'UNCERTAIN' | 'GOOD_NON_CASCADE' | 'GOOD_CASCADE';

export interface UnifiedQuality {
  quality: MainQuality;
  subStatus: string;
  limit: 'OK' | 'LOW_LIMIT_VIOLATION' | 'HIGH_LIMIT_VIOLATION' | 'CONSTANT';
  extendedSubStatus: 'NON_SPECIFIC';
  sourceQuality: boolean;
  sourceTime: boolean;
  timeCorrected: boolean;
}

const MAIN: readonly MainQuality[] = ['BAD', 'UNCERTAIN', 'GOOD_NON_CASCADE', 'GOOD_CASCADE'];
const LIMITS = ['OK', 'LOW_LIMIT_VIOLATION', 'HIGH_LIMIT_VIOLATION', 'CONSTANT'] as const;

const SUB: Record<MainQuality, Record<number, string>> = {
  BAD: {
    0x0: 'NON_SPECIFIC',
    0x1: 'CONFIGURATION_ERROR',
    0x2: 'NOT_CONNECTED',
    0x3: 'DEVICE_FAILURE',
    0x4: 'SENSOR_FAILURE',
    0x5: 'NO_COMMUNICATION_WITH_LAST_USABLE_VALUE',
    0x6: 'NO_COMMUNICATION_NO_USABLE_VALUE',
    0x7: 'OUT_OF_SERVICE',
    0x8: 'MAINTENANCE_REQUIRED',
  },
  UNCERTAIN: {
    0x0: 'NON_SPECIFIC',
    0x1: 'LAST_USABLE_VALUE',
    0x2: 'SUBSTITUTE_VALUE',
    0x3: 'INITIAL_VALUE',
    0x4: 'SENSOR_CONVERSION',
    0x5: 'RANGE_VIOLATION',
    0x6: 'SUB_NORMAL',
    0x7: 'CONFIG_ERROR',
    0x8: 'SIMULATED_VALUE',
    0x9: 'SENSOR_CALIBRATION',
    0xa: 'MAINTENANCE_REQUIRED',
  },
  GOOD_NON_CASCADE: {
    0x0: 'NON_SPECIFIC',
    0x1: 'UPDATE_EVENT',
    0x2: 'ADVISORY_ALARM',
    0x3: 'CRITICAL_ALARM',
    0x4: 'UNACK_UPDATE_EVENT',
    0x5: 'UNACK_ADVISORY_ALARM',
    0x6: 'UNACK_CRITICAL_ALARM',
    0x8: 'INIT_FAILSAFE',
    0x9: 'MAINTENANCE_REQUIRED',
  },
  GOOD_CASCADE: {
    0x0: 'NON_SPECIFIC',
    0x1: 'INIT_ACKED',
    0x2: 'INITREQ',
    0x3: 'NOT_INVITED',
    0x5: 'DO_NOT_SELECT',
    0x6: 'LOCAL_OVERRIDE',
    0x8: 'INIT_FAILSAFE',
  },
};

const cache = new Array<UnifiedQuality | undefined>(256);

/** The Quality object of a quality byte (objects are shared per byte value: treat them as read-only). */
export function unifiedQuality(code: number): UnifiedQuality {
  const b = code & 0xff;
  let q = cache[b];
  if (!q) {
    const main = MAIN[b >> 6]!;
    q = {
      quality: main,
      subStatus: SUB[main][(b >> 2) & 0xf] ?? 'NON_SPECIFIC',
      limit: LIMITS[b & 0x3]!,
      extendedSubStatus: 'NON_SPECIFIC',
      sourceQuality: true,
      sourceTime: false,
      timeCorrected: false,
    };
    cache[b] = q;
  }
  return q;
}

/** The quality byte of a QualityInput; undefined when the sub-status does not exist under that main quality. */
export function qualityByte(input: { quality: string; subStatus?: string | null | undefined }): number | undefined {
  const main = MAIN.indexOf(input.quality as MainQuality);
  if (main < 0) return undefined;
  const sub = input.subStatus ?? 'NON_SPECIFIC';
  const table = SUB[MAIN[main]!];
  const bits = Object.entries(table).find(([, name]) => name === sub)?.[0];
  if (bits === undefined) return undefined;
  return (main << 6) | (Number(bits) << 2);
}
