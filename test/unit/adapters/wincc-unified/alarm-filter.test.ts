import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileFilter,
  FilterSyntaxError,
  parseFilter,
  printFilter,
  type CmpOp,
  type FilterExpr,
} from '../../../../src/adapters/http/wincc-unified/alarm-filter.js';

const ATTRS = ['Name', 'priority', 'State', 'alarmClassName', 'EventText', 'value'];
const attr = fc.constantFrom(...ATTRS);
const str = fc.string({ maxLength: 12 });
const num = fc
  .oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }))
  .filter((n) => !Object.is(n, -0));
const op = fc.constantFrom<CmpOp>('=', '<>', '<', '<=', '>', '>=');

const expr: fc.Arbitrary<FilterExpr> = fc.letrec<{ e: FilterExpr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('cmp' as const), attr, op, value: fc.oneof(str, num) }),
    fc.record({ kind: fc.constant('like' as const), attr, pattern: str, negated: fc.boolean() }),
    fc.record({ kind: fc.constant('and' as const), left: tie('e'), right: tie('e') }),
    fc.record({ kind: fc.constant('or' as const), left: tie('e'), right: tie('e') }),
    fc.record({ kind: fc.constant('not' as const), expr: tie('e') }),
  ),
})).e;

/** Random valid filter text straight from the grammar: random keyword case, spacing and redundant parentheses. */
const kw = (k: string) => fc.constantFrom(k, k.toLowerCase(), k[0] + k.slice(1).toLowerCase());
const ws = fc.constantFrom(' ', '  ', '\t', '\n ');
const text: fc.Arbitrary<string> = fc.letrec<{ t: string }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small' },
    fc
      .tuple(
        attr,
        ws,
        fc.constantFrom('=', '<>', '!=', '<', '<=', '>', '>='),
        ws,
        fc.oneof(
          str.map((s) => `'${s.replace(/'/g, "''")}'`),
          num.map(String),
        ),
      )
      .map((p) => p.join('')),
    fc
      .tuple(
        attr,
        ws,
        fc.option(kw('NOT'), { nil: '' }),
        ws,
        kw('LIKE'),
        ws,
        str.map((s) => `'${s.replace(/'/g, "''")}'`),
      )
      .map((p) => p.join('')),
    fc.tuple(tie('t'), ws, kw('AND'), ws, tie('t')).map((p) => p.join('')),
    fc.tuple(tie('t'), ws, kw('OR'), ws, tie('t')).map((p) => p.join('')),
    fc.tuple(kw('NOT'), ws, tie('t')).map((p) => p.join('')),
    tie('t').map((t) => `(${t})`),
  ),
})).t;

describe('Unified alarm filter language', () => {
  it('random valid expressions parse', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(parseFilter(t)).toBeDefined();
      }),
      { numRuns: 400 },
    );
  });

  it('print∘parse is the identity on ASTs', () => {
    fc.assert(
      fc.property(expr, (e) => {
        expect(parseFilter(printFilter(e))).toEqual(e);
      }),
      { numRuns: 400 },
    );
  });

  it('parse∘print∘parse = parse on random text', () => {
    fc.assert(
      fc.property(text, (t) => {
        const once = parseFilter(t);
        expect(parseFilter(printFilter(once))).toEqual(once);
      }),
      { numRuns: 200 },
    );
  });

  it('binds NOT tighter than AND, AND tighter than OR; OR and AND are left-associative', () => {
    expect(printFilter(parseFilter('a = 1 OR b = 2 AND NOT c = 3'))).toBe('a = 1 OR b = 2 AND NOT c = 3');
    expect(parseFilter('a = 1 OR b = 2 AND c = 3')).toMatchObject({ kind: 'or', right: { kind: 'and' } });
    expect(parseFilter('(a = 1 OR b = 2) AND c = 3')).toMatchObject({ kind: 'and', left: { kind: 'or' } });
    expect(parseFilter("name = 'it''s'")).toEqual({ kind: 'cmp', attr: 'name', op: '=', value: "it's" });
    expect(parseFilter('')).toBeUndefined();
    expect(parseFilter('   ')).toBeUndefined();
  });

  it.each([
    ['priority >', 'expected a string or a number'],
    ["name = 'x' AND", 'expected an attribute name'],
    ["(name = 'x'", "expected ')'"],
    ["name = 'x", 'unterminated string'],
    ['name LIKE 5', 'a string pattern'],
    ["name 'x'", 'a comparison operator'],
    ["name = 'x' name = 'y'", 'AND, OR or the end'],
    ['name ! 3', "unexpected '!'"],
    ['# = 1', "unexpected '#'"],
    ['name NOT = 1', 'expected LIKE'],
    ['('.repeat(100) + 'a = 1' + ')'.repeat(100), 'nested deeper'],
  ])('refuses %j', (t, message) => {
    expect(() => parseFilter(t)).toThrow(FilterSyntaxError);
    expect(() => parseFilter(t)).toThrow(message);
  });

  it('evaluates comparisons, LIKE with * and ?, and missing values as SQL NULL', () => {
    const rows = [
      { name: 'Tank_High', priority: 10, text: 'Level high' },
      { name: 'Tank_Low', priority: 3, text: 'Level low' },
      { name: 'Pump', priority: 7, text: null },
    ];
    const run = (f: string) =>
      rows
        .filter(compileFilter(parseFilter(f), (r, a) => (r as Record<string, string | number | null>)[a.toLowerCase()]))
        .map((r) => r.name);
    expect(run("name LIKE 'tank_*'")).toEqual(['Tank_High', 'Tank_Low']);
    expect(run("name LIKE 'Pum?'")).toEqual(['Pump']);
    expect(run("name NOT LIKE 'Tank*'")).toEqual(['Pump']);
    expect(run('priority >= 7')).toEqual(['Tank_High', 'Pump']);
    expect(run("priority > '5' AND NOT name = 'pump'")).toEqual(['Tank_High']);
    expect(run("text = 'Level low' OR priority = 7")).toEqual(['Tank_Low', 'Pump']);
    expect(run("text <> 'Level low'")).toEqual(['Tank_High']);
    expect(run("NOT text <> 'Level low'")).toEqual(['Tank_Low', 'Pump']);
  });
});
