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

/** Most token hashes one `present` call takes: one bounded query, far below either backend's parameter limits. */
export const MAX_PRESENT_QUERY = 1000;

/**
 * Login sessions. Authentication reads them from the session service's in-memory cache (loaded with `listLive` at
 * start); the repository is written through and read again only at the next start.
 */
export interface SessionRepository {
  /** DuplicateKeyError when the token hash exists. */
  insert(s: SessionRecord): Promise<void>;
  get(tokenHash: string): Promise<SessionRecord | undefined>;
  /**
   * Which of these token hashes still have a row, in any order (a cluster node checks its cached sessions against
   * the shared database with it). Callers pass at most MAX_PRESENT_QUERY hashes per call.
   */
  present(tokenHashes: readonly string[]): Promise<string[]>;
  /** Sessions neither absolutely expired at `now` nor idle for `idleMs`, oldest first, at most `limit`. */
  listLive(now: number, idleMs: number, limit: number): Promise<SessionRecord[]>;
  delete(tokenHash: string): Promise<void>;
  /** Slides the idle timeout; no effect for an unknown hash. */
  touch(tokenHash: string, at: number): Promise<void>;
  /** Deletes every session of a user; returns their token hashes. */
  deleteForUser(username: string): Promise<string[]>;
  /** Deletes sessions absolutely expired at `now` or idle for `idleMs`; returns how many. */
  deleteExpired(now: number, idleMs: number): Promise<number>;
}
