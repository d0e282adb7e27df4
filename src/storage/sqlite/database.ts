import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Database = BetterSqlite3.Database;

export interface OpenOptions {
  /** `FULL` (default) survives power loss; `NORMAL` survives a process crash and is faster. */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Opens (creating if needed) the SQLite file in WAL mode. */
export function openDatabase(file: string, opts: OpenOptions = {}): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))`);
  return db;
}

/**
 * Applies a module's migrations in order, each once, each in its own transaction. Every repository owns its
 * tables and calls this with its own module name, so modules never edit each other's schema.
 */
export function migrate(db: Database, module: string, steps: readonly string[]): void {
  const done = new Set(
    (db.prepare('SELECT version FROM schema_migrations WHERE module = ?').all(module) as { version: number }[]).map((r) => r.version),
  );
  steps.forEach((sql, i) => {
    const version = i + 1;
    if (done.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)').run(
        module,
        version,
        new Date().toISOString(),
      );
    })();
  });
}
