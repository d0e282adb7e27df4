import { describe, expect, it } from 'vitest';
import { dpeName, parseQuery, statusBits, tagNameOf } from '../../../src/adapters/http/wincc-oa/reporting.js';
import { ProjectError } from '../../../src/project/problems.js';
import { parseProject } from '../../../src/project/load.js';
import { registerBuiltIns } from '../../../src/server/built-ins.js';

describe('WinCC OA data point names', () => {
  it('strip our system prefix and the trailing dot; other systems stay unknown names', () => {
    expect(tagNameOf('System1:Tank1.Level.', 'System1')).toBe('Tank1.Level');
    expect(tagNameOf('System1:Tank1.Level', 'System1')).toBe('Tank1.Level');
    expect(tagNameOf('Tank1.Level.', 'System1')).toBe('Tank1.Level');
    expect(tagNameOf('Other:Tank1.Level.', 'System1')).toBe('Other:Tank1.Level');
    expect(tagNameOf('System1:Speed:rpm.[1].', 'System1')).toBe('Speed:rpm.[1]');
    expect(tagNameOf('System1:.', 'System1')).toBeUndefined();
    expect(dpeName('Tank1.Level', 'System1')).toBe('System1:Tank1.Level.');
  });

  it('query keys without a value are data point names, in order; parameters are the known keys', () => {
    const p = parseQuery('/reporting/Dps?System1:A.&System1:B%20%231&from=2026-01-01T00:00:00Z&jsonCompact=1&x=y&C+D');
    expect(p.names).toEqual(['System1:A.', 'System1:B #1', 'C D']);
    expect([...p.params]).toEqual([
      ['from', '2026-01-01T00:00:00Z'],
      ['jsonCompact', '1'],
    ]);
    expect(parseQuery('/reporting/DpNames').names).toEqual([]);
    expect(() => parseQuery('/reporting/Dp?%E0%A4%A')).toThrow(/percent-encoding/);
  });

  it('status bits: 64 characters, _active, invalid for BAD, uncertain, the quality code on top', () => {
    const good = statusBits('GOOD', 0xc0);
    expect(good).toHaveLength(64);
    expect(good).toBe('11000000' + '0'.repeat(55) + '1');
    expect(statusBits('BAD', 0x08)[64 - 9]).toBe('1');
    expect(statusBits('UNCERTAIN', 0x44)[64 - 10]).toBe('1');
    expect(statusBits('UNCERTAIN', 0x44)[64 - 9]).toBe('0');
  });
});

describe('project file: wincc', () => {
  registerBuiltIns();
  const base = 'name: p\nconnections: []\ntags: []\n';
  it('systemName defaults to Tagway and is read when given', () => {
    expect(parseProject(base, 'p.yaml').wincc).toEqual({ systemName: 'Tagway' });
    expect(parseProject(`${base}wincc: { systemName: System1 }\n`, 'p.yaml').wincc).toEqual({ systemName: 'System1' });
  });
  it('refuses a system name with separators and unknown keys', () => {
    expect(() => parseProject(`${base}wincc: { systemName: "a:b" }\n`, 'p.yaml')).toThrow(ProjectError);
    expect(() => parseProject(`${base}wincc: { other: 1 }\n`, 'p.yaml')).toThrow(ProjectError);
  });
});
