import { DuplicateKeyError } from '../errors.js';
import { MAX_PRESENT_QUERY, type SessionRecord, type SessionRepository } from '../session-repository.js';
import { migrate, type Database } from './database.js';
import { isUniqueViolation } from './gate.js';
import { SqliteRepository } from './repository.js';
import { sessionRecordOf, type SessionRow } from '../rows.js';

export type { SessionRecord };

export class SqliteSessionRepository extends SqliteRepository implements SessionRepository {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly deleteStmt;
  private readonly touchStmt;
  private readonly presentStmt;

  constructor(private readonly db: Database) {
    super();
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
    this.presentStmt = db.prepare('SELECT token_hash FROM sessions WHERE token_hash IN (SELECT value FROM json_each(?))');
  }

  insert(s: SessionRecord): Promise<void> {
    return this.exec(() => {
      try {
        this.insertStmt.run({
          tokenHash: s.tokenHash,
          username: s.username,
          csrfToken: s.csrfToken,
          createdAt: s.createdAt,
          lastSeenAt: s.lastSeenAt,
          absoluteExpiresAt: s.absoluteExpiresAt,
          clientAddress: s.clientAddress,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('sessions', s.tokenHash);
        throw err;
      }
    });
  }

  get(tokenHash: string): Promise<SessionRecord | undefined> {
    return this.exec(() => {
      const r = this.getStmt.get(tokenHash) as SessionRow | undefined;
      return r ? sessionRecordOf(r) : undefined;
    });
  }

  present(tokenHashes: readonly string[]): Promise<string[]> {
    if (tokenHashes.length > MAX_PRESENT_QUERY)
      return Promise.reject(new RangeError(`present: at most ${MAX_PRESENT_QUERY} hashes per call`));
    return this.exec(() =>
      // One JSON parameter rather than one placeholder per hash: a single prepared shape for any chunk size.
      (this.presentStmt.all(JSON.stringify(tokenHashes)) as Array<{ token_hash: string }>).map((r) => r.token_hash),
    );
  }

  listLive(now: number, idleMs: number, limit: number): Promise<SessionRecord[]> {
    return this.exec(() =>
      (
        this.db
          .prepare('SELECT * FROM sessions WHERE absolute_expires_at > ? AND last_seen_at > ? ORDER BY created_at, token_hash LIMIT ?')
          .all(now, now - idleMs, limit) as SessionRow[]
      ).map(sessionRecordOf),
    );
  }

  delete(tokenHash: string): Promise<void> {
    return this.exec(() => {
      this.deleteStmt.run(tokenHash);
    });
  }

  touch(tokenHash: string, at: number): Promise<void> {
    return this.exec(() => {
      this.touchStmt.run(at, tokenHash);
    });
  }

  deleteForUser(username: string): Promise<string[]> {
    return this.exec(() =>
      (this.db.prepare('DELETE FROM sessions WHERE username = ? RETURNING token_hash').all(username) as Array<{ token_hash: string }>).map(
        (r) => r.token_hash,
      ),
    );
  }

  deleteExpired(now: number, idleMs: number): Promise<number> {
    return this.exec(
      () => this.db.prepare('DELETE FROM sessions WHERE absolute_expires_at <= ? OR last_seen_at <= ?').run(now, now - idleMs).changes,
    );
  }
}
