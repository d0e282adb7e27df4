import { BIG_INTEGER_RANGES, FLOAT32_MAX, INTEGER_RANGES, type TagType, type TagValue } from './tag-types.js';

/**
 * Strict coercion of a client-supplied JSON value to a tag's type.
 *
 * Nothing is guessed: a string is never parsed as a number ("12" is not an Int16), a number is never
 * truncated (1.5 is not an integer), and a value outside the type's range is refused rather than wrapped.
 * 64-bit integers come as decimal strings (or as numbers when they are exactly representable).
 */
export type CoerceFailure = { ok: false; code: 'TYPE_MISMATCH' | 'OUT_OF_RANGE'; message: string };
export type CoerceResult = { ok: true; value: TagValue } | CoerceFailure;

export interface ValueLimits {
  /** Inclusive engineering limits; numbers, or decimal strings for 64-bit types. */
  min?: number | string | undefined;
  max?: number | string | undefined;
  /** Longest accepted String value in characters. */
  maxLength?: number | undefined;
}

export const DEFAULT_MAX_STRING_LENGTH = 65_535;

const INTEGER_STRING = /^-?(0|[1-9][0-9]*)$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

function mismatch(type: TagType, value: unknown, expected: string): CoerceFailure {
  return { ok: false, code: 'TYPE_MISMATCH', message: `${type} expects ${expected}, got ${describe(value)}` };
}

function outOfRange(message: string): CoerceFailure {
  return { ok: false, code: 'OUT_OF_RANGE', message };
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : String(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function coerceValue(type: TagType, value: unknown, limits: ValueLimits = {}): CoerceResult {
  switch (type) {
    case 'Bool':
      return typeof value === 'boolean' ? { ok: true, value } : mismatch(type, value, 'true or false');
    case 'Int8':
    case 'UInt8':
    case 'Int16':
    case 'UInt16':
    case 'Int32':
    case 'UInt32': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return mismatch(type, value, 'an integer number');
      if (!Number.isInteger(value)) return mismatch(type, value, 'an integer number');
      const r = INTEGER_RANGES[type];
      if (value < r.min || value > r.max) return outOfRange(`${value} is outside the ${type} range ${r.min}…${r.max}`);
      return checkNumberLimits(value === 0 ? 0 : value, limits);
    }
    case 'Int64':
    case 'UInt64':
      return coerceBigInteger(type, value, limits);
    case 'Float32':
    case 'Float64': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return mismatch(type, value, 'a finite number');
      if (type === 'Float32' && Math.abs(value) > FLOAT32_MAX) return outOfRange(`${value} is outside the Float32 range ±${FLOAT32_MAX}`);
      return checkNumberLimits(value === 0 ? 0 : value, limits);
    }
    case 'String': {
      if (typeof value !== 'string') return mismatch(type, value, 'a string');
      const max = limits.maxLength ?? DEFAULT_MAX_STRING_LENGTH;
      if (value.length > max) return outOfRange(`the string is ${value.length} characters long; at most ${max} are allowed`);
      return { ok: true, value };
    }
    case 'DateTime':
      return coerceDateTime(value);
  }
}

function checkNumberLimits(value: number, limits: ValueLimits): CoerceResult {
  if (limits.min !== undefined && value < Number(limits.min)) return outOfRange(`${value} is below the minimum ${limits.min}`);
  if (limits.max !== undefined && value > Number(limits.max)) return outOfRange(`${value} is above the maximum ${limits.max}`);
  return { ok: true, value };
}

function coerceBigInteger(type: 'Int64' | 'UInt64', value: unknown, limits: ValueLimits): CoerceResult {
  let big: bigint;
  if (typeof value === 'string') {
    if (!INTEGER_STRING.test(value) || value === '-0') return mismatch(type, value, 'a decimal integer string such as "-42"');
    big = BigInt(value);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      return mismatch(type, value, 'an integer; numbers beyond ±2^53 lose precision in JSON, send them as a decimal string');
    }
    big = BigInt(value);
  } else {
    return mismatch(type, value, 'a decimal integer string such as "-42"');
  }
  const r = BIG_INTEGER_RANGES[type];
  if (big < r.min || big > r.max) return outOfRange(`${big} is outside the ${type} range ${r.min}…${r.max}`);
  if (limits.min !== undefined && big < BigInt(limits.min)) return outOfRange(`${big} is below the minimum ${limits.min}`);
  if (limits.max !== undefined && big > BigInt(limits.max)) return outOfRange(`${big} is above the maximum ${limits.max}`);
  return { ok: true, value: big.toString() };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Days of a month (1-based) in the proleptic Gregorian calendar. Pure arithmetic: `Date.UTC` maps years 0–99 to 1900–1999. */
function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** Parses a strict ISO 8601 date-time with an explicit zone; answers epoch milliseconds or NaN. */
export function parseIsoDateTime(value: string): number {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  const zone = m[8]!;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return NaN;
  return Date.parse(value);
}

function coerceDateTime(value: unknown): CoerceResult {
  if (typeof value !== 'string')
    return mismatch('DateTime', value, 'an ISO 8601 date-time string with a zone, such as "2026-11-25T04:00:00.000Z"');
  const ms = parseIsoDateTime(value);
  if (Number.isNaN(ms)) return mismatch('DateTime', value, 'an ISO 8601 date-time string with a zone, such as "2026-11-25T04:00:00.000Z"');
  if (ms < -62135596800000 || ms > 253402300799999) return outOfRange(`${value} is outside the years 0001…9999`);
  return { ok: true, value: new Date(ms).toISOString() };
}
