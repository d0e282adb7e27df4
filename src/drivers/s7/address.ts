/**
 * S7 addresses in the forms nodes7 understands, plus the STEP 7 spelling, checked and mapped to a value type.
 *
 * Data blocks: `DB1,X8.0` (bit), `DB1,BYTE3`, `DB1,CHAR3`, `DB1,INT2`, `DB1,WORD2`, `DB1,DINT4`, `DB1,DWORD4`,
 * `DB1,REAL4`, `DB1,LREAL8`, `DB1,S10.20` (string at byte 10, up to 20 characters; also `STRING10.20`), and the
 * STEP 7 forms `DB1.DBX8.0`, `DB1.DBB3`, `DB1.DBW2`, `DB1.DBD4`.
 * Inputs, outputs and merkers (German E/A accepted for I/Q): `I0.0`, `Q0.1`, `M10.1` (bits), `MB3`, `MC3`,
 * `MI2` (INT), `MW2`, `MDI4` (DINT), `MD4`, `MR4` (REAL), `MLR8` (LREAL).
 * A bare `W` or `D` width (`MW20`, `DB1.DBD4`) takes its S7 type from the tag: `W` is INT for an Int16 tag and
 * WORD otherwise; `D` is REAL for a Float32 tag, DINT for an Int32 tag and DWORD otherwise, which is how these
 * addresses are used in practice.
 */
export type S7Type = 'X' | 'BYTE' | 'CHAR' | 'INT' | 'WORD' | 'DINT' | 'DWORD' | 'REAL' | 'LREAL' | 'STRING';

export interface S7Address {
  area: 'DB' | 'I' | 'Q' | 'M';
  db: number;
  type: S7Type;
  /** Byte offset. */
  offset: number;
  bit: number;
  /** STRING: the declared maximum length in characters. */
  length: number;
  /** The address as passed to nodes7. */
  canonical: string;
}

const TYPE_NAMES: Record<string, S7Type | 'W' | 'D'> = {
  X: 'X',
  B: 'BYTE',
  BYTE: 'BYTE',
  C: 'CHAR',
  CHAR: 'CHAR',
  I: 'INT',
  INT: 'INT',
  W: 'W',
  WORD: 'WORD',
  DI: 'DINT',
  DINT: 'DINT',
  DW: 'DWORD',
  DWORD: 'DWORD',
  D: 'D',
  R: 'REAL',
  REAL: 'REAL',
  LR: 'LREAL',
  LREAL: 'LREAL',
  S: 'STRING',
  STRING: 'STRING',
};

const AREA_SUFFIX: Record<Exclude<S7Type, 'X' | 'STRING'>, string> = {
  BYTE: 'B',
  CHAR: 'C',
  INT: 'I',
  WORD: 'W',
  DINT: 'DI',
  DWORD: 'D',
  REAL: 'R',
  LREAL: 'LR',
};

const DB_NODES7 = /^DB(\d+),([A-Z]+)(\d+)(?:\.(\d+))?$/;
const DB_STEP7 = /^DB(\d+)\.DB([XBWD])(\d+)(?:\.(\d+))?$/;
const AREA = /^([IEQAM])([A-Z]*)(\d+)(?:\.(\d+))?$/;

function resolveWidth(t: S7Type | 'W' | 'D', tagType: string): S7Type {
  if (t === 'W') return tagType === 'Int16' ? 'INT' : 'WORD';
  if (t === 'D') return tagType === 'Float32' ? 'REAL' : tagType === 'Int32' ? 'DINT' : 'DWORD';
  return t;
}

/** The address, or what is wrong with it. `tagType` settles the bare W/D widths. */
export function parseS7Address(text: string, tagType: string): S7Address | string {
  const s = text.trim().toUpperCase().replace(/\s+/g, '');
  let area: S7Address['area'];
  let db = 0;
  let typeName: string;
  let offsetText: string;
  let extra: string | undefined;
  let m = DB_NODES7.exec(s) ?? DB_STEP7.exec(s);
  if (m) {
    area = 'DB';
    db = Number(m[1]);
    typeName = m[2]!;
    offsetText = m[3]!;
    extra = m[4];
    if (db < 1 || db > 65535) return `'${text}': the data block number must be 1…65535`;
  } else if ((m = AREA.exec(s))) {
    area = m[1] === 'E' ? 'I' : m[1] === 'A' ? 'Q' : (m[1] as 'I' | 'Q' | 'M');
    typeName = m[2] === '' ? 'X' : m[2]!;
    offsetText = m[3]!;
    extra = m[4];
  } else {
    return `'${text}' is not an S7 address; examples: DB1,REAL4  DB1,X8.0  DB1,S10.20  DB1.DBW2  M10.1  MW20  I0.0  Q0.1`;
  }
  const named = TYPE_NAMES[typeName];
  if (!named || (area !== 'DB' && named === 'STRING')) return `'${text}': unknown S7 data type '${typeName}'`;
  const type = resolveWidth(named, tagType);
  const offset = Number(offsetText);
  if (offset > 65535) return `'${text}': the byte offset must be 0…65535`;
  let bit = 0;
  let length = 0;
  if (type === 'X') {
    if (extra === undefined)
      return `'${text}': a bit address needs the bit number, e.g. ${area === 'DB' ? `DB${db},X${offset}.0` : `${area}${offset}.0`}`;
    bit = Number(extra);
    if (bit > 7) return `'${text}': the bit number must be 0…7`;
  } else if (type === 'STRING') {
    if (extra === undefined) return `'${text}': a string address needs its maximum length, e.g. DB${db},S${offset}.20`;
    length = Number(extra);
    if (length < 1 || length > 254) return `'${text}': the string length must be 1…254`;
  } else if (extra !== undefined) {
    return `'${text}': arrays are not supported; address one value per tag`;
  }
  let canonical: string;
  if (area === 'DB') {
    canonical =
      type === 'X' ? `DB${db},X${offset}.${bit}` : type === 'STRING' ? `DB${db},S${offset}.${length}` : `DB${db},${type}${offset}`;
  } else {
    canonical = type === 'X' ? `${area}${offset}.${bit}` : `${area}${AREA_SUFFIX[type as keyof typeof AREA_SUFFIX]}${offset}`;
  }
  return { area, db, type, offset, bit, length, canonical };
}

/** The tag type an S7 type reads as when nothing else is said; numeric types also convert to other numeric tags. */
export const NATURAL_TAG_TYPE: Record<S7Type, string> = {
  X: 'Bool',
  BYTE: 'UInt8',
  CHAR: 'String',
  INT: 'Int16',
  WORD: 'UInt16',
  DINT: 'Int32',
  DWORD: 'UInt32',
  REAL: 'Float32',
  LREAL: 'Float64',
  STRING: 'String',
};
