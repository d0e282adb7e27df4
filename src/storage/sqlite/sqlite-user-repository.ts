import type { NewUser, UserRecord, UserRepository } from '../user-repository.js';
import { DuplicateKeyError } from '../errors.js';
import { migrate, type Database } from './database.js';
import { isUniqueViolation } from './gate.js';
import { SqliteRepository } from './repository.js';

export type { UserRecord };

interface Row {
  username: string;
  display_name: string;
  password_hash: string;
  groups: string;
  disabled: number;
  source: string;
  created_at: string;
  updated_at: string;
}

function toRecord(r: Row): UserRecord {
  return {
    username: r.username,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    groups: JSON.parse(r.groups) as string[],
    disabled: r.disabled === 1,
    source: r.source as UserRecord['source'],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class SqliteUserRepository extends SqliteRepository implements UserRepository {
  private readonly getStmt;
  private readonly versionStmt;
  private readonly upsertStmt;
  private readonly insertStmt;

  constructor(private readonly db: Database) {
    super();
    migrate(db, 'users', [
      `CREATE TABLE users (
        username TEXT PRIMARY KEY, display_name TEXT NOT NULL, password_hash TEXT NOT NULL, groups TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    ]);
    this.getStmt = db.prepare('SELECT * FROM users WHERE username = ?');
    // Changes when another connection (the `tagway user` CLI) commits to the file.
    this.versionStmt = db.prepare('PRAGMA data_version').pluck();
    const insert = `INSERT INTO users (username, display_name, password_hash, groups, disabled, source, created_at, updated_at)
      VALUES (@username, @displayName, @passwordHash, @groups, @disabled, @source, @now, @now)`;
    this.insertStmt = db.prepare(insert);
    this.upsertStmt = db.prepare(`${insert}
      ON CONFLICT(username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash,
        groups = excluded.groups, disabled = excluded.disabled, source = excluded.source, updated_at = excluded.updated_at`);
  }

  get(username: string): Promise<UserRecord | undefined> {
    return this.exec(() => {
      const r = this.getStmt.get(username) as Row | undefined;
      return r ? toRecord(r) : undefined;
    });
  }

  list(): Promise<UserRecord[]> {
    return this.exec(() => (this.db.prepare('SELECT * FROM users ORDER BY username').all() as Row[]).map(toRecord));
  }

  upsert(u: NewUser): Promise<void> {
    return this.exec(() => {
      this.upsertStmt.run(params(u));
    });
  }

  insert(u: NewUser): Promise<void> {
    return this.exec(() => {
      try {
        this.insertStmt.run(params(u));
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('users', u.username);
        throw err;
      }
    });
  }

  delete(username: string): Promise<boolean> {
    return this.exec(() => this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes > 0);
  }

  externalVersion(): Promise<number> {
    return this.exec(() => this.versionStmt.get() as number);
  }
}

function params(u: NewUser) {
  return {
    username: u.username,
    displayName: u.displayName,
    passwordHash: u.passwordHash,
    groups: JSON.stringify(u.groups),
    disabled: u.disabled ? 1 : 0,
    source: u.source,
    now: new Date().toISOString(),
  };
}
