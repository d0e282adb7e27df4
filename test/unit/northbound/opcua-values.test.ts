import { describe, expect, it } from 'vitest';
import { Quality } from '../../../src/domain/quality.js';
import { statusToQuality } from '../../../src/drivers/opcua/status-mapping.js';
import { qualityToStatus, toOpcUaValue } from '../../../src/northbound/opcua/values.js';
import { splitName } from '../../../src/northbound/opcua/address-space.js';
import { severityOf } from '../../../src/northbound/opcua/alarms.js';

describe('OPC UA server values', () => {
  it('every named quality survives quality → StatusCode → quality (the driver reads what the server serves)', () => {
    for (const [name, q] of Object.entries(Quality)) {
      const back = statusToQuality(qualityToStatus(q));
      // GOOD_NON_CASCADE and GOOD_LOCAL_OVERRIDE have no distinct OPC UA code beyond their severity / sub-code.
      if (name === 'GOOD_NON_CASCADE') expect(back).toBe(Quality.GOOD);
      else if (name === 'BAD_NO_COMMUNICATION_LAST_USABLE') expect(back).toBe(Quality.BAD_NO_COMMUNICATION);
      else expect(back, name).toBe(q);
    }
  });

  it('maps qualities to the codes a client expects', () => {
    expect(qualityToStatus(Quality.GOOD)).toBe(0);
    expect(qualityToStatus(Quality.BAD_NOT_CONNECTED)).toBe(0x808a0000);
    expect(qualityToStatus(Quality.UNCERTAIN_LAST_USABLE_VALUE)).toBe(0x40900000);
    expect(qualityToStatus(0x2c)).toBe(0x80000000); // a BAD sub-status without an OPC UA twin keeps its severity
    expect(qualityToStatus(Quality.UNCERTAIN | 0x2)).toBe((0x40000000 | 0x400 | 0x200) >>> 0); // limit High
  });

  it('64-bit values are exact [high, low] pairs; DateTime a Date', () => {
    expect(toOpcUaValue('Int64', '-9007199254740993')).toEqual([0xffdfffff, 0xffffffff]);
    expect(toOpcUaValue('UInt64', '18446744073709551615')).toEqual([0xffffffff, 0xffffffff]);
    expect(toOpcUaValue('DateTime', '2026-01-02T03:04:05.006Z')).toEqual(new Date('2026-01-02T03:04:05.006Z'));
    expect(toOpcUaValue('Float64', 1.5)).toBe(1.5);
  });

  it('splits tag names into browse names on . and /', () => {
    expect(splitName('Line1/Filler Speed:rpm.[1]#a')).toEqual(['Line1', 'Filler Speed:rpm', '[1]#a']);
    expect(splitName('Plain')).toEqual(['Plain']);
  });

  it('priority 0…16 → severity 1…1000', () => {
    expect(severityOf(0)).toBe(1);
    expect(severityOf(16)).toBe(1000);
    expect(severityOf(8)).toBe(500);
  });
});

describe('northbound.opcua in the project file', () => {
  const base = (opcua: string): string =>
    [
      'name: P',
      'connections: [{ name: internal, driver: internal }]',
      'tags: []',
      'groups:',
      '  - { name: viewers, permissions: [] }',
      'northbound:',
      `  opcua: ${opcua}`,
      '',
    ].join('\n');
  const problems = async (yaml: string): Promise<Array<{ line: number; path: string; message: string }>> => {
    const { parseProject } = await import('../../../src/project/load.js');
    const { registerBuiltIns } = await import('../../../src/server/built-ins.js');
    registerBuiltIns();
    try {
      parseProject(yaml);
      return [];
    } catch (e) {
      return (e as { problems: Array<{ line: number; path: string; message: string }> }).problems;
    }
  };

  it('accepts a valid section', async () => {
    expect(
      await problems(base('{ port: 4840, allowAnonymous: true, anonymousGroup: viewers, securityPolicies: [None, Basic256Sha256] }')),
    ).toEqual([]);
  });

  it('refuses anonymous access without a group, with admins, or with an unknown group; unknown keys and policies', async () => {
    expect(await problems(base('{ port: 4840, allowAnonymous: true }'))).toEqual([
      expect.objectContaining({ line: 7, path: '/northbound/opcua/allowAnonymous' }),
    ]);
    expect(await problems(base('{ port: 4840, allowAnonymous: true, anonymousGroup: admins }'))).toEqual([
      expect.objectContaining({
        path: '/northbound/opcua/anonymousGroup',
        message: "anonymous sessions cannot have the rights of 'admins'",
      }),
    ]);
    expect(await problems(base('{ port: 4840, allowAnonymous: true, anonymousGroup: ghosts }'))).toEqual([
      expect.objectContaining({ path: '/northbound/opcua/anonymousGroup', message: "no group named 'ghosts'" }),
    ]);
    expect((await problems(base('{ port: 4840, securityPolicies: [Basic128Rsa15] }'))).length).toBeGreaterThan(0);
    expect((await problems(base('{ port: 4840, prot: 1 }'))).length).toBeGreaterThan(0);
    expect((await problems(base('{ port: 0 }'))).length).toBeGreaterThan(0);
  });
});
