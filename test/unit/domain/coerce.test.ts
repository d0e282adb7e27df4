import fc from 'fast-check';
import { describe as group, expect, it } from 'vitest';
import { coerceValue, DEFAULT_MAX_STRING_LENGTH, describe, parseIsoDateTime, type CoerceResult } from '../../../src/domain/coerce.js';
import { BIG_INTEGER_RANGES, INTEGER_RANGES, TAG_TYPES, type TagType } from '../../../src/domain/tag-types.js';

const SMALL_INTS = ['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32'] as const;
const BIG_INTS = ['Int64', 'UInt64'] as const;
const NUMERIC = [...SMALL_INTS, ...BIG_INTS, 'Float32', 'Float64'] as const;

function ok(r: CoerceResult): unknown {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r.value;
}
function code(r: CoerceResult): string {
  return r.ok ? `ok(${JSON.stringify(r.value)})` : r.code;
}

group('coerceValue: Bool', () => {
  it('accepts true and false unchanged', () => {
    expect(coerceValue('Bool', true)).toEqual({ ok: true, value: true });
    expect(coerceValue('Bool', false)).toEqual({ ok: true, value: false });
  });
  it.each([0, 1, 'true', 'false', null, undefined, [], {}, [true]])('refuses %j', (v) => {
    expect(code(coerceValue('Bool', v))).toBe('TYPE_MISMATCH');
  });
});

group('coerceValue: 8–32-bit integers', () => {
  it.each(SMALL_INTS)('%s accepts its extremes and refuses one beyond', (t) => {
    const r = INTEGER_RANGES[t];
    expect(ok(coerceValue(t, r.min))).toBe(r.min);
    expect(ok(coerceValue(t, r.max))).toBe(r.max);
    expect(code(coerceValue(t, r.min - 1))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue(t, r.max + 1))).toBe('OUT_OF_RANGE');
  });

  it('has the exact ranges of the contract', () => {
    expect(INTEGER_RANGES).toEqual({
      Int8: { min: -128, max: 127 },
      UInt8: { min: 0, max: 255 },
      Int16: { min: -32768, max: 32767 },
      UInt16: { min: 0, max: 65535 },
      Int32: { min: -2147483648, max: 2147483647 },
      UInt32: { min: 0, max: 4294967295 },
    });
  });

  it('refuses "12" for Int16 (no string parsing)', () => {
    const r = coerceValue('Int16', '12');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('TYPE_MISMATCH');
      expect(r.message).toBe('Int16 expects an integer number, got the string "12"');
    }
  });

  it('refuses 40000 for Int16 with OUT_OF_RANGE', () => {
    const r = coerceValue('Int16', 40000);
    expect(r).toEqual({ ok: false, code: 'OUT_OF_RANGE', message: '40000 is outside the Int16 range -32768…32767' });
  });

  it.each(SMALL_INTS)('%s refuses 1.5, -0.5, NaN, ±Infinity with TYPE_MISMATCH', (t) => {
    for (const v of [1.5, -0.5, 1e-9, NaN, Infinity, -Infinity]) expect(code(coerceValue(t, v))).toBe('TYPE_MISMATCH');
  });

  it.each(SMALL_INTS)('%s refuses null, arrays, objects, booleans, bigint', (t) => {
    for (const v of [null, undefined, [1], [], { value: 1 }, {}, true, 1n]) expect(code(coerceValue(t, v))).toBe('TYPE_MISMATCH');
  });

  it('normalises -0 to 0', () => {
    const v = ok(coerceValue('Int16', -0));
    expect(Object.is(v, 0)).toBe(true);
    expect(Object.is(ok(coerceValue('UInt8', -0)), 0)).toBe(true);
  });

  it('applies inclusive min/max limits (numbers or decimal strings)', () => {
    const limits = { min: -10, max: 20 };
    expect(ok(coerceValue('Int16', -10, limits))).toBe(-10);
    expect(ok(coerceValue('Int16', 20, limits))).toBe(20);
    expect(coerceValue('Int16', -11, limits)).toEqual({ ok: false, code: 'OUT_OF_RANGE', message: '-11 is below the minimum -10' });
    expect(coerceValue('Int16', 21, limits)).toEqual({ ok: false, code: 'OUT_OF_RANGE', message: '21 is above the maximum 20' });
    expect(code(coerceValue('Int32', 5, { min: '6' }))).toBe('OUT_OF_RANGE');
    expect(ok(coerceValue('Int32', 6, { min: '6' }))).toBe(6);
  });

  it('checks the type range before the limits', () => {
    // A limit wider than the type does not widen the type.
    expect(code(coerceValue('UInt8', 300, { max: 1000 }))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('UInt8', 1.5, { max: 1000 }))).toBe('TYPE_MISMATCH');
  });
});

group('coerceValue: 64-bit integers', () => {
  it('accepts the 64-bit extremes as strings', () => {
    expect(ok(coerceValue('Int64', '-9223372036854775808'))).toBe('-9223372036854775808');
    expect(ok(coerceValue('Int64', '9223372036854775807'))).toBe('9223372036854775807');
    expect(ok(coerceValue('UInt64', '0'))).toBe('0');
    expect(ok(coerceValue('UInt64', '18446744073709551615'))).toBe('18446744073709551615');
  });

  it('refuses one beyond the 64-bit extremes with OUT_OF_RANGE', () => {
    expect(code(coerceValue('Int64', '-9223372036854775809'))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('Int64', '9223372036854775808'))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('UInt64', '-1'))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('UInt64', '18446744073709551616'))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('UInt64', -1))).toBe('OUT_OF_RANGE');
  });

  it('accepts safe integers as numbers and answers the canonical string', () => {
    expect(coerceValue('Int64', 42)).toEqual({ ok: true, value: '42' });
    expect(coerceValue('Int64', -42)).toEqual({ ok: true, value: '-42' });
    expect(coerceValue('Int64', -0)).toEqual({ ok: true, value: '0' });
    expect(coerceValue('Int64', Number.MAX_SAFE_INTEGER)).toEqual({ ok: true, value: '9007199254740991' });
    expect(coerceValue('Int64', Number.MIN_SAFE_INTEGER)).toEqual({ ok: true, value: '-9007199254740991' });
    expect(coerceValue('UInt64', Number.MAX_SAFE_INTEGER)).toEqual({ ok: true, value: '9007199254740991' });
  });

  it('refuses unsafe integers given as numbers with TYPE_MISMATCH', () => {
    for (const t of BIG_INTS) {
      expect(code(coerceValue(t, Number.MAX_SAFE_INTEGER + 1))).toBe('TYPE_MISMATCH');
      expect(code(coerceValue(t, 2 ** 63))).toBe('TYPE_MISMATCH');
      expect(code(coerceValue(t, 1e20))).toBe('TYPE_MISMATCH');
    }
    expect(code(coerceValue('Int64', Number.MIN_SAFE_INTEGER - 1))).toBe('TYPE_MISMATCH');
  });

  it.each(['01', '-0', '1e3', ' 1', '1 ', '+1', '1.0', '0x10', '', '-', '1_000', '١٢', '1\n', '--1', 'abc'])(
    'refuses the decimal string %j',
    (s) => {
      for (const t of BIG_INTS) expect(code(coerceValue(t, s))).toBe('TYPE_MISMATCH');
    },
  );

  it('refuses 1.5, NaN, Infinity, null, arrays, objects, booleans', () => {
    for (const t of BIG_INTS) {
      for (const v of [1.5, NaN, Infinity, -Infinity, null, undefined, ['1'], {}, true, 1n]) {
        expect(code(coerceValue(t, v))).toBe('TYPE_MISMATCH');
      }
    }
  });

  it('applies inclusive limits given as strings beyond 2^53', () => {
    const limits = { min: '-9223372036854775000', max: '9223372036854775000' };
    expect(ok(coerceValue('Int64', '9223372036854775000', limits))).toBe('9223372036854775000');
    expect(ok(coerceValue('Int64', '-9223372036854775000', limits))).toBe('-9223372036854775000');
    expect(code(coerceValue('Int64', '9223372036854775001', limits))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('Int64', '-9223372036854775001', limits))).toBe('OUT_OF_RANGE');
    // Precision matters: as numbers these two limits would be equal.
    expect(code(coerceValue('UInt64', '18446744073709551615', { max: '18446744073709551614' }))).toBe('OUT_OF_RANGE');
    expect(ok(coerceValue('UInt64', '18446744073709551614', { max: '18446744073709551614' }))).toBe('18446744073709551614');
  });

  it('applies limits given as numbers', () => {
    expect(ok(coerceValue('Int64', 10, { min: 10, max: 10 }))).toBe('10');
    expect(code(coerceValue('Int64', '11', { min: 10, max: 10 }))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('Int64', 9, { min: 10, max: 10 }))).toBe('OUT_OF_RANGE');
  });
});

group('coerceValue: floats', () => {
  it('accepts finite numbers unchanged', () => {
    expect(ok(coerceValue('Float64', 42.5))).toBe(42.5);
    expect(ok(coerceValue('Float64', Number.MAX_VALUE))).toBe(Number.MAX_VALUE);
    expect(ok(coerceValue('Float64', Number.MIN_VALUE))).toBe(Number.MIN_VALUE);
    expect(ok(coerceValue('Float32', 3.4028234663852886e38))).toBe(3.4028234663852886e38);
    expect(ok(coerceValue('Float32', -3.4028234663852886e38))).toBe(-3.4028234663852886e38);
    expect(Object.is(ok(coerceValue('Float64', -0)), 0)).toBe(true);
  });
  it('refuses values beyond the Float32 range with OUT_OF_RANGE', () => {
    expect(code(coerceValue('Float32', 3.5e38))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('Float32', -1e39))).toBe('OUT_OF_RANGE');
    expect(ok(coerceValue('Float64', 1e39))).toBe(1e39);
  });
  it('refuses NaN, Infinity, strings, null, arrays, objects', () => {
    for (const t of ['Float32', 'Float64'] as const) {
      for (const v of [NaN, Infinity, -Infinity, '1.5', '', null, undefined, [1.5], {}, true]) {
        expect(code(coerceValue(t, v))).toBe('TYPE_MISMATCH');
      }
    }
  });
  it('applies inclusive limits', () => {
    expect(ok(coerceValue('Float64', 0.5, { min: 0.5, max: 1.5 }))).toBe(0.5);
    expect(ok(coerceValue('Float64', 1.5, { min: 0.5, max: 1.5 }))).toBe(1.5);
    expect(code(coerceValue('Float64', 0.49, { min: 0.5, max: 1.5 }))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('Float32', 1.51, { min: 0.5, max: 1.5 }))).toBe('OUT_OF_RANGE');
  });
});

group('coerceValue: String', () => {
  it('accepts strings unchanged, including empty and unicode', () => {
    for (const s of ['', 'hello', '12', 'Ünïcødé ✓', ' ']) expect(ok(coerceValue('String', s))).toBe(s);
  });
  it('refuses non-strings', () => {
    for (const v of [12, true, null, undefined, ['a'], { a: 1 }]) expect(code(coerceValue('String', v))).toBe('TYPE_MISMATCH');
  });
  it('applies maxLength (inclusive) and a default maximum', () => {
    expect(ok(coerceValue('String', 'abc', { maxLength: 3 }))).toBe('abc');
    expect(code(coerceValue('String', 'abcd', { maxLength: 3 }))).toBe('OUT_OF_RANGE');
    expect(DEFAULT_MAX_STRING_LENGTH).toBe(65_535);
    expect(code(coerceValue('String', 'x'.repeat(65_535)))).toBe(`ok(${JSON.stringify('x'.repeat(65_535))})`);
    expect(code(coerceValue('String', 'x'.repeat(65_536)))).toBe('OUT_OF_RANGE');
  });
});

group('coerceValue: DateTime', () => {
  it('normalises to UTC ISO 8601 with milliseconds', () => {
    expect(ok(coerceValue('DateTime', '2026-11-25T04:00:00.123Z'))).toBe('2026-11-25T04:00:00.123Z');
    expect(ok(coerceValue('DateTime', '2026-11-25T04:00:00Z'))).toBe('2026-11-25T04:00:00.000Z');
    expect(ok(coerceValue('DateTime', '2026-11-25T04:00Z'))).toBe('2026-11-25T04:00:00.000Z');
    expect(ok(coerceValue('DateTime', '2026-11-25T05:30:00.5+01:30'))).toBe('2026-11-25T04:00:00.500Z');
    expect(ok(coerceValue('DateTime', '2026-11-24T23:00:00-05:00'))).toBe('2026-11-25T04:00:00.000Z');
    expect(ok(coerceValue('DateTime', '2026-01-01T00:00:00.123456789Z'))).toBe('2026-01-01T00:00:00.123Z');
    expect(ok(coerceValue('DateTime', '2024-02-29T12:00:00Z'))).toBe('2024-02-29T12:00:00.000Z');
  });

  it('accepts the extremes of years 0001…9999 and refuses beyond', () => {
    expect(ok(coerceValue('DateTime', '0001-01-01T00:00:00.000Z'))).toBe('0001-01-01T00:00:00.000Z');
    expect(ok(coerceValue('DateTime', '9999-12-31T23:59:59.999Z'))).toBe('9999-12-31T23:59:59.999Z');
    expect(code(coerceValue('DateTime', '0001-01-01T00:00:00+00:01'))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('DateTime', '9999-12-31T23:59:59-00:01'))).toBe('OUT_OF_RANGE');
    expect(code(coerceValue('DateTime', '0000-06-01T00:00:00Z'))).toBe('OUT_OF_RANGE');
    // Year 0 is a leap year in the proleptic Gregorian calendar: out of range, not an invalid date.
    expect(code(coerceValue('DateTime', '0000-02-29T00:00:00Z'))).toBe('OUT_OF_RANGE');
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T00:00:00',
    '2026-01-01',
    '2026-01-01 00:00:00Z',
    '2026-01-01t00:00:00z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00+01:60',
    '2026-01-01T00:00:00+0100',
    '2026-1-1T00:00:00Z',
    '+002026-01-01T00:00:00Z',
    ' 2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00Z ',
    '2026-01-01T00:00:00.Z',
    '2026-01-01T00:00:00.1234567890Z',
    'now',
    '',
  ])('refuses %j with TYPE_MISMATCH', (s) => {
    expect(code(coerceValue('DateTime', s))).toBe('TYPE_MISMATCH');
  });

  it('refuses non-strings (epoch numbers, Date-like objects, null)', () => {
    for (const v of [0, 1767225600000, null, undefined, {}, [], true]) expect(code(coerceValue('DateTime', v))).toBe('TYPE_MISMATCH');
  });

  it('parseIsoDateTime answers epoch ms or NaN', () => {
    expect(parseIsoDateTime('1970-01-01T00:00:00Z')).toBe(0);
    expect(parseIsoDateTime('2026-02-30T00:00:00Z')).toBeNaN();
    expect(parseIsoDateTime('2026-02-28T00:00:00Z')).toBe(Date.UTC(2026, 1, 28));
  });
});

group('describe', () => {
  it('names values for messages', () => {
    expect(describe(null)).toBe('null');
    expect(describe([1])).toBe('an array');
    expect(describe({})).toBe('an object');
    expect(describe('x')).toBe('the string "x"');
    expect(describe('y'.repeat(50))).toBe(`the string ${JSON.stringify('y'.repeat(40) + '…')}`);
    expect(describe(3)).toBe('the number 3');
    expect(describe(NaN)).toBe('NaN');
    expect(describe(true)).toBe('boolean true');
    expect(describe(undefined)).toBe('undefined undefined');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const RUNS = { numRuns: 500 };

/** Any JSON-ish value of any shape. */
const anyValue = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.bigInt().map((b) => b.toString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

group('coerceValue properties', () => {
  it.each(SMALL_INTS)('%s: every integer in range is accepted unchanged', (t) => {
    const r = INTEGER_RANGES[t];
    fc.assert(
      fc.property(fc.integer({ min: r.min, max: r.max }), (v) => {
        const out = coerceValue(t, v);
        return out.ok && Object.is(out.value, v === 0 ? 0 : v);
      }),
      RUNS,
    );
  });

  it.each(SMALL_INTS)('%s: every integer outside the range is refused with OUT_OF_RANGE', (t) => {
    const r = INTEGER_RANGES[t];
    const outside = fc.oneof(
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: r.min - 1 }),
      fc.integer({ min: r.max + 1, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(r.min - 1, r.max + 1, 1e300, -1e300),
    );
    fc.assert(
      fc.property(outside, (v) => code(coerceValue(t, v)) === 'OUT_OF_RANGE'),
      RUNS,
    );
  });

  it.each([...SMALL_INTS, ...BIG_INTS])('%s: every non-integer number is refused with TYPE_MISMATCH', (t) => {
    const nonInteger = fc.double().filter((d) => !Number.isInteger(d));
    fc.assert(
      fc.property(nonInteger, (v) => code(coerceValue(t, v)) === 'TYPE_MISMATCH'),
      RUNS,
    );
  });

  it.each(BIG_INTS)('%s: every integer in range round-trips through its decimal string and BigInt', (t) => {
    const r = BIG_INTEGER_RANGES[t];
    fc.assert(
      fc.property(fc.bigInt({ min: r.min, max: r.max }), (b) => {
        const out = coerceValue(t, b.toString());
        return out.ok && out.value === b.toString() && BigInt(out.value) === b;
      }),
      RUNS,
    );
  });

  it.each(BIG_INTS)('%s: every integer outside the range is refused with OUT_OF_RANGE', (t) => {
    const r = BIG_INTEGER_RANGES[t];
    const outside = fc.oneof(fc.bigInt({ max: r.min - 1n }), fc.bigInt({ min: r.max + 1n }));
    fc.assert(
      fc.property(outside, (b) => code(coerceValue(t, b.toString())) === 'OUT_OF_RANGE'),
      RUNS,
    );
  });

  it.each(BIG_INTS)('%s: every safe integer number gives the same result as its decimal string', (t) => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const a = coerceValue(t, n);
        const b = coerceValue(t, String(n === 0 ? 0 : n));
        return a.ok === b.ok && (a.ok ? b.ok && a.value === b.value && a.value === BigInt(n).toString() : !b.ok && a.code === b.code);
      }),
      RUNS,
    );
  });

  it('any string is refused by the 8–32-bit and float types', () => {
    const types = [...SMALL_INTS, 'Float32', 'Float64'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.string(), (t, s) => code(coerceValue(t, s)) === 'TYPE_MISMATCH'),
      RUNS,
    );
  });

  it('a string that is not a canonical decimal integer is refused by Int64/UInt64', () => {
    const nonCanonical = fc.string().filter((s) => !/^-?(0|[1-9][0-9]*)$/.test(s) || s === '-0');
    fc.assert(
      fc.property(fc.constantFrom(...BIG_INTS), nonCanonical, (t, s) => code(coerceValue(t, s)) === 'TYPE_MISMATCH'),
      RUNS,
    );
  });

  it('only the Bool type accepts booleans, only String/64-bit/DateTime accept strings', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAG_TYPES), fc.boolean(), (t, b) => coerceValue(t, b).ok === (t === 'Bool')),
      RUNS,
    );
  });

  it('coerce is idempotent: coerce(coerce(x)) === coerce(x) for every type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAG_TYPES), anyValue, (t: TagType, v) => {
        const once = coerceValue(t, v);
        if (!once.ok) return true;
        const twice = coerceValue(t, once.value);
        return twice.ok && Object.is(twice.value, once.value);
      }),
      { numRuns: 1000 },
    );
  });

  it('coerce never throws and always answers a known code', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAG_TYPES), fc.anything(), (t, v) => {
        const r = coerceValue(t, v);
        return r.ok || r.code === 'TYPE_MISMATCH' || r.code === 'OUT_OF_RANGE';
      }),
      RUNS,
    );
  });

  it('DateTime: every Date in 0001…9999 round-trips via toISOString', () => {
    const dates = fc.date({ min: new Date(-62135596800000), max: new Date(253402300799999), noInvalidDate: true });
    fc.assert(
      fc.property(dates, (d) => {
        const out = coerceValue('DateTime', d.toISOString());
        return out.ok && out.value === d.toISOString() && Date.parse(out.value as string) === d.getTime();
      }),
      { numRuns: 1000 },
    );
  });

  it('DateTime: the same instant written with any whole-minute offset normalises to the same UTC string', () => {
    const dates = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true });
    const offsets = fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 });
    fc.assert(
      fc.property(dates, offsets, (d, off) => {
        const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, -1); // wall clock at that offset
        const sign = off < 0 ? '-' : '+';
        const a = Math.abs(off);
        const zone = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
        const out = coerceValue('DateTime', local + zone);
        return out.ok && out.value === d.toISOString();
      }),
      RUNS,
    );
  });

  it('numeric types refuse every non-number that is not a string', () => {
    const nonNumbers = fc.oneof(fc.constant(null), fc.boolean(), fc.array(fc.anything(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
    fc.assert(
      fc.property(fc.constantFrom(...NUMERIC), nonNumbers, (t, v) => code(coerceValue(t, v)) === 'TYPE_MISMATCH'),
      RUNS,
    );
  });
});
