import { describe, expect, it } from 'vitest';
import { DATA_TYPE } from '../../../src/adapters/http/wincc-classic/data-types.js';
import { errorcodeOf } from '../../../src/adapters/http/wincc-classic/errors.js';
import { normaliseName } from '../../../src/adapters/http/wincc-classic/names.js';
import { CaseInsensitiveRouter } from '../../../src/adapters/http/wincc-classic/router.js';
import { timerName } from '../../../src/adapters/http/wincc-classic/tag-logging.js';
import { PROBLEMS } from '../../../src/domain/problems.js';
import { TAG_TYPES } from '../../../src/domain/tag-types.js';
import { parseProject } from '../../../src/project/load.js';
import { ProjectError } from '../../../src/project/problems.js';

describe('WinCC classic names', () => {
  it('NFC-normalises and strips BOM, zero-width characters, word joiner and soft hyphen; keeps spaces', () => {
    expect(normaliseName('Ku\u0308hler')).toBe('K\u00fchler');
    expect(normaliseName('\uFEFFLine1.\u200BSpeed\u200C\u200D\u2060\u00AD')).toBe('Line1.Speed');
    expect(normaliseName('Line 1 . Speed ')).toBe('Line 1 . Speed ');
  });
});

describe('WinCC classic router', () => {
  const router = new CaseInsensitiveRouter([
    { method: 'GET', path: 'tagManagement/Value/:name', handler: () => 1 },
    { method: 'PUT', path: 'tagManagement/Value/:name', handler: () => 2 },
    { method: 'GET', path: 'tagManagement/variables', handler: () => 3 },
  ]);

  it('matches literal segments in any case and decodes each parameter on its own', () => {
    const m = router.match('GET', '/TAGMANAGEMENT/value/a%2Fb%20c::d.e');
    expect(m && 'route' in m && m.params).toEqual({ name: 'a/b c::d.e' });
    expect(router.match('GET', '/tagmanagement/Variables/')).toMatchObject({ route: { path: 'tagManagement/variables' } });
  });

  it('names the allowed methods of a path, and nothing for an unknown path', () => {
    expect(router.match('POST', '/tagManagement/Value/x')).toEqual({ allowed: ['GET', 'PUT'] });
    expect(router.match('GET', '/tagManagement/Nothing')).toBeUndefined();
    expect(router.match('HEAD', '/tagManagement/variables')).toMatchObject({ route: { method: 'GET' } });
    expect(() => router.match('GET', '/tagManagement/Value/%E0%A4%A')).toThrow(/percent-encoding/);
  });
});

describe('WinCC classic mappings', () => {
  it('every tag type has a data type number, and WinCC’s own numbers are kept for the types it has', () => {
    for (const t of TAG_TYPES) expect(DATA_TYPE[t]).toBeGreaterThan(0);
    expect([DATA_TYPE.Bool, DATA_TYPE.Int16, DATA_TYPE.Float64, DATA_TYPE.String]).toEqual([1, 4, 9, 11]);
  });

  it('every problem code has its own errorcode, never 0', () => {
    const codes = Object.keys(PROBLEMS).map(errorcodeOf);
    expect(codes).not.toContain(0);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('timer names', () => {
    expect([0, 500, 1000, 300_000, 3_600_000, 1500].map(timerName)).toEqual(['OnChange', '500 ms', '1 s', '5 min', '1 h', '1500 ms']);
  });

  it('the wincc section: archiveName and restFilters are read, unknown filter terms refused', () => {
    const base = 'name: p\nconnections: [{ name: i, driver: internal }]\ntags: []\n';
    const p = parseProject(
      `${base}wincc: { systemName: S1, archiveName: A1, restFilters: [{ name: F, filter: { minPriority: 3, event: [RAISED] } }] }\n`,
      'p.yaml',
    );
    expect(p.wincc).toEqual({
      systemName: 'S1',
      archiveName: 'A1',
      restFilters: [{ name: 'F', filter: { minPriority: 3, event: ['RAISED'] } }],
    });
    expect(() => parseProject(`${base}wincc: { restFilters: [{ name: F, filter: { colour: red } }] }\n`, 'p.yaml')).toThrow(ProjectError);
  });
});
