import type { TagType, TagValue } from '../tag-types.js';
import type { AlarmDefinition, AnalogAlarmDefinition, DiscreteAlarmDefinition } from './definition.js';

/**
 * A compiled condition: given the tag's value and whether the condition held after the previous value, says
 * whether it holds now. `undefined` means the value cannot be judged (NaN, wrong type); the caller then keeps the
 * previous state rather than guessing. Compiled once per definition so the hot path is one closure call.
 *
 * Hysteresis (deadband) applies on the way out: a high limit raised at `value > limit` stays raised until
 * `value <= limit - hysteresis`; a low limit until `value >= limit + hysteresis`. `==`/`!=` compare exactly;
 * a hysteresis there widens `==` to `|value - limit| <= hysteresis` while raised.
 * Delays are not a matter of the value and are handled by the engine with the Clock.
 */
export type Condition = (value: TagValue, wasActive: boolean) => boolean | undefined;

export function compileCondition(def: AlarmDefinition, tagType: TagType): Condition {
  return def.kind === 'discrete' ? compileDiscrete(def, tagType) : compileAnalog(def, tagType);
}

function compileDiscrete(def: DiscreteAlarmDefinition, tagType: TagType): Condition {
  const bit = def.bit;
  if (tagType === 'Int64' || tagType === 'UInt64') {
    // 64-bit integers travel as decimal strings; BigInt keeps every bit exact.
    const mask = bit === undefined ? undefined : 1n << BigInt(bit);
    return (v) => {
      let n: bigint;
      try {
        n = BigInt(v as string);
      } catch {
        return undefined;
      }
      return mask === undefined ? n !== 0n : (n & mask) !== 0n;
    };
  }
  if (bit === undefined) {
    return (v) => (typeof v === 'boolean' ? v : typeof v === 'number' ? (Number.isNaN(v) ? undefined : v !== 0) : undefined);
  }
  // Floor division works like an arithmetic shift on negative numbers too, so the two's-complement bits of signed
  // types come out right (bit 31 of -1 is 1) without the 32-bit truncation of `>>`.
  const div = 2 ** bit;
  return (v) => {
    if (typeof v === 'number') return Number.isInteger(v) ? Math.floor(v / div) % 2 !== 0 : undefined;
    return typeof v === 'boolean' && bit === 0 ? v : undefined;
  };
}

function numeric(tagType: TagType): (v: TagValue) => number {
  if (tagType === 'Int64' || tagType === 'UInt64') return (v) => Number(v);
  if (tagType === 'DateTime') return (v) => (typeof v === 'string' ? Date.parse(v) : NaN);
  return (v) => (typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : NaN);
}

function compileAnalog(def: AnalogAlarmDefinition, tagType: TagType): Condition {
  const num = numeric(tagType);
  const L = def.limit.value;
  const h = Math.max(0, def.hysteresis ?? 0);
  switch (def.limit.type) {
    case 'HH':
    case 'H':
    case '>':
      return (v, was) => {
        const x = num(v);
        return Number.isNaN(x) ? undefined : was ? x > L - h : x > L;
      };
    case '>=':
      return (v, was) => {
        const x = num(v);
        return Number.isNaN(x) ? undefined : was ? x >= L - h : x >= L;
      };
    case 'LL':
    case 'L':
    case '<':
      return (v, was) => {
        const x = num(v);
        return Number.isNaN(x) ? undefined : was ? x < L + h : x < L;
      };
    case '<=':
      return (v, was) => {
        const x = num(v);
        return Number.isNaN(x) ? undefined : was ? x <= L + h : x <= L;
      };
    case '==':
      return (v, was) => {
        const x = num(v);
        return Number.isNaN(x) ? undefined : was ? Math.abs(x - L) <= h : x === L;
      };
    case '!=':
      return (v, was) => {
        const x = num(v);
        return Number.isNaN(x) ? undefined : was ? Math.abs(x - L) > h : x !== L;
      };
  }
}
