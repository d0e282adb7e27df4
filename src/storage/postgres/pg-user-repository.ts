import { DuplicateKeyError } from '../errors.js';
import type { NewUser, UserRecord, UserRepository } from '../user-repository.js';
import { isUniqueViolation, PgRepository, type PgMigrations } from './db.js';

export const USER_MIGRATIONS: PgMigrations = {
  module: 'users',
  steps: [
    `CREATE TABLE users (
       username TEXT PRIMARY KEY, display_name TEXT NOT NULL, password_hash TEXT NOT NULL, groups TEXT NOT NULL,
       disabled BOOLEAN NOT NULL DEFAULT false, source TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
     -- Bumped by every committed change, so that every node's user directory notices the others' writes.
     CREATE TABLE users_version (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version BIGINT NOT NULL);
     INSERT INTO users_version (version) VALUES (0);
     CREATE FUNCTION users_bump_version() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN UPDATE users_version SET version = version + 1; RETURN NULL; END $$;
     CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION users_bump_version();`,
  ],
};

interface Row {
  username: string;
  display_name: string;
  password_hash: string;
  groups: string;
  disabled: boolean;
  source: string;
  created_at: string;
  updated_at: string;
}

const toRecord = (r: Row): UserRecord => ({
  username: r.username,
  displayName: r.display_name,
  passwordHash: r.password_hash,
  groups: JSON.parse(r.groups) as string[],
  disabled: r.disabled,
  source: r.source as UserRecord['source'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const INSERT = `INSERT INTO users (username, display_name, password_hash, groups, disabled, source, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`;

const params = (u: NewUser) => [
  u.username,
  u.displayName,
  u.passwordHash,
  JSON.stringify(u.groups),
  u.disabled,
  u.source,
  new Date().toISOString(),
];

export class PgUserRepository extends PgRepository implements UserRepository {
  get(username: string): Promise<UserRecord | undefined> {
    return this.db.run(async (db) => {
      const r = (await db.query<Row>('SELECT * FROM users WHERE username = $1', [username])).rows[0];
      return r ? toRecord(r) : undefined;
    });
  }

  list(): Promise<UserRecord[]> {
    return this.db.run(async (db) => (await db.query<Row>('SELECT * FROM users ORDER BY username COLLATE "C"')).rows.map(toRecord));
  }

  upsert(u: NewUser): Promise<void> {
    return this.db.run(async (db) => {
      await db.query(
        `${INSERT} ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash,
           groups = excluded.groups, disabled = excluded.disabled, source = excluded.source, updated_at = excluded.updated_at`,
        params(u),
      );
    });
  }

  insert(u: NewUser): Promise<void> {
    return this.db.run(async (db) => {
      try {
        await db.query(INSERT, params(u));
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('users', u.username);
        throw err;
      }
    });
  }

  delete(username: string): Promise<boolean> {
    return this.db.run(async (db) => ((await db.query('DELETE FROM users WHERE username = $1', [username])).rowCount ?? 0) > 0);
  }

  externalVersion(): Promise<number> {
    return this.db.run(async (db) => (await db.query<{ version: number }>('SELECT version FROM users_version')).rows[0]!.version);
  }
}
