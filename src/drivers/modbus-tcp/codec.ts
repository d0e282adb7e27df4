import type { TagValue } from '../../domain/tag-types.js';

/**
 * Values across 16-bit registers. The wire carries each register high byte first; devices differ in how
 * they lay multi-register values out, so two switches describe it:
 * - `byteOrder`: `big` = high byte first within each register (the standard); `little` = the two bytes swapped.
 * - `wordOrder`: `big` = most significant register first ("ABCD", the standard); `little` = least
 *   significant register first ("CDAB", common on many PLCs).
 * Strings are a sequence of bytes (Latin-1, two characters per register) in address order; `byteOrder`
 * applies to them, `wordOrder` does not. 64-bit integers travel as decimal strings (see tag-types).
 */
export type Order = 'big' | 'little';
export interface WordLayout {
  byteOrder: Order;
  wordOrder: Order;
}

export const REGISTER_TYPES = ['Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float32', 'Float64'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

export function isRegisterType(t: string): t is RegisterType {
  return (REGISTER_TYPES as readonly string[]).includes(t);
}

const WIDTH: Record<RegisterType, number> = {
  Int16: 1,
  UInt16: 1,
  Int32: 2,
  UInt32: 2,
  Float32: 2,
  Int64: 4,
  UInt64: 4,
  Float64: 4,
};

/** Registers a numeric type occupies. */
export function registerWidth(t: RegisterType): number {
  return WIDTH[t];
}

/** Registers a string of `lengthBytes` bytes occupies. */
export function stringRegisters(lengthBytes: number): number {
  return Math.ceil(lengthBytes / 2);
}

// One scratch buffer: decoding happens on one thread, synchronously, thousands of times per poll.
const scratch = Buffer.alloc(8);

/** Copies `n` registers from `src` (wire order, at byte `at`) into `scratch` as one big-endian number. */
function gather(src: Buffer, at: number, n: number, layout: WordLayout): void {
  for (let i = 0; i < n; i++) {
    const from = at + 2 * (layout.wordOrder === 'big' ? i : n - 1 - i);
    const hi = src[from]!,
      lo = src[from + 1]!;
    if (layout.byteOrder === 'big') {
      scratch[2 * i] = hi;
      scratch[2 * i + 1] = lo;
    } else {
      scratch[2 * i] = lo;
      scratch[2 * i + 1] = hi;
    }
  }
}

/** The inverse of `gather`: the big-endian number in `scratch` as `n` register values in address order. */
function scatter(n: number, layout: WordLayout): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const to = layout.wordOrder === 'big' ? i : n - 1 - i;
    const hi = scratch[2 * i]!,
      lo = scratch[2 * i + 1]!;
    out[to] = layout.byteOrder === 'big' ? (hi << 8) | lo : (lo << 8) | hi;
  }
  return out;
}

/**
 * The number held in the registers at byte offset `at` of `src` (a read reply, wire order).
 * 64-bit integers come back as bigint, everything else as number.
 */
export function decodeNumber(src: Buffer, at: number, t: RegisterType, layout: WordLayout): number | bigint {
  gather(src, at, WIDTH[t], layout);
  switch (t) {
    case 'Int16':
      return scratch.readInt16BE(0);
    case 'UInt16':
      return scratch.readUInt16BE(0);
    case 'Int32':
      return scratch.readInt32BE(0);
    case 'UInt32':
      return scratch.readUInt32BE(0);
    case 'Float32':
      return scratch.readFloatBE(0);
    case 'Int64':
      return scratch.readBigInt64BE(0);
    case 'UInt64':
      return scratch.readBigUInt64BE(0);
    case 'Float64':
      return scratch.readDoubleBE(0);
  }
}

/** Register values (address order) for a number already known to fit `t` (integers are whole). */
export function encodeNumber(value: number | bigint, t: RegisterType, layout: WordLayout): number[] {
  switch (t) {
    case 'Int16':
      scratch.writeInt16BE(Number(value), 0);
      break;
    case 'UInt16':
      scratch.writeUInt16BE(Number(value), 0);
      break;
    case 'Int32':
      scratch.writeInt32BE(Number(value), 0);
      break;
    case 'UInt32':
      scratch.writeUInt32BE(Number(value), 0);
      break;
    case 'Float32':
      scratch.writeFloatBE(Number(value), 0);
      break;
    case 'Int64':
      scratch.writeBigInt64BE(BigInt(value), 0);
      break;
    case 'UInt64':
      scratch.writeBigUInt64BE(BigInt(value), 0);
      break;
    case 'Float64':
      scratch.writeDoubleBE(Number(value), 0);
      break;
  }
  return scatter(WIDTH[t], layout);
}

/** A tag value of a register type as the number to encode (64-bit decimal strings become bigint). */
export function numericValue(v: TagValue): number | bigint {
  if (typeof v === 'string') return BigInt(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** The string in `lengthBytes` bytes at byte `at`: Latin-1, ending at the first NUL. */
export function decodeString(src: Buffer, at: number, lengthBytes: number, byteOrder: Order): string {
  const regs = stringRegisters(lengthBytes);
  let bytes = src.subarray(at, at + regs * 2);
  if (byteOrder === 'little') {
    bytes = Buffer.from(bytes);
    bytes.swap16();
  }
  let end = Math.min(lengthBytes, bytes.length);
  const nul = bytes.indexOf(0);
  if (nul >= 0 && nul < end) end = nul;
  return bytes.toString('latin1', 0, end);
}

/** Why a string cannot be stored in `lengthBytes` Latin-1 bytes, or undefined when it can. */
export function stringProblem(value: string, lengthBytes: number): string | undefined {
  if (value.length > lengthBytes) return `the string has ${value.length} characters; the device field holds ${lengthBytes}`;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff) return `character ${JSON.stringify(value[i])} cannot be stored in a Latin-1 register string`;
    if (c === 0) return 'a NUL character would end the string early';
  }
  return undefined;
}

/** Register values for a string, padded with NUL bytes to the field's length. */
export function encodeString(value: string, lengthBytes: number, byteOrder: Order): number[] {
  const regs = stringRegisters(lengthBytes);
  const bytes = Buffer.alloc(regs * 2);
  bytes.write(value, 0, Math.min(value.length, lengthBytes), 'latin1');
  if (byteOrder === 'little') bytes.swap16();
  const out = new Array<number>(regs);
  for (let i = 0; i < regs; i++) out[i] = bytes.readUInt16BE(2 * i);
  return out;
}
