import type { AlarmEventRecord } from '../../../../domain/alarms/records.js';

/** Archive rows as RFC 4180 CSV: header row of the JSON field names, CRLF line ends, quoted where needed. */
export const ARCHIVE_COLUMNS = [
  'eventId',
  'id',
  'alarm',
  'number',
  'class',
  'priority',
  'event',
  'at',
  'state',
  'text',
  'tag',
  'value',
  'user',
] as const;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  // Spreadsheets run cells starting with = + @ (or - that is not a number) as formulas; texts and string values
  // can come from users, so such cells get a leading apostrophe (OWASP "CSV injection").
  if (typeof v === 'string' && (/^[=+@\t\r]/.test(s) || (s.startsWith('-') && Number.isNaN(Number(s))))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function archiveCsv(items: readonly AlarmEventRecord[]): string {
  const lines = [ARCHIVE_COLUMNS.join(',')];
  for (const e of items) lines.push(ARCHIVE_COLUMNS.map((c) => cell(e[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
