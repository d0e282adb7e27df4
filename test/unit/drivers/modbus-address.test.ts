import { describe, expect, it } from 'vitest';
import { parseModbusAddress } from '../../../src/drivers/modbus-tcp/address.js';
import { modbusTcp } from '../../../src/drivers/modbus-tcp/index.js';

describe('parseModbusAddress', () => {
  it.each([
    ['coil:0', { area: 'coil', offset: 0 }],
    ['discrete:17', { area: 'discrete', offset: 17 }],
    ['holding:65535', { area: 'holding', offset: 65535 }],
    ['input:3', { area: 'input', offset: 3 }],
    ['holding:10.15', { area: 'holding', offset: 10, bit: 15 }],
    ['input:4.0', { area: 'input', offset: 4, bit: 0 }],
    ['00001', { area: 'coil', offset: 0 }],
    ['10008', { area: 'discrete', offset: 7 }],
    ['30004', { area: 'input', offset: 3 }],
    ['40001', { area: 'holding', offset: 0 }],
    ['49999', { area: 'holding', offset: 9998 }],
    ['400001', { area: 'holding', offset: 0 }],
    ['465536', { area: 'holding', offset: 65535 }],
    ['40031.1', { area: 'holding', offset: 30, bit: 1 }],
  ])('%s', (text, expected) => {
    expect(parseModbusAddress(text)).toEqual(expected);
  });

  it.each(['holding:65536', 'holding:1.16', 'coil:1.2', 'discrete:0.0', '40000', '465537', '20001', 'hr:1', 'holding', '', '4x0001'])(
    'refuses %s with a message',
    (text) => {
      expect(typeof parseModbusAddress(text)).toBe('string');
    },
  );
});

describe('modbus-tcp validation', () => {
  const v = (tag: Parameters<NonNullable<typeof modbusTcp.validateTag>>[0] & Record<string, unknown>) => modbusTcp.validateTag!(tag);
  it('accepts the documented forms', () => {
    expect(v({ type: 'Float32', address: 'holding:0' })).toBeUndefined();
    expect(v({ type: 'String', address: 'holding:0', options: { length: 10 } })).toBeUndefined();
    expect(v({ type: 'Bool', address: 'holding:0.3' })).toBeUndefined();
    expect(
      v({
        type: 'Float64',
        address: 'input:0',
        options: { rawType: 'Int16' },
        access: 'read',
        scaling: { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 },
      }),
    ).toBeUndefined();
  });
  it('explains what is wrong', () => {
    expect(v({ type: 'Int16', address: 'coil:1' })).toMatch(/must be Bool/);
    expect(v({ type: 'String', address: 'holding:0' })).toMatch(/options.length/);
    expect(v({ type: 'DateTime', address: 'holding:0' })).toMatch(/DateTime/);
    expect(v({ type: 'Int16', address: 'input:0', access: 'readwrite' })).toMatch(/read-only/);
    expect(v({ type: 'Int16', address: 'holding:0', options: { wordorder: 'little' } })).toMatch(
      /wordorder.*not an option of this driver; did you mean 'wordOrder'/,
    );
    expect(v({ type: 'Int16', address: 'holding:0', options: { byteOrder: 'middle' } })).toMatch(/byteOrder/);
    expect(v({ type: 'Float64', address: 'holding:65534' })).toMatch(/past the last register/);
    expect(v({ type: 'Int16', address: 'holding:0', scaling: { rawMin: 1, rawMax: 1, engMin: 0, engMax: 1 } })).toMatch(/differ/);
    expect(v({ type: 'Int16' })).toMatch(/needs an address/);
  });
  it('checks connection options', () => {
    expect(modbusTcp.validateConnection!({ name: 'plc', driver: 'modbus-tcp', host: '10.0.0.5' })).toEqual([]);
    const problems = modbusTcp.validateConnection!({
      name: 'plc',
      driver: 'modbus-tcp',
      port: 70000,
      unitId: 'x',
      maxRegistersPerRequest: 126,
      prot: 1,
    });
    expect(problems.map(([p]) => p).sort()).toEqual(['/host', '/maxRegistersPerRequest', '/port', '/prot', '/unitId']);
  });
});
