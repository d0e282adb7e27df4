import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, isFormulaLeading, toCsv } from '../../../src/adapters/http/shared/csv.js';
import { archiveCsv } from '../../../src/adapters/http/rest/alarms/csv.js';

/** A strict RFC 4180 parser (CRLF records, quoted fields with doubled quotes): what a spreadsheet would read. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && !(text[i] === '\r' && text[i + 1] === '\n')) {
        if (text[i] === '"' || text[i] === '\r' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      rows.push(row);
      row = [];
      i += 2;
      if (i === text.length) return rows;
      continue;
    }
    throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
}

// What a spreadsheet skips before deciding "formula", and what starts one.
const LEADS = [' ', '\t', '\r', '\n', '\u3000', '\ufeff', '\u200b', '\u200c', '\u200d', '\u2060'];
const STARTS = ['=', '+', '-', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20'];
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Independent statement of the rule the writer must meet. */
function dangerous(s: string): boolean {
  if (s.startsWith('\t') || s.startsWith('\r')) return true;
  if (DECIMAL.test(s)) return false;
  let k = 0;
  while (k < s.length && LEADS.includes(s[k]!)) k++;
  return k < s.length && STARTS.includes(s[k]!);
}

const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...LEADS, ...STARTS, ',', '"', '\r\n', "'", 'a', '1', '.', 'e'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }),
  ),
  maxLength: 20,
});

describe('csvCell', () => {
  it('parses back (RFC 4180) to the input, with one apostrophe before exactly the formula-leading texts', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const [[back]] = parseCsv(csvCell(s) + '\r\n') as [[string]];
        expect(back).toBe(dangerous(s) ? `'${s}` : s);
      }),
      { numRuns: 3000 },
    );
  });

  it('lets no formula-leading text survive unmarked', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const [[back]] = parseCsv(csvCell(s) + '\r\n') as [[string]];
        expect(dangerous(back)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes numbers, bigints and booleans as they are (a negative number is not text)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.bigInt(), fc.boolean()), (v) => {
        expect(csvCell(v)).toBe(String(v));
      }),
    );
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(-1.5e-7)).toBe('-1.5e-7');
  });

  it('defuses the finding-18 variants: leading space, U+3000, full-width =, BOM, ZWSP, word joiner, tab, CR', () => {
    for (const s of [
      '=1+1',
      ' =1+1',
      '\u3000=1+1',
      '\uff1dSUM(A1)',
      '\ufeff=1',
      '\u200b=1',
      '\u2060@SUM(A1)',
      '\t1',
      '\r1',
      '-2+3',
      '+cmd',
      '@SUM(A1)',
      '\n\n=1',
      '\uff0b1',
      '\uff0d1',
      '\uff20x',
    ])
      expect(isFormulaLeading(s), JSON.stringify(s)).toBe(true);
    expect(csvCell(' =1+1')).toBe("' =1+1");
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const s of ['', 'plain', '-5', '+1.5', '-1e5', '12', 'a=b', ' ', '\u3000', "'=already"])
      expect(isFormulaLeading(s), JSON.stringify(s)).toBe(false);
    expect(csvCell('-12345678901234567890')).toBe('-12345678901234567890');
  });

  it('writes null and undefined as empty fields, and other values as text', () => {
    expect(csvLine([null, undefined, 'x'])).toBe(',,x\r\n');
    expect(csvCell({ toString: () => '=evil' })).toBe("'=evil");
  });
});

describe('the CSV writers agree', () => {
  it('toCsv: a header, CRLF records, every row parses back', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(nasty, fc.oneof(fc.integer(), fc.double({ noNaN: true }), nasty)), { maxLength: 10 }), (rows) => {
        const parsed = parseCsv(toCsv(['a', 'b'], rows));
        expect(parsed[0]).toEqual(['a', 'b']);
        expect(parsed.slice(1)).toEqual(rows.map((r) => r.map((v) => (typeof v === 'string' ? (dangerous(v) ? `'${v}` : v) : String(v)))));
      }),
      { numRuns: 500 },
    );
  });

  it('the alarm archive writes the same cells (numbers never prefixed, formula texts marked)', () => {
    const text = archiveCsv([
      {
        eventId: -1,
        id: 2,
        alarm: '\u3000=A',
        number: 3,
        class: 'Alarm',
        priority: 5,
        event: 'RAISED',
        at: '2026-01-01T00:00:00.000Z',
        state: 'RAISED',
        text: '-x',
        tag: 'T',
        value: -5,
        user: null,
      } as never,
    ]);
    expect(parseCsv(text)[1]).toEqual([
      '-1',
      '2',
      "'\u3000=A",
      '3',
      'Alarm',
      '5',
      'RAISED',
      '2026-01-01T00:00:00.000Z',
      'RAISED',
      "'-x",
      'T',
      '-5',
      '',
    ]);
  });
});
