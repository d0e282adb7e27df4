import type { TagValue } from '../../domain/tag-types.js';
import { migrate, type Database } from '../../storage/sqlite/database.js';

/** Retained values of internal tags: one row per tag, JSON-encoded wire value. */
export class InternalValueStore {
  private readonly upsert;
  private readonly selectAll;
  constructor(private readonly db: Database) {
    migrate(db, 'internal-values', [
      `CREATE TABLE internal_values (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID`,
    ]);
    this.upsert = db.prepare(
      'INSERT INTO internal_values (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.selectAll = db.prepare('SELECT name, value, updated_at AS updatedAt FROM internal_values');
  }

  loadAll(): Map<string, { value: unknown; updatedAt: number }> {
    const out = new Map<string, { value: unknown; updatedAt: number }>();
    for (const r of this.selectAll.all() as Array<{ name: string; value: string; updatedAt: number }>) {
      try {
        out.set(r.name, { value: JSON.parse(r.value), updatedAt: r.updatedAt });
      } catch {
        /* a corrupt row falls back to the initial value */
      }
    }
    return out;
  }

  /** Stores many values in one transaction (one fsync). */
  saveMany(rows: Array<{ name: string; value: TagValue; at: number }>): void {
    this.db.transaction(() => {
      for (const r of rows) this.upsert.run(r.name, JSON.stringify(r.value), r.at);
    })();
  }
}
