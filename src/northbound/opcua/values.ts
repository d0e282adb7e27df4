import { coerceStatusCode, type StatusCode } from 'node-opcua';
import { Quality } from '../../domain/quality.js';
import type { TagType, TagValue } from '../../domain/tag-types.js';
import { STATUS_QUALITY } from '../../drivers/opcua/status-mapping.js';
import { BuiltIn } from '../../drivers/opcua/values.js';

/** The OPC UA built-in type (Part 6, 5.1.2) of each tag type. */
export const BUILT_IN_OF: Readonly<Record<TagType, number>> = {
  Bool: BuiltIn.Boolean,
  Int8: BuiltIn.SByte,
  UInt8: BuiltIn.Byte,
  Int16: BuiltIn.Int16,
  UInt16: BuiltIn.UInt16,
  Int32: BuiltIn.Int32,
  UInt32: BuiltIn.UInt32,
  Int64: BuiltIn.Int64,
  UInt64: BuiltIn.UInt64,
  Float32: BuiltIn.Float,
  Float64: BuiltIn.Double,
  String: BuiltIn.String,
  DateTime: BuiltIn.DateTime,
};

/**
 * A tag's wire value as node-opcua holds a value of the tag's built-in type: 64-bit integers as `[high, low]`
 * UInt32 pairs (the decimal string is exact; a JS number would not be), DateTime as Date. The value is already
 * valid for its type (the tag engine coerced it), so this converts and never checks.
 */
export function toOpcUaValue(type: TagType, value: TagValue): unknown {
  switch (type) {
    case 'Int64':
    case 'UInt64': {
      let u: bigint;
      try {
        u = BigInt.asUintN(64, BigInt(value as string | number));
      } catch {
        u = 0n;
      }
      return [Number(u >> 32n), Number(u & 0xffffffffn)];
    }
    case 'DateTime':
      return new Date(value as string);
    default:
      return value;
  }
}

// The quality byte without its limit bits → the first StatusCode of the driver's table that maps to it, so that a
// value read by the OPC UA driver and served again by this server keeps its status.
const STATUS_OF_QUALITY = new Map<number, number>();
for (const [, code, quality] of STATUS_QUALITY) if (!STATUS_OF_QUALITY.has(quality)) STATUS_OF_QUALITY.set(quality, code >>> 0);
// BAD "no communication, last usable value" has no OPC UA twin that stays Bad: the nearest is BadNoCommunication.
STATUS_OF_QUALITY.set(Quality.BAD_NO_COMMUNICATION_LAST_USABLE, 0x80310000);

/**
 * The StatusCode of a quality byte `QQSSSSLL`: GOOD (cascade or not) → Good, a known sub-status → its OPC UA code
 * (BAD NOT_CONNECTED → BadNotConnected, UNCERTAIN LAST_USABLE_VALUE → UncertainLastUsableValue…), any other keeps
 * its severity. Limit bits become the StatusCode's limit bits with InfoType DataValue (Part 4, 7.39).
 */
export function qualityToStatus(quality: number): number {
  const q = quality & 0xfc;
  let status = STATUS_OF_QUALITY.get(q);
  if (status === undefined) {
    const qq = q >> 6;
    status = qq >= 2 ? 0 : qq === 1 ? 0x40000000 : 0x80000000;
    if (q === Quality.GOOD_NON_CASCADE) status = 0;
  }
  const limit = quality & 0x3;
  return limit === 0 ? status : (status | 0x400 | (limit << 8)) >>> 0;
}

const STATUS_CACHE = new Map<number, StatusCode>();

/** `qualityToStatus` as node-opcua's StatusCode object, one per quality byte (at most 256): the hot path allocates none. */
export function statusOfQuality(quality: number): StatusCode {
  let s = STATUS_CACHE.get(quality & 0xff);
  if (s === undefined) {
    s = coerceStatusCode(qualityToStatus(quality & 0xff));
    STATUS_CACHE.set(quality & 0xff, s);
  }
  return s;
}
