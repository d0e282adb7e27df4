/**
 * The data types a tag can have, and how their values travel.
 *
 * Values are kept in their "wire" form, the form the JSON API uses, so that a read never converts:
 * Bool → boolean, 8–32-bit integers and floats → number, 64-bit integers → decimal string (JSON numbers lose
 * precision past 2^53), String → string, DateTime → ISO 8601 UTC string with milliseconds.
 */
export const TAG_TYPES = [
  'Bool',
  'Int8',
  'UInt8',
  'Int16',
  'UInt16',
  'Int32',
  'UInt32',
  'Int64',
  'UInt64',
  'Float32',
  'Float64',
  'String',
  'DateTime',
] as const;

export type TagType = (typeof TAG_TYPES)[number];

export type TagValue = boolean | number | string;

export function isTagType(s: unknown): s is TagType {
  return typeof s === 'string' && (TAG_TYPES as readonly string[]).includes(s);
}

export interface IntegerRange {
  min: number;
  max: number;
}
export interface BigIntegerRange {
  min: bigint;
  max: bigint;
}

export const INTEGER_RANGES: Readonly<Record<'Int8' | 'UInt8' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32', IntegerRange>> = {
  Int8: { min: -128, max: 127 },
  UInt8: { min: 0, max: 255 },
  Int16: { min: -32768, max: 32767 },
  UInt16: { min: 0, max: 65535 },
  Int32: { min: -2147483648, max: 2147483647 },
  UInt32: { min: 0, max: 4294967295 },
};

export const BIG_INTEGER_RANGES: Readonly<Record<'Int64' | 'UInt64', BigIntegerRange>> = {
  Int64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  UInt64: { min: 0n, max: 2n ** 64n - 1n },
};

/** Largest finite Float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export function isNumericType(t: TagType): boolean {
  return t !== 'Bool' && t !== 'String' && t !== 'DateTime';
}

export function isIntegerType(t: TagType): boolean {
  return t in INTEGER_RANGES || t in BIG_INTEGER_RANGES;
}

export function isBigIntegerType(t: TagType): t is 'Int64' | 'UInt64' {
  return t === 'Int64' || t === 'UInt64';
}

/** The default value a tag holds before anything else is known (reported with quality UNCERTAIN/INITIAL_VALUE). */
export function defaultValue(t: TagType): TagValue {
  switch (t) {
    case 'Bool':
      return false;
    case 'String':
      return '';
    case 'DateTime':
      return new Date(0).toISOString();
    case 'Int64':
    case 'UInt64':
      return '0';
    default:
      return 0;
  }
}

/** A numeric view of a value, for alarm limits, deadbands and history; NaN when the type has none. */
export function toNumber(t: TagType, v: TagValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (t === 'DateTime') return Date.parse(v);
  if (isBigIntegerType(t)) return Number(v);
  return NaN;
}
