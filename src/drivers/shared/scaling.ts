import { TagwayError } from '../../domain/problems.js';
import { BIG_INTEGER_RANGES, FLOAT32_MAX, INTEGER_RANGES, type TagType, type TagValue } from '../../domain/tag-types.js';
import type { TagDefinition } from '../../domain/tag-definition.js';

/**
 * Linear scaling between the number a device holds (raw) and the engineering value a tag shows, and the
 * conversions between raw numbers and tag values. Shared by every driver that reads raw numbers.
 */
export type Scaling = NonNullable<TagDefinition['scaling']>;

export function validateScaling(s: Scaling | undefined): string | undefined {
  if (!s) return undefined;
  for (const k of ['rawMin', 'rawMax', 'engMin', 'engMax'] as const) {
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) return `scaling.${k} must be a finite number`;
  }
  if (s.rawMin === s.rawMax) return 'scaling.rawMin and scaling.rawMax must differ';
  if (s.engMin === s.engMax) return 'scaling.engMin and scaling.engMax must differ';
  return undefined;
}

export function rawToEng(raw: number, s: Scaling): number {
  return s.engMin + ((raw - s.rawMin) * (s.engMax - s.engMin)) / (s.rawMax - s.rawMin);
}

export function engToRaw(eng: number, s: Scaling): number {
  return s.rawMin + ((eng - s.engMin) * (s.rawMax - s.rawMin)) / (s.engMax - s.engMin);
}

/**
 * A number (or, for 64-bit types, a bigint) as a value of `type`, or undefined when it does not fit.
 * Integer types round: a scaled reading of 12.4999 is 12, not an error.
 */
export function numberToTagValue(type: TagType, n: number | bigint): TagValue | undefined {
  switch (type) {
    case 'Float32':
    case 'Float64': {
      const v = Number(n);
      if (!Number.isFinite(v) || (type === 'Float32' && Math.abs(v) > FLOAT32_MAX)) return undefined;
      return v === 0 ? 0 : v;
    }
    case 'Int8':
    case 'UInt8':
    case 'Int16':
    case 'UInt16':
    case 'Int32':
    case 'UInt32': {
      const v = typeof n === 'bigint' ? Number(n) : Math.round(n);
      const r = INTEGER_RANGES[type];
      if (!Number.isFinite(v) || v < r.min || v > r.max) return undefined;
      return v === 0 ? 0 : v;
    }
    case 'Int64':
    case 'UInt64': {
      let b: bigint;
      if (typeof n === 'bigint') b = n;
      else {
        if (!Number.isFinite(n)) return undefined;
        b = BigInt(Math.round(n));
      }
      const r = BIG_INTEGER_RANGES[type];
      if (b < r.min || b > r.max) return undefined;
      return b.toString();
    }
    default:
      return undefined;
  }
}

/** A numeric tag value as a number (64-bit strings become bigint to keep precision). */
export function tagValueToNumber(v: TagValue): number | bigint {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return BigInt(v);
}

/**
 * The raw value to send for an engineering value: inverse scaling (when configured), then conversion to the
 * raw type. A value that does not fit the raw type is refused rather than wrapped.
 */
export function engValueToRaw(tagName: string, value: TagValue, rawType: TagType, scaling: Scaling | undefined): TagValue {
  let n = tagValueToNumber(value);
  if (scaling) n = engToRaw(Number(n), scaling);
  const raw = numberToTagValue(rawType, n);
  if (raw === undefined) {
    throw new TagwayError(
      'OUT_OF_RANGE',
      `Tag '${tagName}': ${String(value)} gives the device value ${String(n)}, outside the ${rawType} range`,
    );
  }
  return raw;
}

/** The engineering value for a raw reading, or undefined when it does not fit the tag's type. */
export function rawToTagValue(raw: number | bigint, type: TagType, scaling: Scaling | undefined): TagValue | undefined {
  if (scaling) return numberToTagValue(type, rawToEng(Number(raw), scaling));
  return numberToTagValue(type, raw);
}
