import { DuplicateKeyError } from '../errors.js';
import { MAX_PRESENT_QUERY, type SessionRecord, type SessionRepository } from '../session-repository.js';
import { isUniqueViolation, PgRepository, type PgMigrations } from './db.js';
import { sessionRecordOf, type SessionRow } from '../rows.js';

export const SESSION_MIGRATIONS: PgMigrations = {
  module: 'sessions',
  steps: [
    `CREATE TABLE sessions (
       token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf_token TEXT NOT NULL, created_at BIGINT NOT NULL,
       last_seen_at BIGINT NOT NULL, absolute_expires_at BIGINT NOT NULL, client_address TEXT NOT NULL);
     CREATE INDEX sessions_by_user ON sessions (username);`,
  ],
};

export class PgSessionRepository extends PgRepository implements SessionRepository {
  insert(s: SessionRecord): Promise<void> {
    return this.db.run(async (db) => {
      try {
        await db.query(
          `INSERT INTO sessions (token_hash, username, csrf_token, created_at, last_seen_at, absolute_expires_at, client_address)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [s.tokenHash, s.username, s.csrfToken, s.createdAt, s.lastSeenAt, s.absoluteExpiresAt, s.clientAddress],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError('sessions', s.tokenHash);
        throw err;
      }
    });
  }

  get(tokenHash: string): Promise<SessionRecord | undefined> {
    return this.db.run(async (db) => {
      const r = (await db.query<SessionRow>('SELECT * FROM sessions WHERE token_hash = $1', [tokenHash])).rows[0];
      return r ? sessionRecordOf(r) : undefined;
    });
  }

  present(tokenHashes: readonly string[]): Promise<string[]> {
    if (tokenHashes.length > MAX_PRESENT_QUERY)
      return Promise.reject(new RangeError(`present: at most ${MAX_PRESENT_QUERY} hashes per call`));
    if (tokenHashes.length === 0) return Promise.resolve([]);
    return this.db.run(async (db) =>
      (
        await db.query<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE token_hash = ANY($1::text[])', [[...tokenHashes]])
      ).rows.map((r) => r.token_hash),
    );
  }

  listLive(now: number, idleMs: number, limit: number): Promise<SessionRecord[]> {
    return this.db.run(async (db) =>
      (
        await db.query<SessionRow>(
          'SELECT * FROM sessions WHERE absolute_expires_at > $1 AND last_seen_at > $2 ORDER BY created_at, token_hash COLLATE "C" LIMIT $3',
          [now, now - idleMs, limit],
        )
      ).rows.map(sessionRecordOf),
    );
  }

  delete(tokenHash: string): Promise<void> {
    return this.db.run(async (db) => {
      await db.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    });
  }

  touch(tokenHash: string, at: number): Promise<void> {
    return this.db.run(async (db) => {
      await db.query('UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2', [at, tokenHash]);
    });
  }

  deleteForUser(username: string): Promise<string[]> {
    return this.db.run(async (db) =>
      (await db.query<{ token_hash: string }>('DELETE FROM sessions WHERE username = $1 RETURNING token_hash', [username])).rows.map(
        (r) => r.token_hash,
      ),
    );
  }

  deleteExpired(now: number, idleMs: number): Promise<number> {
    return this.db.run(
      async (db) =>
        (await db.query('DELETE FROM sessions WHERE absolute_expires_at <= $1 OR last_seen_at <= $2', [now, now - idleMs])).rowCount ?? 0,
    );
  }
}
