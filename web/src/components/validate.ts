import { coerceValue } from '../../../src/domain/coerce.js';
import type { TagType } from '../../../src/domain/tag-types.js';

export type Parsed = { ok: true; value: boolean | number | string } | { ok: false; message: string };

export interface InputLimits {
  min?: number | string | undefined;
  max?: number | string | undefined;
}

const BIG = new Set(['Int64', 'UInt64']);

/** The kind of input a tag type gets: a switch, a number field, text, a date-time picker. */
export function inputKind(type: string): 'switch' | 'number' | 'integer-text' | 'text' | 'datetime' {
  if (type === 'Bool') return 'switch';
  if (BIG.has(type)) return 'integer-text';
  if (type === 'String') return 'text';
  if (type === 'DateTime') return 'datetime';
  return 'number';
}

/**
 * Turns what the user typed into the wire value of the tag's type and checks it with the server's own coercion rules
 * (src/domain/coerce.ts: the same strictness, ranges and limits), so most refusals are caught before sending. The
 * server still decides: it knows rules the page does not (a String's maximum length, the device's answer).
 */
export function parseInput(type: string, raw: string | boolean, limits: InputLimits = {}): Parsed {
  let candidate: unknown = raw;
  switch (inputKind(type)) {
    case 'switch':
      candidate = raw === true || raw === 'true';
      break;
    case 'number': {
      const s = String(raw).trim();
      if (s === '') return { ok: false, message: 'Enter a number' };
      // The same strictness as the API: '1e3' and '0x10' are not what an operator means by a number field.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return { ok: false, message: `'${s}' is not a number` };
      candidate = Number(s);
      break;
    }
    case 'integer-text': {
      const s = String(raw).trim();
      if (s === '') return { ok: false, message: 'Enter a whole number' };
      candidate = s;
      break;
    }
    case 'datetime': {
      const s = String(raw).trim();
      if (s === '') return { ok: false, message: 'Enter a date and time' };
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) return { ok: false, message: `'${s}' is not a date and time` };
      candidate = new Date(ms).toISOString();
      break;
    }
    default:
      candidate = String(raw);
  }
  const r = coerceValue(type as TagType, candidate, limits);
  return r.ok ? { ok: true, value: r.value } : { ok: false, message: r.message };
}
