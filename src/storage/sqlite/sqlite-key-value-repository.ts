import type { KeyValueEntry, KeyValueRepository } from '../key-value-repository.js';
import type { Statement } from 'better-sqlite3';
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

/** Rows per multi-row upsert (256 parameters). */
const UPSERT_CHUNK = 64;

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

  constructor(private readonly db: Database) {
    super();
    migrate(db, 'kv', MIGRATIONS);
    this.upsert = db.prepare(
      'INSERT INTO kv (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.selectOne = db.prepare('SELECT key, value, updated_at AS updatedAt FROM kv WHERE namespace = ? AND key = ?');
    this.selectAll = db.prepare('SELECT key, value, updated_at AS updatedAt FROM kv WHERE namespace = ? ORDER BY key');
    this.deleteOne = db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?');
    const setMany = (namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>): void => {
      // Multi-row upserts (a group commit writes thousands of values): the rows of one statement apply in order,
      // so a key written twice keeps its later value, as with single-row statements.
      let i = 0;
      for (const size of [UPSERT_CHUNK, 8, 1]) {
        if (entries.length - i < size) continue;
        const stmt = size === 1 ? this.upsert : this.upsertOf(size);
        const args = new Array<unknown>(size * 4);
        while (entries.length - i >= size) {
          for (let j = 0; j < size; j++) {
            const e = entries[i + j]!;
            const k = j * 4;
            args[k] = namespace;
            args[k + 1] = e.key;
            args[k + 2] = encode(e.value);
            args[k + 3] = e.at;
          }
          stmt.run(args);
          i += size;
        }
      }
    };
    const many = db.transaction(setMany);
    // Inside a unit of work (a group commit) without a savepoint of its own: see SqliteAuditRepository.
    this.setManyTx = (namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>): void =>
      db.inTransaction ? setMany(namespace, entries) : many(namespace, entries);
  }

  private readonly upserts = new Map<number, Statement>();
  private upsertOf(rows: number): Statement {
    let s = this.upserts.get(rows);
    if (s === undefined) {
      s = this.db.prepare(
        `INSERT INTO kv (namespace, key, value, updated_at) VALUES ${Array.from({ length: rows }, () => '(?,?,?,?)').join(',')} ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      );
      this.upserts.set(rows, s);
    }
    return s;
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
