import type { AlarmEventRecord } from '../../domain/alarms/records.js';
import { encodeCursor, type AlarmJournalRepository, type ArchivePage, type ArchiveQuery } from '../../storage/alarm-journal-repository.js';

/**
 * One archive page of the events `visible` admits (a caller's tag scope): reads journal pages until `limit` such
 * events are found (or the journal ends), and answers a keyset cursor positioned after the last event returned, so
 * pages stay full and the cursor stays stable however few events the caller may see.
 */
export async function filteredArchivePage(
  journal: Pick<AlarmJournalRepository, 'query'>,
  query: ArchiveQuery,
  visible: (e: AlarmEventRecord) => boolean,
): Promise<ArchivePage> {
  const limit = query.limit ?? 100;
  const order = query.order ?? 'desc';
  const items: AlarmEventRecord[] = [];
  let cursor = query.cursor;
  // Bounded: at most 1,000 journal pages per request, then the cursor says where to go on.
  for (let round = 0; round < 1000; round++) {
    const page = await journal.query({ ...query, cursor, limit: Math.max(limit, 500) });
    for (const e of page.items) {
      if (!visible(e)) continue;
      items.push(e);
      if (items.length === limit) return { items, next: encodeCursor(e.eventId, order) };
    }
    if (!page.next) return { items, next: null };
    cursor = page.next;
  }
  const last = items[items.length - 1];
  return { items, next: last ? encodeCursor(last.eventId, order) : (cursor ?? null) };
}
