import type { TagType } from '../../../domain/tag-types.js';

/**
 * WinCC's data-manager type numbers as classic WinCC's REST service answers them in `dataType`. 1–12 as clients
 * show them; WinCC has no 64-bit integer or date-time tag, so 13–15 are ours (inferred, docs/wincc-classic.md):
 * their values travel as Tagway's JSON API carries them (decimal strings, ISO 8601 UTC).
 */
export const DATA_TYPE: Readonly<Record<TagType, number>> = {
  Bool: 1, // BIT
  Int8: 2, // SBYTE
  UInt8: 3, // BYTE
  Int16: 4, // SWORD
  UInt16: 5, // WORD
  Int32: 6, // SDWORD
  UInt32: 7, // DWORD
  Float32: 8, // FLOAT
  Float64: 9, // DOUBLE
  String: 11, // TEXT_16: Tagway strings are Unicode
  Int64: 13,
  UInt64: 14,
  DateTime: 15,
};

/** WinCC's name of each number (`dataTypeName` beside `dataType` in variable descriptions). */
export const DATA_TYPE_NAME: Readonly<Record<number, string>> = {
  1: 'BIT',
  2: 'SBYTE',
  3: 'BYTE',
  4: 'SWORD',
  5: 'WORD',
  6: 'SDWORD',
  7: 'DWORD',
  8: 'FLOAT',
  9: 'DOUBLE',
  10: 'TEXT_8',
  11: 'TEXT_16',
  12: 'RAW',
  13: 'INT64',
  14: 'UINT64',
  15: 'DATETIME',
};

/** Unknown or forbidden items carry no type: 0, which no WinCC type uses. */
export const NO_DATA_TYPE = 0;
