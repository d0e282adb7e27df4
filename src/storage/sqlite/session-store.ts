import { migrate, type Database } from './database.js';

export interface SessionRecord {
  /** SHA-256 of the token: a stolen database file does not yield usable tokens. */
  tokenHash: string;
  username: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  clientAddress: string;
}

interface Row {
  token_hash: string;
  username: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  client_address: string;
}

const toRecord = (r: Row): SessionRecord => ({
  tokenHash: r.token_hash,
  username: r.username,
  csrfToken: r.csrf_token,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  absoluteExpiresAt: r.absolute_expires_at,
  clientAddress: r.client_address,
});

export class SessionStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly deleteStmt;
  private readonly touchStmt;
  constructor(private readonly db: Database) {
    migrate(db, 'sessions', [
      `CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf_token TEXT NOT NULL, created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL, client_address TEXT NOT NULL) WITHOUT ROWID;
       CREATE INDEX sessions_by_user ON sessions (username)`,
    ]);
    this.insertStmt = db.prepare(
      `INSERT INTO sessions VALUES (@tokenHash, @username, @csrfToken, @createdAt, @lastSeenAt, @absoluteExpiresAt, @clientAddress)`,
    );
    this.getStmt = db.prepare('SELECT * FROM sessions WHERE token_hash = ?');
    this.deleteStmt = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
    this.touchStmt = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?');
  }

  insert(s: SessionRecord): void {
    this.insertStmt.run(s);
  }
  get(tokenHash: string): SessionRecord | undefined {
    const r = this.getStmt.get(tokenHash) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }
  delete(tokenHash: string): void {
    this.deleteStmt.run(tokenHash);
  }
  touch(tokenHash: string, at: number): void {
    this.touchStmt.run(at, tokenHash);
  }
  deleteForUser(username: string): string[] {
    const rows = this.db.prepare('DELETE FROM sessions WHERE username = ? RETURNING token_hash').all(username) as Array<{
      token_hash: string;
    }>;
    return rows.map((r) => r.token_hash);
  }
  deleteExpired(now: number, idleMs: number): number {
    return this.db.prepare('DELETE FROM sessions WHERE absolute_expires_at <= ? OR last_seen_at <= ?').run(now, now - idleMs).changes;
  }
}
