import type { Database } from '../../src/storage/sqlite/database.js';

/**
 * A full disk for one SQLite connection, without root or mounts: `max_page_count` pinned to the current size makes
 * every write that needs a new page fail with SQLITE_FULL, and a scratch table first takes up the free pages.
 * Tables that still have room in their own pages take a few more rows; the journal fills soon after. `free()`
 * gives the space back.
 */
export function fillDatabase(db: Database): { free(): void } {
  db.exec('CREATE TABLE IF NOT EXISTS test_disk_filler (x BLOB)');
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  const insert = db.prepare('INSERT INTO test_disk_filler (x) VALUES (zeroblob(?))');
  for (let size = 8192; size >= 1; size >>= 1) {
    for (;;) {
      try {
        insert.run(size);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
        break;
      }
    }
  }
  return {
    free: () => {
      db.pragma(`max_page_count = ${pages + 1_000_000}`);
    },
  };
}
