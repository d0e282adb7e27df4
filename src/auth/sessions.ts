import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { EventBus, TagwayEvents } from '../runtime/event-bus.js';
import type { SessionRecord, SessionStore } from '../storage/sqlite/session-store.js';
import type { Principal } from './principal.js';
import type { UserDirectory } from './user-directory.js';

export interface SessionSettings {
  /** Sliding idle timeout (default 30 min). */
  idleTimeoutMs: number;
  /** Absolute lifetime (default 12 h). */
  absoluteLifetimeMs: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { idleTimeoutMs: 30 * 60_000, absoluteLifetimeMs: 12 * 3_600_000 };

/** How often at most the sliding "last seen" time is written back, so reads do not write on every request. */
const TOUCH_PERSIST_MS = 60_000;

type RevokeReason = TagwayEvents['session.revoked']['reason'];

/** At most one log line per this period for failed "last seen" writes (a full disk would fail every request). */
const TOUCH_ERROR_LOG_MS = 60_000;

interface CachedSession {
  record: SessionRecord;
  persistedLastSeen: number;
}

/**
 * Opaque session tokens. Only a SHA-256 of the token is stored; sessions survive restarts and are cached in
 * memory so that authenticating a request costs one hash and one Map lookup.
 */
export class SessionService {
  private readonly cache = new Map<string, CachedSession>();
  private storeErrors = 0;
  private storeErrorLoggedAt = -Infinity;

  constructor(
    private readonly store: SessionStore,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
    readonly settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
    /** Where early session ends are announced (live channels close on them); none in the CLI. */
    private readonly events?: EventBus | undefined,
    private readonly logger?: Logger | undefined,
  ) {
    users.onChange((username) => {
      // A disabled or deleted user loses every session at once; other changes only refresh permissions.
      if (username === undefined) return;
      const u = users.get(username);
      if (!u || u.disabled) this.revokeUser(username);
    });
  }

  static hashToken(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** A new session; `absoluteExpiresAt` is given by refresh, which must not extend the absolute lifetime. */
  create(username: string, clientAddress: string, absoluteExpiresAt?: number): { token: string; record: SessionRecord } {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const record: SessionRecord = {
      tokenHash: SessionService.hashToken(token),
      username,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: absoluteExpiresAt ?? now + this.settings.absoluteLifetimeMs,
      clientAddress,
    };
    this.store.insert(record);
    this.cache.set(record.tokenHash, { record, persistedLastSeen: now });
    return { token, record };
  }

  expiresAt(r: SessionRecord): number {
    return Math.min(r.lastSeenAt + this.settings.idleTimeoutMs, r.absoluteExpiresAt);
  }

  /** Resolves a token to its principal, sliding the idle timeout; undefined when unknown, expired or revoked. */
  authenticate(token: string): Principal | undefined {
    const tokenHash = SessionService.hashToken(token);
    let c = this.cache.get(tokenHash);
    if (!c) {
      const record = this.store.get(tokenHash);
      if (!record) return undefined;
      c = { record, persistedLastSeen: record.lastSeenAt };
      this.cache.set(tokenHash, c);
    }
    const now = this.clock.now();
    const r = c.record;
    if (now >= this.expiresAt(r)) {
      this.endQuietly(c, 'expired');
      return undefined;
    }
    const user = this.users.get(r.username);
    if (!user || user.disabled) {
      this.endQuietly(c, 'user');
      return undefined;
    }
    r.lastSeenAt = now;
    if (now - c.persistedLastSeen >= TOUCH_PERSIST_MS) {
      // Set first: after a failed write the next try waits a period too, instead of hitting a full disk per request.
      c.persistedLastSeen = now;
      this.touch(tokenHash, now);
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

  /**
   * The "last seen" time is metadata: losing a write costs at most a shorter idle timeout after a restart, while
   * failing here would fail every authenticated read on a full disk. So errors are logged (rate-limited) and the
   * session keeps working from memory.
   */
  private touch(tokenHash: string, now: number): void {
    try {
      this.store.touch(tokenHash, now);
    } catch (err) {
      this.storeFailed(err, 'session last-seen time not saved (storage unavailable); sessions keep working from memory');
    }
  }

  /**
   * Ends an expired session or one of a disabled user, found while authenticating: the request is refused from
   * memory whether or not the row could be deleted (a row left behind is refused again after a restart, for
   * the same reason), so a full disk turns this into a logged warning, not a 500.
   */
  private endQuietly(c: CachedSession, reason: RevokeReason): void {
    const { tokenHash, username } = c.record;
    this.cache.delete(tokenHash);
    try {
      this.store.delete(tokenHash);
    } catch (err) {
      this.storeFailed(err, 'ended session not deleted (storage unavailable); it stays refused');
    }
    this.events?.emit('session.revoked', { sessionId: tokenHash, username, reason });
  }

  /** Logs storage failures of session metadata at most once per period, with the number of failures since. */
  private storeFailed(err: unknown, message: string): void {
    const now = this.clock.now();
    this.storeErrors++;
    if (now - this.storeErrorLoggedAt < TOUCH_ERROR_LOG_MS) return;
    this.logger?.warn({ err: (err as Error).message, failedWrites: this.storeErrors }, message);
    this.storeErrorLoggedAt = now;
    this.storeErrors = 0;
  }

  revoke(tokenHash: string, reason: RevokeReason = 'revoked'): void {
    const c = this.cache.get(tokenHash);
    this.cache.delete(tokenHash);
    const username = c?.record.username ?? this.store.get(tokenHash)?.username;
    this.store.delete(tokenHash);
    if (username !== undefined) this.events?.emit('session.revoked', { sessionId: tokenHash, username, reason });
  }

  /** Ends every session of a user, except `keep` (the session changing its own password stays logged in). */
  revokeUser(username: string, keep?: string): void {
    const kept =
      keep === undefined
        ? undefined
        : (this.cache.get(keep) ??
          (() => {
            const record = this.store.get(keep);
            return record ? { record, persistedLastSeen: record.lastSeenAt } : undefined;
          })());
    const ended = new Set(this.store.deleteForUser(username));
    for (const [h, c] of this.cache)
      if (c.record.username === username) {
        this.cache.delete(h);
        ended.add(h);
      }
    if (kept && kept.record.username === username) {
      this.store.insert(kept.record);
      this.cache.set(kept.record.tokenHash, kept);
      ended.delete(kept.record.tokenHash);
    }
    for (const sessionId of ended) this.events?.emit('session.revoked', { sessionId, username, reason: 'user' });
  }

  /** Replaces a session by a new one for the same user (refresh); the old token stops working. */
  refresh(tokenHash: string, clientAddress: string): { token: string; record: SessionRecord } | undefined {
    const c =
      this.cache.get(tokenHash) ??
      (() => {
        const record = this.store.get(tokenHash);
        return record ? { record, persistedLastSeen: record.lastSeenAt } : undefined;
      })();
    if (!c) return undefined;
    this.revoke(tokenHash, 'refresh');
    // The new session inherits the absolute limit: refreshing must not keep a token alive forever.
    return this.create(c.record.username, clientAddress, c.record.absoluteExpiresAt);
  }

  /** Drops expired sessions; runs from a timer, so a storage failure is logged (rate-limited), never thrown. */
  prune(): number {
    const now = this.clock.now();
    for (const [h, c] of this.cache) if (now >= this.expiresAt(c.record)) this.cache.delete(h);
    try {
      return this.store.deleteExpired(now, this.settings.idleTimeoutMs);
    } catch (err) {
      this.storeFailed(err, 'expired sessions not pruned (storage unavailable); they stay refused');
      return 0;
    }
  }
}
