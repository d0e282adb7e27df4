import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { UNIFIED_SDL } from '../../../../src/adapters/http/wincc-unified/schema.js';
import { contractOf, type Contract } from '../../../../scripts/wincc-unified-fixture.js';

// The contract of the real WinCC Unified server (names, arguments, defaults, enum values, types; no texts),
// derived once from the reference SDL by scripts/wincc-unified-fixture.ts.
const contract = JSON.parse(readFileSync(new URL('../../../fixtures/wincc-unified-contract.json', import.meta.url), 'utf8')) as Contract;
const ours = contractOf(buildSchema(UNIFIED_SDL));

describe('WinCC Unified schema conformance', () => {
  it('has the same roots', () => {
    expect(ours.roots).toEqual(contract.roots);
  });

  for (const [name, t] of Object.entries(contract.types)) {
    it(`${t.kind} ${name}`, () => {
      const found = ours.types[name];
      expect(found, `type ${name} missing`).toBeDefined();
      const mine = found!;
      expect(mine.kind).toBe(t.kind);
      if (t.kind === 'ENUM' && mine.kind === 'ENUM') {
        for (const v of t.values) expect(mine.values, `${name}.${v}`).toContain(v);
      } else if (t.kind === 'OBJECT' && mine.kind === 'OBJECT') {
        for (const [f, field] of Object.entries(t.fields)) {
          const m = mine.fields[f];
          expect(m, `field ${name}.${f} missing`).toBeDefined();
          expect(m!.type, `${name}.${f}`).toBe(field.type);
          for (const [a, arg] of Object.entries(field.args ?? {})) {
            expect(m!.args?.[a], `${name}.${f}(${a})`).toEqual(arg);
          }
          // An extra required argument would break every client that does not send it.
          for (const [a, arg] of Object.entries(m!.args ?? {})) {
            if (!field.args?.[a])
              expect(arg.type.endsWith('!') && arg.default === undefined, `${name}.${f}(${a}) extra and required`).toBe(false);
          }
        }
      } else if (t.kind === 'INPUT_OBJECT' && mine.kind === 'INPUT_OBJECT') {
        for (const [f, field] of Object.entries(t.fields)) expect(mine.fields[f], `${name}.${f}`).toEqual(field);
        for (const [f, field] of Object.entries(mine.fields)) {
          if (!t.fields[f]) expect(field.type.endsWith('!'), `${name}.${f} extra and required`).toBe(false);
        }
      }
    });
  }

  it('checks a meaningful contract (the fixture is not empty)', () => {
    expect(Object.keys(contract.types).length).toBeGreaterThan(40);
    expect(contract.types.ActiveAlarm).toMatchObject({ fields: { deadBand: { type: 'Variant' } } });
    expect(contract.types.LoggedAlarm).toMatchObject({ fields: { deadband: { type: 'Variant' } } });
  });
});
