import type { KeyValueEntry, KeyValueRepository } from '../key-value-repository.js';
import { migrate, type Database } from './database.js';
import { SqliteRepository } from './repository.js';

const MIGRATIONS = [
  // The internal driver's values were the first (and only) key-value rows; they move into namespace `internal`.
  `CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
     PRIMARY KEY (namespace, key)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS internal_values (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO kv (namespace, key, value, updated_at) SELECT 'internal', name, value, updated_at FROM internal_values;
   DROP TABLE internal_values;`,
];

interface Row {
  key: string;
  value: string;
  updatedAt: number;
}

function parse(r: Row): KeyValueEntry | undefined {
  try {
    return { key: r.key, value: JSON.parse(r.value) as unknown, updatedAt: r.updatedAt };
  } catch {
    return undefined;
  }
}

export class SqliteKeyValueRepository extends SqliteRepository implements KeyValueRepository {
  private readonly upsert;
  private readonly selectOne;
  private readonly selectAll;
  private readonly deleteOne;
  private readonly setManyTx;

  constructor(db: Database) {
    super();
    migrate(db, 'kv', MIGRATIONS);
    this.upsert = db.prepare(
      'INSERT INTO kv (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.selectOne = db.prepare('SELECT key, value, updated_at AS updatedAt FROM kv WHERE namespace = ? AND key = ?');
    this.selectAll = db.prepare('SELECT key, value, updated_at AS updatedAt FROM kv WHERE namespace = ? ORDER BY key');
    this.deleteOne = db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?');
    this.setManyTx = db.transaction((namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>) => {
      for (const e of entries) this.upsert.run(namespace, e.key, encode(e.value), e.at);
    });
  }

  get(namespace: string, key: string): Promise<KeyValueEntry | undefined> {
    return this.exec(() => {
      const r = this.selectOne.get(namespace, key) as Row | undefined;
      return r ? parse(r) : undefined;
    });
  }

  list(namespace: string): Promise<KeyValueEntry[]> {
    return this.exec(() => (this.selectAll.all(namespace) as Row[]).map(parse).filter((e): e is KeyValueEntry => e !== undefined));
  }

  set(namespace: string, key: string, value: unknown, at: number): Promise<void> {
    return this.exec(() => {
      this.upsert.run(namespace, key, encode(value), at);
    });
  }

  setMany(namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>): Promise<void> {
    return this.exec(() => {
      if (entries.length > 0) this.setManyTx(namespace, entries);
    });
  }

  delete(namespace: string, key: string): Promise<boolean> {
    return this.exec(() => this.deleteOne.run(namespace, key).changes > 0);
  }
}

function encode(value: unknown): string {
  const s = JSON.stringify(value);
  // undefined, functions and symbols have no JSON form; storing them would lose the value silently.
  if (s === undefined) throw new TypeError('key-value: the value has no JSON form');
  return s;
}
