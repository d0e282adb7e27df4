import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coerceValue } from '../../../src/domain/coerce.js';
import { FLOAT32_MAX, TAG_TYPES, type TagType, type TagValue } from '../../../src/domain/tag-types.js';
import { parsePointer } from '../../../src/drivers/mqtt/json-pointer.js';
import { decodePayload, encodePayload } from '../../../src/drivers/mqtt/payload.js';

const b = (s: string) => Buffer.from(s, 'utf8');

/** An arbitrary valid value of a tag type, in wire form. */
function valueOf(type: TagType): fc.Arbitrary<TagValue> {
  switch (type) {
    case 'Bool':
      return fc.boolean();
    case 'Int8':
      return fc.integer({ min: -128, max: 127 });
    case 'UInt8':
      return fc.integer({ min: 0, max: 255 });
    case 'Int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'UInt16':
      return fc.integer({ min: 0, max: 65535 });
    case 'Int32':
      return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'UInt32':
      return fc.integer({ min: 0, max: 4294967295 });
    case 'Int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
    case 'UInt64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
    case 'Float32':
      return fc.double({ min: -FLOAT32_MAX, max: FLOAT32_MAX, noNaN: true }).map((x) => (x === 0 ? 0 : x));
    case 'Float64':
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
    case 'String':
      return fc.string({ unit: 'grapheme', maxLength: 20 });
    case 'DateTime':
      return fc
        .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
        .map((d) => d.toISOString());
  }
}

describe('MQTT payloads', () => {
  it.each(TAG_TYPES)('%s: what is published reads back as the same value, plain and inside JSON', (type) => {
    const pointer = parsePointer('/data/0/v');
    if (!pointer.ok) throw new Error(pointer.message);
    fc.assert(
      fc.property(valueOf(type), (value) => {
        expect(coerceValue(type, value)).toEqual({ ok: true, value });
        expect(decodePayload(type, b(encodePayload(type, value, undefined)), undefined)).toEqual({ ok: true, value });
        expect(decodePayload(type, b(encodePayload(type, value, pointer.tokens)), pointer.tokens)).toEqual({ ok: true, value });
      }),
      { numRuns: 200 },
    );
  });

  it('reads Bool only as true, false, 1 or 0', () => {
    expect(decodePayload('Bool', b('1'), undefined)).toEqual({ ok: true, value: true });
    expect(decodePayload('Bool', b('0'), undefined)).toEqual({ ok: true, value: false });
    for (const s of ['TRUE', 'True', 'on', 'yes', '2', ' true', 'true\n', ''])
      expect(decodePayload('Bool', b(s), undefined).ok, s).toBe(false);
  });

  it('reads numbers only in their exact text form', () => {
    for (const s of ['+1', '01', '1.0', '1e2', '0x10', ' 1', '1 ', '', '-', '--1'])
      expect(decodePayload('Int32', b(s), undefined).ok, s).toBe(false);
    for (const s of ['NaN', 'Infinity', '.5', '5.', '1e', '1,5']) expect(decodePayload('Float64', b(s), undefined).ok, s).toBe(false);
    expect(decodePayload('UInt8', b('256'), undefined)).toMatchObject({ ok: false, code: 'OUT_OF_RANGE' });
    expect(decodePayload('Float32', b('1e39'), undefined)).toMatchObject({ ok: false, code: 'OUT_OF_RANGE' });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAG_TYPES), fc.uint8Array({ maxLength: 40 }), fc.boolean(), (type, bytes, json) => {
        const r = decodePayload(type, bytes, json ? ['x'] : undefined);
        if (r.ok) expect(coerceValue(type, r.value)).toEqual(r);
      }),
    );
  });

  it('refuses invalid UTF-8 and JSON where the pointer finds nothing or the wrong type', () => {
    expect(decodePayload('String', Buffer.from([0xff, 0xfe]), undefined).ok).toBe(false);
    expect(decodePayload('Float64', b('{"v":"1.5"}'), ['v']).ok).toBe(false);
    expect(decodePayload('Float64', b('not json'), ['v']).ok).toBe(false);
    expect(decodePayload('Int64', b('{"v":9007199254740993}'), ['v']).ok).toBe(false); // precision already lost in JSON
    expect(decodePayload('Int64', b('{"v":"9007199254740993"}'), ['v'])).toEqual({ ok: true, value: '9007199254740993' });
  });
});
