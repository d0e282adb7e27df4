import type BetterSqlite3 from 'better-sqlite3';
import { migrate, type Database } from './database.js';

export interface UserRecord {
  username: string;
  displayName: string;
  passwordHash: string;
  groups: string[];
  disabled: boolean;
  /** `project` users are kept in step with the project file at every start; `local` ones are managed by admins. */
  source: 'project' | 'local';
  createdAt: string;
  updatedAt: string;
}

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

export class UserStore {
  constructor(private readonly db: Database) {
    migrate(db, 'users', [
      `CREATE TABLE users (
        username TEXT PRIMARY KEY, display_name TEXT NOT NULL, password_hash TEXT NOT NULL, groups TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    ]);
  }

  /**
   * Every authenticated request looks its user up (sessions and Basic both re-check `disabled`), so reads are
   * served from memory. `PRAGMA data_version` changes when *another* connection (the `tagway user` CLI) commits,
   * which empties the cache (checked at most every 200 ms); our own writes go through upsert/delete, which drop their entry. Records returned
   * are shared: treat them as read-only.
   */
  private readonly cache = new Map<string, UserRecord | null>();
  private cacheVersion = -1;
  private versionCheckedAt = 0;
  private stmts: { get: BetterSqlite3.Statement; version: BetterSqlite3.Statement } | undefined;

  get(username: string): UserRecord | undefined {
    const st = (this.stmts ??= {
      get: this.db.prepare('SELECT * FROM users WHERE username = ?'),
      version: this.db.prepare('PRAGMA data_version').pluck(),
    });
    // Asking SQLite costs microseconds per request; another process's change is seen within 200 ms.
    const now = Date.now();
    if (now - this.versionCheckedAt >= 200) {
      this.versionCheckedAt = now;
      const v = st.version.get() as number;
      if (v !== this.cacheVersion) {
        this.cache.clear();
        this.cacheVersion = v;
      }
    }
    let u = this.cache.get(username);
    if (u === undefined) {
      const r = st.get.get(username) as Row | undefined;
      u = r ? toRecord(r) : null;
      // Bounded: unknown names (cached as null) must not grow memory without limit.
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(username, u);
    }
    return u ?? undefined;
  }

  list(): UserRecord[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as Row[]).map(toRecord);
  }

  upsert(u: Omit<UserRecord, 'createdAt' | 'updatedAt'>): void {
    const now = new Date().toISOString();
    this.db
      .prepare(`INSERT INTO users (username, display_name, password_hash, groups, disabled, source, created_at, updated_at)
      VALUES (@username, @displayName, @passwordHash, @groups, @disabled, @source, @now, @now)
      ON CONFLICT(username) DO UPDATE SET display_name = excluded.display_name, password_hash = excluded.password_hash,
        groups = excluded.groups, disabled = excluded.disabled, source = excluded.source, updated_at = excluded.updated_at`)
      .run({ ...u, groups: JSON.stringify(u.groups), disabled: u.disabled ? 1 : 0, now });
    this.cache.delete(u.username);
  }

  delete(username: string): boolean {
    this.cache.delete(username);
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes > 0;
  }
}
