import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import type { Logger } from 'pino';
import type { SessionRecord, SessionRepository } from '../storage/session-repository.js';
import type { Principal } from './principal.js';
import type { UserDirectory } from './user-directory.js';

export interface SessionSettings {
  /** Sliding idle timeout (default 30 min). */
  idleTimeoutMs: number;
  /** Absolute lifetime (default 12 h). */
  absoluteLifetimeMs: number;
  /** Live sessions held at most (default MAX_SESSIONS); beyond it the oldest one ends. */
  maxSessions?: number | undefined;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { idleTimeoutMs: 30 * 60_000, absoluteLifetimeMs: 12 * 3_600_000 };

/** How often at most the sliding "last seen" time is written back, so reads do not write on every request. */
const TOUCH_PERSIST_MS = 60_000;

/** Sessions held in memory at most by default; beyond it the least recently created is ended (see docs/security.md). */
export const MAX_SESSIONS = 100_000;

interface CachedSession {
  record: SessionRecord;
  persistedLastSeen: number;
}

/**
 * Opaque session tokens. Only a SHA-256 of the token is stored; sessions survive restarts. Every live session is
 * held in memory (loaded by `load` at start, bounded by MAX_SESSIONS), so authenticating a request costs one hash
 * and one Map lookup and never waits on storage; changes are written through to the repository in the background
 * (`flush` waits for them, at shutdown). A token unknown to the cache is unknown.
 */
export class SessionService {
  private readonly cache = new Map<string, CachedSession>();
  private readonly writes = new Set<Promise<unknown>>();

  constructor(
    private readonly store: SessionRepository,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
    readonly settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
    private readonly logger?: Pick<Logger, 'error'> | undefined,
  ) {
    users.onChange((username) => {
      // A disabled or deleted user loses every session at once; other changes only refresh permissions.
      if (username === undefined) return;
      const u = users.get(username);
      if (!u || u.disabled) this.revokeUser(username);
    });
  }

  /** Loads the live sessions from the repository (at start). */
  async load(): Promise<void> {
    const now = this.clock.now();
    for (const record of await this.store.listLive(now, this.settings.idleTimeoutMs, this.settings.maxSessions ?? MAX_SESSIONS))
      this.cache.set(record.tokenHash, { record, persistedLastSeen: record.lastSeenAt });
  }

  /** Waits until every change made so far is in the repository. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** A write-through in the background: a failure is logged (the session still works until the next restart). */
  private persist(what: string, p: Promise<unknown>): void {
    const tracked = p.then(
      () => undefined,
      (err: unknown) => this.logger?.error({ err }, `storing a session change failed (${what})`),
    );
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }

  private remember(c: CachedSession): void {
    if (this.cache.size >= (this.settings.maxSessions ?? MAX_SESSIONS) && !this.cache.has(c.record.tokenHash)) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.revoke(oldest);
    }
    this.cache.set(c.record.tokenHash, c);
  }

  static hashToken(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  create(username: string, clientAddress: string): { token: string; record: SessionRecord } {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const record: SessionRecord = {
      tokenHash: SessionService.hashToken(token),
      username,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + this.settings.absoluteLifetimeMs,
      clientAddress,
    };
    this.persist('create', this.store.insert(record));
    this.remember({ record, persistedLastSeen: now });
    return { token, record };
  }

  expiresAt(r: SessionRecord): number {
    return Math.min(r.lastSeenAt + this.settings.idleTimeoutMs, r.absoluteExpiresAt);
  }

  /** Resolves a token to its principal, sliding the idle timeout; undefined when unknown, expired or revoked. */
  authenticate(token: string): Principal | undefined {
    const tokenHash = SessionService.hashToken(token);
    const c = this.cache.get(tokenHash);
    if (!c) return undefined;
    const now = this.clock.now();
    const r = c.record;
    if (now >= this.expiresAt(r)) {
      this.revoke(tokenHash);
      return undefined;
    }
    const user = this.users.get(r.username);
    if (!user || user.disabled) {
      this.revoke(tokenHash);
      return undefined;
    }
    r.lastSeenAt = now;
    if (now - c.persistedLastSeen >= TOUCH_PERSIST_MS) {
      this.persist('touch', this.store.touch(tokenHash, now));
      c.persistedLastSeen = now;
    }
    return {
      username: user.username,
      displayName: user.displayName,
      groups: user.groups,
      permissions: this.users.permissionsFor(user.groups),
      authMethod: 'session',
      sessionExpiresAt: this.expiresAt(r),
      sessionId: tokenHash,
      csrfToken: r.csrfToken,
    };
  }

  revoke(tokenHash: string): void {
    this.cache.delete(tokenHash);
    this.persist('revoke', this.store.delete(tokenHash));
  }

  /** Ends every session of a user, except `keep` (the session changing its own password stays logged in). */
  revokeUser(username: string, keep?: string): void {
    const kept = keep === undefined ? undefined : this.cache.get(keep);
    for (const [h, c] of this.cache) if (c.record.username === username) this.cache.delete(h);
    const keepIt = kept && kept.record.username === username;
    if (keepIt) this.cache.set(kept.record.tokenHash, kept);
    // Deleting and re-inserting are queued in this order behind earlier writes, so the kept row survives.
    this.persist(
      'revoke user',
      this.store.deleteForUser(username).then(async () => {
        if (keepIt) await this.store.insert({ ...kept.record });
      }),
    );
  }

  /** Replaces a session by a new one for the same user (refresh); the old token stops working. */
  refresh(tokenHash: string, clientAddress: string): { token: string; record: SessionRecord } | undefined {
    const c = this.cache.get(tokenHash);
    if (!c) return undefined;
    this.revoke(tokenHash);
    return this.create(c.record.username, clientAddress);
  }

  prune(): Promise<number> {
    const now = this.clock.now();
    for (const [h, c] of this.cache) if (now >= this.expiresAt(c.record)) this.cache.delete(h);
    return this.flush().then(() => this.store.deleteExpired(now, this.settings.idleTimeoutMs));
  }
}
