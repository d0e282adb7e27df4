import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeNumber,
  decodeString,
  encodeNumber,
  encodeString,
  REGISTER_TYPES,
  registerWidth,
  stringProblem,
  type RegisterType,
  type WordLayout,
} from '../../../src/drivers/modbus-tcp/codec.js';

const layouts: WordLayout[] = [
  { byteOrder: 'big', wordOrder: 'big' },
  { byteOrder: 'big', wordOrder: 'little' },
  { byteOrder: 'little', wordOrder: 'big' },
  { byteOrder: 'little', wordOrder: 'little' },
];

const arb: Record<RegisterType, fc.Arbitrary<number | bigint>> = {
  Int16: fc.integer({ min: -32768, max: 32767 }),
  UInt16: fc.integer({ min: 0, max: 65535 }),
  Int32: fc.integer({ min: -2147483648, max: 2147483647 }),
  UInt32: fc.integer({ min: 0, max: 4294967295 }),
  Int64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  UInt64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  Float32: fc.float({ noNaN: true, noDefaultInfinity: true }),
  Float64: fc.double({ noNaN: true, noDefaultInfinity: true }),
};

/** Registers as a read reply carries them: two bytes each, high byte first. */
function wire(regs: number[]): Buffer {
  const b = Buffer.alloc(regs.length * 2 + 4);
  regs.forEach((r, i) => b.writeUInt16BE(r, 2 + 2 * i));
  return b;
}

describe('register codec', () => {
  for (const t of REGISTER_TYPES) {
    for (const layout of layouts) {
      it(`${t} ${layout.byteOrder}/${layout.wordOrder} round-trips`, () => {
        fc.assert(
          fc.property(arb[t], (v) => {
            const regs = encodeNumber(v, t, layout);
            expect(regs).toHaveLength(registerWidth(t));
            for (const r of regs) expect(r >= 0 && r <= 0xffff && Number.isInteger(r)).toBe(true);
            // Decoding from an odd position inside a bigger reply, as the driver does.
            expect(Object.is(decodeNumber(wire(regs), 2, t, layout), v)).toBe(true);
          }),
          { numRuns: 300 },
        );
      });
    }
  }

  it('lays words and bytes out as the device manuals describe', () => {
    // 0x11223344 as Int32: ABCD, CDAB, BADC, DCBA.
    expect(encodeNumber(0x11223344, 'Int32', { byteOrder: 'big', wordOrder: 'big' })).toEqual([0x1122, 0x3344]);
    expect(encodeNumber(0x11223344, 'Int32', { byteOrder: 'big', wordOrder: 'little' })).toEqual([0x3344, 0x1122]);
    expect(encodeNumber(0x11223344, 'Int32', { byteOrder: 'little', wordOrder: 'big' })).toEqual([0x2211, 0x4433]);
    expect(encodeNumber(0x11223344, 'Int32', { byteOrder: 'little', wordOrder: 'little' })).toEqual([0x4433, 0x2211]);
    expect(encodeNumber(1.0, 'Float32', { byteOrder: 'big', wordOrder: 'big' })).toEqual([0x3f80, 0x0000]);
  });

  const latin1 = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
  for (const byteOrder of ['big', 'little'] as const) {
    it(`String ${byteOrder} round-trips`, () => {
      fc.assert(
        fc.property(latin1, fc.integer({ min: 0, max: 10 }), (s, extra) => {
          const len = Math.max(1, s.length + extra);
          expect(stringProblem(s, len)).toBeUndefined();
          const regs = encodeString(s, len, byteOrder);
          expect(regs).toHaveLength(Math.ceil(len / 2));
          expect(decodeString(wire(regs), 2, len, byteOrder)).toBe(s);
        }),
      );
    });
  }

  it('refuses strings that do not fit', () => {
    expect(stringProblem('abcdef', 5)).toMatch(/holds 5/);
    expect(stringProblem('€', 5)).toMatch(/Latin-1/);
    expect(stringProblem('a\u0000b', 5)).toMatch(/NUL/);
  });

  it('reads a string up to the first NUL and within its length', () => {
    const b = wire([0x4142, 0x0043, 0x4445]);
    expect(decodeString(b, 2, 6, 'big')).toBe('AB');
    expect(decodeString(wire([0x4142, 0x4344]), 2, 3, 'big')).toBe('ABC');
    expect(decodeString(wire([0x4241, 0x4443]), 2, 4, 'little')).toBe('ABCD');
  });
});
