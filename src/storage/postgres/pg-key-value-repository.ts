import type { KeyValueEntry, KeyValueRepository } from '../key-value-repository.js';
import { PgRepository, type PgMigrations } from './db.js';

export const KV_MIGRATIONS: PgMigrations = {
  module: 'kv',
  steps: [
    // Values stay JSON text (not jsonb): read back exactly as written, and a value that no longer parses is skipped.
    `CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL,
       PRIMARY KEY (namespace, key))`,
  ],
};

interface Row {
  key: string;
  value: string;
  updated_at: number;
}

function parse(r: Row): KeyValueEntry | undefined {
  try {
    return { key: r.key, value: JSON.parse(r.value) as unknown, updatedAt: r.updated_at };
  } catch {
    return undefined;
  }
}

function encode(value: unknown): string {
  const s = JSON.stringify(value);
  if (s === undefined) throw new TypeError('key-value: the value has no JSON form');
  return s;
}

const UPSERT = `INSERT INTO kv (namespace, key, value, updated_at)
  SELECT $1, k, v, a FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(k, v, a)
  ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

export class PgKeyValueRepository extends PgRepository implements KeyValueRepository {
  get(namespace: string, key: string): Promise<KeyValueEntry | undefined> {
    return this.db.run(async (db) => {
      const r = (await db.query<Row>('SELECT key, value, updated_at FROM kv WHERE namespace = $1 AND key = $2', [namespace, key])).rows[0];
      return r ? parse(r) : undefined;
    });
  }

  list(namespace: string): Promise<KeyValueEntry[]> {
    return this.db.run(async (db) =>
      (await db.query<Row>('SELECT key, value, updated_at FROM kv WHERE namespace = $1 ORDER BY key COLLATE "C"', [namespace])).rows
        .map(parse)
        .filter((e): e is KeyValueEntry => e !== undefined),
    );
  }

  set(namespace: string, key: string, value: unknown, at: number): Promise<void> {
    return this.setMany(namespace, [{ key, value, at }]);
  }

  setMany(namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>): Promise<void> {
    if (entries.length === 0) return this.db.run(async () => undefined);
    // Of two entries for one key, the later wins (as SQLite's one-by-one upserts); one statement cannot update a row twice.
    const last = new Map<string, { value: string; at: number }>();
    try {
      for (const e of entries) last.set(e.key, { value: encode(e.value), at: e.at });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const keys = [...last.keys()];
    return this.db.run(async (db) => {
      await db.query(UPSERT, [namespace, keys, keys.map((k) => last.get(k)!.value), keys.map((k) => last.get(k)!.at)]);
    });
  }

  delete(namespace: string, key: string): Promise<boolean> {
    return this.db.run(
      async (db) => ((await db.query('DELETE FROM kv WHERE namespace = $1 AND key = $2', [namespace, key])).rowCount ?? 0) > 0,
    );
  }
}
