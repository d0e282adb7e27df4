/**
 * RFC 4180 CSV: comma-separated, CRLF line ends, a header row, and a field quoted (with inner quotes doubled)
 * when it holds a comma, quote, CR or LF. `null`/`undefined` are empty fields.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : String(v);
  // Spreadsheets run cells starting with = + @ (or a '-' that is not a number) as formulas; String tag values can
  // come from anyone who may write a tag, so such cells get a leading apostrophe (OWASP "CSV injection"), as the
  // alarm archive's CSV does.
  if (typeof v === 'string' && (/^[=+@\t\r]/.test(s) || (s.startsWith('-') && Number.isNaN(Number(s))))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The whole document; `rows` are arrays in the order of `header`. */
export function toCsv(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [header.map(csvField).join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

export const CSV_TYPE = 'text/csv; charset=utf-8';
