import type { AlarmEventRecord } from '../../../../domain/alarms/records.js';
import { toCsv } from '../../shared/csv.js';

/** The archive's CSV columns: the JSON field names. */
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

/** Archive rows as RFC 4180 CSV (the shared writer: formulas in texts and values are defused). */
export function archiveCsv(items: readonly AlarmEventRecord[]): string {
  return toCsv(
    ARCHIVE_COLUMNS,
    items.map((e) => ARCHIVE_COLUMNS.map((c) => e[c])),
  );
}
