import { describe, expect, it } from 'vitest';
import { parseS7Address } from '../../../src/drivers/s7/address.js';
import { s7 } from '../../../src/drivers/s7/index.js';

describe('parseS7Address', () => {
  it.each([
    ['DB1,REAL4', 'Float32', 'DB1,REAL4', 'REAL'],
    ['db1,real4', 'Float32', 'DB1,REAL4', 'REAL'],
    ['DB1,INT2', 'Int16', 'DB1,INT2', 'INT'],
    ['DB1,DINT6', 'Int32', 'DB1,DINT6', 'DINT'],
    ['DB1,X8.0', 'Bool', 'DB1,X8.0', 'X'],
    ['DB1,S10.20', 'String', 'DB1,S10.20', 'STRING'],
    ['DB1,STRING10.20', 'String', 'DB1,S10.20', 'STRING'],
    ['DB2,LR8', 'Float64', 'DB2,LREAL8', 'LREAL'],
    ['DB1.DBX8.3', 'Bool', 'DB1,X8.3', 'X'],
    ['DB1.DBW2', 'Int16', 'DB1,INT2', 'INT'],
    ['DB1.DBW2', 'UInt16', 'DB1,WORD2', 'WORD'],
    ['DB1.DBD4', 'Float32', 'DB1,REAL4', 'REAL'],
    ['DB1.DBD4', 'Int32', 'DB1,DINT4', 'DINT'],
    ['DB1.DBD4', 'UInt32', 'DB1,DWORD4', 'DWORD'],
    ['M10.1', 'Bool', 'M10.1', 'X'],
    ['I0.0', 'Bool', 'I0.0', 'X'],
    ['E0.7', 'Bool', 'I0.7', 'X'],
    ['Q0.1', 'Bool', 'Q0.1', 'X'],
    ['A1.0', 'Bool', 'Q1.0', 'X'],
    ['MW20', 'Int16', 'MI20', 'INT'],
    ['MW20', 'UInt16', 'MW20', 'WORD'],
    ['MD4', 'Float32', 'MR4', 'REAL'],
    ['MB3', 'UInt8', 'MB3', 'BYTE'],
    ['IW64', 'Float64', 'IW64', 'WORD'],
    ['QDI8', 'Int32', 'QDI8', 'DINT'],
  ])('%s as %s → %s', (text, type, canonical, s7Type) => {
    const a = parseS7Address(text, type);
    expect(a).toMatchObject({ canonical, type: s7Type });
  });

  it.each(['DB1,X8', 'DB1,X8.8', 'DB1,S10', 'DB1,S10.255', 'DB0,INT2', 'DB1,FOO2', 'DB1,INT2.3', 'MS10.2', 'Z10', 'M10.1.2', 'DB1,LINT0'])(
    'refuses %s',
    (text) => {
      expect(typeof parseS7Address(text, 'Int16')).toBe('string');
    },
  );
});

describe('s7 validation', () => {
  it('checks that the tag type fits the address', () => {
    expect(s7.validateTag!({ type: 'Float64', address: 'DB1,INT2' })).toBeUndefined();
    expect(s7.validateTag!({ type: 'Int16', address: 'DB1,X0.0' })).toMatch(/must be Bool/);
    expect(s7.validateTag!({ type: 'Bool', address: 'DB1,INT2' })).toMatch(/numeric/);
    expect(s7.validateTag!({ type: 'Int16', address: 'DB1,S0.10' })).toMatch(/must be String/);
    expect(s7.validateTag!({ type: 'Int16', address: 'DB1,INT2', options: { pollMS: 5 } })).toMatch(
      /options.pollMS: is not an option of this driver; did you mean 'pollMs'/,
    );
  });
  it('checks connection options', () => {
    expect(s7.validateConnection!({ name: 'plc', driver: 's7', host: '10.0.0.9', rack: 0, slot: 2 })).toEqual([]);
    expect(s7.validateConnection!({ name: 'plc', driver: 's7', host: '10.0.0.9', localTSAP: 0x100 }).map(([p]) => p)).toEqual([
      '/remoteTSAP',
    ]);
  });
});
