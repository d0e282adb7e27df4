import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coerceValue } from '../../../src/domain/coerce.js';
import { BuiltIn, variantToWire, wireToVariant } from '../../../src/drivers/opcua/values.js';

describe('OPC UA values ↔ wire values', () => {
  it('turns node-opcua [high, low] pairs into decimal strings and back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const v = wireToVariant(BuiltIn.Int64, n.toString(), 't');
        expect(variantToWire(BuiltIn.Int64, v.value)).toBe(n.toString());
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        const v = wireToVariant(BuiltIn.UInt64, n.toString(), 't');
        expect(variantToWire(BuiltIn.UInt64, v.value)).toBe(n.toString());
      }),
    );
    expect(variantToWire(BuiltIn.Int64, [0xffffffff, 0xffffffff])).toBe('-1');
    expect(variantToWire(BuiltIn.UInt64, [0xffffffff, 0xffffffff])).toBe('18446744073709551615');
  });

  it('turns DateTime into ISO strings and back', () => {
    expect(variantToWire(BuiltIn.DateTime, new Date('2026-11-25T04:00:00.123Z'))).toBe('2026-11-25T04:00:00.123Z');
    expect(wireToVariant(BuiltIn.DateTime, '2026-11-25T04:00:00.123Z', 't')).toEqual({
      dataType: BuiltIn.DateTime,
      value: new Date('2026-11-25T04:00:00.123Z'),
    });
  });

  it('writes lossless conversions and refuses the others', () => {
    expect(wireToVariant(BuiltIn.Double, 5, 't')).toEqual({ dataType: BuiltIn.Double, value: 5 });
    expect(wireToVariant(BuiltIn.Int32, '123', 't')).toEqual({ dataType: BuiltIn.Int32, value: 123 });
    expect(() => wireToVariant(BuiltIn.Byte, 300, 't')).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => wireToVariant(BuiltIn.Int16, 1.5, 't')).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
    expect(() => wireToVariant(BuiltIn.Boolean, 1, 't')).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
    expect(() => wireToVariant(BuiltIn.String, 1, 't')).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
    expect(() => wireToVariant(BuiltIn.Float, 1e39, 't')).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => wireToVariant(BuiltIn.Int32, '9007199254740993', 't')).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => wireToVariant(BuiltIn.ByteString, 'x', 't')).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
  });

  it('leaves values without a wire form to fail coercion', () => {
    expect(coerceValue('Float64', variantToWire(BuiltIn.Double, [1, 2])).ok).toBe(false);
    expect(coerceValue('String', variantToWire(BuiltIn.ByteString, Buffer.from('x'))).ok).toBe(false);
    expect(coerceValue('String', variantToWire(BuiltIn.LocalizedText, { text: 'Hallo', locale: 'de' }))).toEqual({
      ok: true,
      value: 'Hallo',
    });
  });
});
