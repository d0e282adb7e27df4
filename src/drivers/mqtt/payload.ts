import { coerceValue, type CoerceResult } from '../../domain/coerce.js';
import { isBigIntegerType, type TagType, type TagValue } from '../../domain/tag-types.js';
import { documentAt, resolvePointer } from './json-pointer.js';

/**
 * MQTT payload ↔ tag value, strictly.
 *
 * Without a JSON pointer the payload is UTF-8 text in one exact form per type, nothing trimmed or guessed:
 *   Bool       `true` `false` `1` `0`
 *   integers   decimal digits with an optional leading `-`, no `+`, no leading zeros, no exponent
 *   floats     a JSON number (`-1.5`, `2e3`); no NaN/Infinity
 *   String     the payload as is (must be valid UTF-8)
 *   DateTime   ISO 8601 with a zone (`2026-11-25T04:00:00.000Z`)
 * With a JSON pointer the payload must be a JSON document and the designated value is coerced like a value
 * written through the API (64-bit integers as decimal strings or safe-integer numbers, DateTime as ISO strings).
 * Anything else is refused; the driver then keeps the last value with BAD CONFIGURATION_ERROR.
 */
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function refuse(message: string): CoerceResult {
  return { ok: false, code: 'TYPE_MISMATCH', message };
}

function text(payload: Uint8Array): string | undefined {
  try {
    return utf8.decode(payload);
  } catch {
    return undefined;
  }
}

export function decodePayload(type: TagType, payload: Uint8Array, pointer: readonly string[] | undefined): CoerceResult {
  const s = text(payload);
  if (s === undefined) return refuse('the payload is not valid UTF-8');
  if (pointer !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(s);
    } catch {
      return refuse('the payload is not JSON');
    }
    const v = resolvePointer(doc, pointer);
    if (v === undefined) return refuse('the JSON pointer designates nothing in the payload');
    return coerceValue(type, v);
  }
  switch (type) {
    case 'Bool':
      if (s === 'true' || s === '1') return { ok: true, value: true };
      if (s === 'false' || s === '0') return { ok: true, value: false };
      return refuse(`Bool expects true, false, 1 or 0, got ${JSON.stringify(s.slice(0, 40))}`);
    case 'String':
      return coerceValue(type, s);
    case 'DateTime':
      return coerceValue(type, s);
    case 'Float32':
    case 'Float64':
      if (!NUMBER_TEXT.test(s)) return refuse(`${type} expects a number, got ${JSON.stringify(s.slice(0, 40))}`);
      return coerceValue(type, Number(s));
    default:
      if (!INTEGER_TEXT.test(s)) return refuse(`${type} expects a decimal integer, got ${JSON.stringify(s.slice(0, 40))}`);
      return coerceValue(type, isBigIntegerType(type) ? s : Number(s));
  }
}

/** The payload published for a write: the same forms as above, so that a tag reads back what it wrote. */
export function encodePayload(type: TagType, value: TagValue, pointer: readonly string[] | undefined): string {
  if (pointer !== undefined) return JSON.stringify(documentAt(pointer, value));
  void type;
  return typeof value === 'string' ? value : String(value);
}
