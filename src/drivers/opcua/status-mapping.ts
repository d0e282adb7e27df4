import type { ProblemCode } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';

/**
 * OPC UA StatusCode (Part 4, 7.39; Part 8, A.4.3) → Tagway quality byte `QQSSSSLL`.
 *
 * The top two bits of a StatusCode give the severity (00 Good, 01 Uncertain, 10/11 Bad); the next 14 bits the
 * sub-code. Sub-codes that have an OPC DA / WinCC counterpart map to it; any other code keeps its severity with
 * sub-status NON_SPECIFIC, so an unknown Bad code can never turn into GOOD. When the InfoType bits say
 * "DataValue", the OPC UA limit bits (Low/High/Constant) become the LL bits.
 *
 * Numeric codes are written out (they are fixed by the standard) so that this table loads without node-opcua;
 * a unit test checks every one against node-opcua's `StatusCodes`.
 */
export const STATUS_QUALITY: ReadonlyArray<readonly [name: string, code: number, quality: number]> = [
  ['Good', 0x00000000, Quality.GOOD],
  ['GoodLocalOverride', 0x00960000, Quality.GOOD_LOCAL_OVERRIDE],

  ['Uncertain', 0x40000000, Quality.UNCERTAIN],
  ['UncertainLastUsableValue', 0x40900000, Quality.UNCERTAIN_LAST_USABLE_VALUE],
  ['UncertainNoCommunicationLastUsableValue', 0x408f0000, Quality.UNCERTAIN_LAST_USABLE_VALUE],
  ['UncertainSubstituteValue', 0x40910000, Quality.UNCERTAIN_SUBSTITUTE_SET],
  ['UncertainInitialValue', 0x40920000, Quality.UNCERTAIN_INITIAL_VALUE],
  ['UncertainSensorNotAccurate', 0x40930000, Quality.UNCERTAIN_SENSOR_NOT_ACCURATE],
  ['UncertainEngineeringUnitsExceeded', 0x40940000, Quality.UNCERTAIN_EU_RANGE_VIOLATION],
  ['UncertainSubNormal', 0x40950000, Quality.UNCERTAIN_SUB_NORMAL],
  ['UncertainDataSubNormal', 0x40a40000, Quality.UNCERTAIN_SUB_NORMAL],
  ['UncertainSimulatedValue', 0x42090000, Quality.UNCERTAIN_SIMULATED_VALUE],
  ['UncertainSensorCalibration', 0x420a0000, 0x64],
  ['UncertainConfigurationError', 0x420f0000, 0x5c],

  ['Bad', 0x80000000, Quality.BAD],
  // The address or the node is wrong: fixing it is a configuration matter.
  ['BadConfigurationError', 0x80890000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadNodeIdUnknown', 0x80340000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadNodeIdInvalid', 0x80330000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadAttributeIdInvalid', 0x80350000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadNotReadable', 0x803a0000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadUserAccessDenied', 0x801f0000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadTypeMismatch', 0x80740000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadIndexRangeInvalid', 0x80360000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadDataEncodingUnsupported', 0x80390000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadNotSupported', 0x803d0000, Quality.BAD_CONFIGURATION_ERROR],
  ['BadMonitoredItemFilterUnsupported', 0x80440000, Quality.BAD_CONFIGURATION_ERROR],
  // The link (server ↔ us, or server ↔ field device) is down.
  ['BadNotConnected', 0x808a0000, Quality.BAD_NOT_CONNECTED],
  ['BadServerNotConnected', 0x800d0000, Quality.BAD_NOT_CONNECTED],
  ['BadSessionClosed', 0x80260000, Quality.BAD_NOT_CONNECTED],
  ['BadSecureChannelClosed', 0x80860000, Quality.BAD_NOT_CONNECTED],
  ['BadConnectionClosed', 0x80ae0000, Quality.BAD_NOT_CONNECTED],
  ['BadDisconnect', 0x80ad0000, Quality.BAD_NOT_CONNECTED],
  ['BadServerHalted', 0x800e0000, Quality.BAD_NOT_CONNECTED],
  ['BadShutdown', 0x800c0000, Quality.BAD_NOT_CONNECTED],
  ['BadDeviceFailure', 0x808b0000, Quality.BAD_DEVICE_FAILURE],
  ['BadSensorFailure', 0x808c0000, Quality.BAD_SENSOR_FAILURE],
  ['BadNoCommunication', 0x80310000, Quality.BAD_NO_COMMUNICATION],
  ['BadCommunicationError', 0x80050000, Quality.BAD_NO_COMMUNICATION],
  ['BadTimeout', 0x800a0000, Quality.BAD_NO_COMMUNICATION],
  ['BadRequestTimeout', 0x80850000, Quality.BAD_NO_COMMUNICATION],
  ['BadWaitingForInitialData', 0x80320000, Quality.BAD_NO_COMMUNICATION],
  ['BadDataUnavailable', 0x809e0000, Quality.BAD_NO_COMMUNICATION],
  ['BadOutOfService', 0x808d0000, Quality.BAD_OUT_OF_SERVICE],
];

// `>>> 0` everywhere: JavaScript's `&` answers a signed 32-bit number, and Bad codes have the top bit set.
const subCode = (status: number): number => (status & 0xffff0000) >>> 0;
const BY_SUBCODE = new Map<number, number>(STATUS_QUALITY.map(([, code, q]) => [subCode(code), q]));
const NAME_BY_SUBCODE = new Map<number, string>(STATUS_QUALITY.map(([name, code]) => [subCode(code), name]));

/** Severity of a StatusCode: the two top bits. */
export function severity(status: number): 'Good' | 'Uncertain' | 'Bad' {
  const s = (status >>> 30) & 0x3;
  return s === 0 ? 'Good' : s === 1 ? 'Uncertain' : 'Bad';
}

export function statusToQuality(status: number): number {
  let q = BY_SUBCODE.get(subCode(status));
  if (q === undefined) {
    const sev = severity(status);
    q = sev === 'Good' ? Quality.GOOD : sev === 'Uncertain' ? Quality.UNCERTAIN : Quality.BAD;
  }
  // InfoType (bits 10–11) = 01 means the limit bits (8–9) are valid: 1 Low, 2 High, 3 Constant, the same order
  // as the quality byte's LL bits.
  if (((status >>> 10) & 0x3) === 1) q |= (status >>> 8) & 0x3;
  return q;
}

/** A readable name for a status code (for log lines and error messages). */
export function statusName(status: number): string {
  const name = NAME_BY_SUBCODE.get(subCode(status));
  const hex = '0x' + (status >>> 0).toString(16).padStart(8, '0');
  return name ? `${name} (${hex})` : hex;
}

/**
 * The API problem for a write the server refused. A refusal because of the link is DEVICE_UNAVAILABLE / TIMEOUT;
 * a node that cannot take the value is TYPE_MISMATCH / OUT_OF_RANGE / READ_ONLY; anything else is reported as
 * DEVICE_UNAVAILABLE with the OPC UA status in the message, as the device did not accept the value.
 */
export function writeStatusToProblem(status: number): ProblemCode {
  switch (subCode(status)) {
    case 0x80740000:
      return 'TYPE_MISMATCH'; // BadTypeMismatch
    case 0x803c0000:
      return 'OUT_OF_RANGE'; // BadOutOfRange
    case 0x803b0000:
    case 0x801f0000:
    case 0x80730000: // BadNotWritable, BadUserAccessDenied, BadWriteNotSupported
      return 'READ_ONLY';
    case 0x800a0000:
    case 0x80850000:
      return 'DEVICE_TIMEOUT'; // BadTimeout, BadRequestTimeout
    default:
      return 'DEVICE_UNAVAILABLE';
  }
}
