/**
 * Modbus addresses as written in the project file.
 *
 * Native form, 0-based protocol addresses: `coil:N`, `discrete:N`, `holding:N`, `input:N` (N = 0…65535), and
 * a bit of a register `holding:N.B` / `input:N.B` (B = 0…15, 0 the least significant bit).
 * Classic 1-based form ("Modicon" numbers): 5 digits `00001`-`09999` coils, `10001`… discrete inputs,
 * `30001`… input registers, `40001`… holding registers, or 6 digits (`400001`-`465536`) for the full range;
 * `40001.3` is bit 3 of holding register 0.
 */
export type ModbusArea = 'coil' | 'discrete' | 'holding' | 'input';

export interface ModbusAddress {
  area: ModbusArea;
  /** 0-based protocol address. */
  offset: number;
  /** Bit within a register (0 = least significant), for Bool tags on registers. */
  bit?: number | undefined;
}

export const AREAS: readonly ModbusArea[] = ['coil', 'discrete', 'holding', 'input'];

const NATIVE = /^(coil|discrete|holding|input):(\d{1,5})(?:\.(\d{1,2}))?$/;
const CLASSIC = /^([0134])(\d{4,5})(?:\.(\d{1,2}))?$/;
const CLASSIC_AREA: Record<string, ModbusArea> = { 0: 'coil', 1: 'discrete', 3: 'input', 4: 'holding' };

export function isRegisterArea(a: ModbusArea): boolean {
  return a === 'holding' || a === 'input';
}

/** The address, or a message saying what is wrong with it. */
export function parseModbusAddress(text: string): ModbusAddress | string {
  const s = text.trim();
  let area: ModbusArea;
  let offset: number;
  let bitText: string | undefined;
  const n = NATIVE.exec(s);
  if (n) {
    area = n[1] as ModbusArea;
    offset = Number(n[2]);
    bitText = n[3];
    if (offset > 65535) return `'${text}': the register number must be 0…65535`;
  } else {
    const c = CLASSIC.exec(s);
    if (!c)
      return `'${text}' is not a Modbus address; use coil:N, discrete:N, holding:N, input:N (0-based), holding:N.B for a bit, or the classic 40001 form`;
    area = CLASSIC_AREA[c[1]!]!;
    const number = Number(c[2]);
    if (number < 1 || number > (c[2]!.length === 4 ? 9999 : 65536))
      return `'${text}': the classic register number must be 1…${c[2]!.length === 4 ? 9999 : 65536}`;
    offset = number - 1;
    bitText = c[3];
  }
  if (bitText === undefined) return { area, offset };
  if (!isRegisterArea(area)) return `'${text}': a bit number only applies to holding or input registers`;
  const bit = Number(bitText);
  if (bit > 15) return `'${text}': the bit number must be 0…15`;
  return { area, offset, bit };
}

export function formatModbusAddress(a: ModbusAddress): string {
  return `${a.area}:${a.offset}${a.bit === undefined ? '' : `.${a.bit}`}`;
}
