/**
 * The one CSV writer of every HTTP front end (history, alarm archive, audit): RFC 4180 — comma-separated, CRLF
 * line ends, a header row, a field quoted (inner quotes doubled) when it holds a comma, quote, CR or LF, and
 * `null`/`undefined` as empty fields.
 */

export const CSV_TYPE = 'text/csv; charset=utf-8';

// What a spreadsheet skips before it decides whether a cell is a formula: ordinary and ideographic spaces, line
// breaks, and invisible characters (BOM, zero-width space/joiners, word joiner) that a user cannot see in the cell.
const INVISIBLE_LEAD = /^[ \t\r\n\u3000\ufeff\u200b-\u200d\u2060]*/;
// Characters that start a formula in Excel, LibreOffice or Google Sheets, including their full-width forms (which
// some spreadsheets fold to ASCII before parsing).
const FORMULA_START = /^[=+\-@\uff1d\uff0b\uff0d\uff20]/;
// A text that is exactly a decimal number is a number to a spreadsheet, not a formula: 64-bit integers travel as
// decimal strings (JSON numbers would lose digits) and must stay numbers in the file.
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * True when a spreadsheet would run the text as a formula (OWASP "CSV injection"): its first character, after
 * any leading whitespace or invisible characters, is = + - @ (ASCII or full-width), or it starts with tab or CR.
 */
export function isFormulaLeading(s: string): boolean {
  if (s.length === 0) return false;
  if (s[0] === '\t' || s[0] === '\r') return true;
  if (DECIMAL.test(s)) return false;
  const rest = s.slice(INVISIBLE_LEAD.exec(s)![0].length);
  return FORMULA_START.test(rest);
}

/**
 * One field. Numbers, bigints and booleans are written as they are (a negative number is not text). Any other
 * value is text: a formula-leading text gets a leading apostrophe, which spreadsheets show as text and hide.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  let s = String(v);
  if (isFormulaLeading(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record with its CRLF. */
export function csvLine(cells: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) out += (i === 0 ? '' : ',') + csvCell(cells[i]);
  return out + '\r\n';
}

/** The whole document; `rows` are arrays in the order of `header`. */
export function toCsv(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  let out = csvLine(header);
  for (const r of rows) out += csvLine(r);
  return out;
}

/** A file name for Content-Disposition: only characters that need no quoting in any browser. */
export function csvFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') + '.csv';
}
