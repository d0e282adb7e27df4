import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { EventBus, TagwayEvents } from '../runtime/event-bus.js';
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

type RevokeReason = TagwayEvents['session.revoked']['reason'];

/** At most one log line per this period for failed session writes (a full disk would fail every request). */
const TOUCH_ERROR_LOG_MS = 60_000;

interface CachedSession {
  record: SessionRecord;
  persistedLastSeen: number;
  /** Local time this process first held it: a cluster check leaves alone sessions whose row may still be on its way. */
  knownAt: number;
  /** The token itself, once seen in this process (never stored): lets later requests skip the SHA-256. */
  token?: string | undefined;
}

/**
 * Characters of a token that key the in-memory index (72 random bits of its 256): a key only finds the candidate;
 * the whole token is then compared in constant time, so knowing a key (it is never shown) would not be enough.
 */
const TOKEN_KEY_CHARS = 12;

/** Constant-time equality of two strings of equal length (the length of a token is not a secret). */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Opaque session tokens. Only a SHA-256 of the token is stored; sessions survive restarts. Every live session is
 * held in memory (loaded by `load` at start, bounded by MAX_SESSIONS), so authenticating a request costs two Map
 * lookups and a constant-time comparison (one hash the first time a token is seen) and never waits on storage; changes are written through to the repository in the background
 * (`flush` waits for them, at shutdown). A token unknown to the cache is unknown.
 */
export class SessionService {
  private readonly cache = new Map<string, CachedSession>();
  /**
   * Sessions by the first characters of their token, for the hot path: hashing every request's token cost more
   * than the rest of authentication. An entry counts only while its session is still the one in `cache` under its
   * hash, so ending a session never has to find its entry here; stale entries are swept by `prune`.
   */
  private readonly byTokenKey = new Map<string, CachedSession>();
  private readonly writes = new Set<Promise<unknown>>();
  /** Deliveries of session ends to other processes still under way (see `announcing`). */
  private readonly announcements = new Set<Promise<unknown>>();
  private storeErrors = 0;
  private storeErrorLoggedAt = -Infinity;

  constructor(
    private readonly store: SessionRepository,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
    readonly settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
    /** Where early session ends are announced (live channels close on them); none in the CLI. */
    private readonly events?: EventBus | undefined,
    private readonly logger?: Pick<Logger, 'warn'> | undefined,
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
      this.cache.set(record.tokenHash, { record, persistedLastSeen: record.lastSeenAt, knownAt: now });
  }

  /**
   * A listener of 'session.revoked' that carries the end to other processes (the cluster link) hands its delivery
   * here, bounded by itself: `announced` waits for it, so that a logout answers only once the others can know.
   */
  announcing(delivery: Promise<unknown>): void {
    const tracked = delivery.then(
      () => undefined,
      () => undefined,
    );
    this.announcements.add(tracked);
    void tracked.finally(() => this.announcements.delete(tracked));
  }

  /** Waits for the deliveries of session ends handed to `announcing` so far (none without a cluster). */
  async announced(): Promise<void> {
    if (this.announcements.size > 0) await Promise.all([...this.announcements]);
  }

  /** Token hashes of the sessions this process has held since `knownBefore` or earlier (local clock). */
  heldSince(knownBefore: number): string[] {
    const out: string[] = [];
    for (const [h, c] of this.cache) if (c.knownAt <= knownBefore) out.push(h);
    return out;
  }

  /** Waits until every change made so far is in the repository. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /**
   * A write-through in the background: a failure never fails the request that caused it (sessions work from
   * memory; a full disk would otherwise fail every read), it is logged, rate-limited.
   */
  private persist(message: string, p: Promise<unknown>): void {
    const tracked = p.then(
      () => undefined,
      (err: unknown) => this.storeFailed(err, message),
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
    this.persist('new session not saved (storage unavailable); it works until the next restart', this.store.insert(record));
    const c: CachedSession = { record, persistedLastSeen: now, knownAt: now };
    this.remember(c);
    this.index(c, token);
    if (this.events?.has('session.created')) this.events.emit('session.created', { record: { ...record } });
    return { token, record };
  }

  /** The live session of a token: by its key and a constant-time comparison when seen before, else by its hash. */
  private lookup(token: string): CachedSession | undefined {
    const known = this.byTokenKey.get(token.slice(0, TOKEN_KEY_CHARS));
    if (known?.token !== undefined && this.cache.get(known.record.tokenHash) === known && sameSecret(known.token, token)) return known;
    const c = this.cache.get(SessionService.hashToken(token));
    if (c) this.index(c, token);
    return c;
  }

  private index(c: CachedSession, token: string): void {
    // Bounded like the cache itself; a cleared index only costs the next requests one hash each.
    if (this.byTokenKey.size >= (this.settings.maxSessions ?? MAX_SESSIONS)) this.byTokenKey.clear();
    c.token = token;
    this.byTokenKey.set(token.slice(0, TOKEN_KEY_CHARS), c);
  }

  expiresAt(r: SessionRecord): number {
    return Math.min(r.lastSeenAt + this.settings.idleTimeoutMs, r.absoluteExpiresAt);
  }

  /** Resolves a token to its principal, sliding the idle timeout; undefined when unknown, expired or revoked. */
  authenticate(token: string): Principal | undefined {
    const c = this.lookup(token);
    if (!c) return undefined;
    const tokenHash = c.record.tokenHash;
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
    this.persist(
      'session last-seen time not saved (storage unavailable); sessions keep working from memory',
      this.store.touch(tokenHash, now),
    );
    if (this.events?.has('session.touched')) this.events.emit('session.touched', { sessionId: tokenHash, lastSeenAt: now });
  }

  /** Another node saw the session in use: its idle timeout slides here too (never backwards). */
  touched(tokenHash: string, lastSeenAt: number): void {
    const c = this.cache.get(tokenHash);
    if (c && lastSeenAt > c.record.lastSeenAt) {
      c.record.lastSeenAt = lastSeenAt;
      c.persistedLastSeen = Math.max(c.persistedLastSeen, lastSeenAt);
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
    this.persist('ended session not deleted (storage unavailable); it stays refused', this.store.delete(tokenHash));
    this.events?.emit('session.revoked', { sessionId: tokenHash, username, reason });
  }

  /** Logs storage failures of session writes at most once per period, with the number of failures since. */
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
    this.persist(
      'revoked session not deleted (storage unavailable); it stays refused until the next restart',
      this.store.delete(tokenHash),
    );
    // Every live session is in memory: one that is not was ended before, and is not announced again.
    if (c) this.events?.emit('session.revoked', { sessionId: tokenHash, username: c.record.username, reason });
  }

  /** Ends every session of a user, except `keep` (the session changing its own password stays logged in). */
  revokeUser(username: string, keep?: string): void {
    const kept = keep === undefined ? undefined : this.cache.get(keep);
    const ended: string[] = [];
    for (const [h, c] of this.cache)
      if (c.record.username === username) {
        this.cache.delete(h);
        ended.push(h);
      }
    const keepIt = kept && kept.record.username === username;
    if (keepIt) this.cache.set(kept.record.tokenHash, kept);
    // Deleting and re-inserting are queued in this order behind earlier writes, so the kept row survives.
    this.persist(
      "a user's ended sessions not deleted (storage unavailable); they stay refused until the next restart",
      this.store.deleteForUser(username).then(async () => {
        if (keepIt) await this.store.insert({ ...kept.record });
      }),
    );
    for (const sessionId of ended)
      if (!keepIt || sessionId !== kept.record.tokenHash) this.events?.emit('session.revoked', { sessionId, username, reason: 'user' });
  }

  /** The live sessions of a user (their records, not their tokens), oldest first; expired ones are left out. */
  listForUser(username: string): Array<{ record: SessionRecord; expiresAt: number }> {
    const now = this.clock.now();
    const out: Array<{ record: SessionRecord; expiresAt: number }> = [];
    for (const c of this.cache.values()) {
      if (c.record.username !== username) continue;
      const expiresAt = this.expiresAt(c.record);
      if (now < expiresAt) out.push({ record: c.record, expiresAt });
    }
    return out.sort((a, b) => a.record.createdAt - b.record.createdAt);
  }

  /**
   * A session another node created (it is in the shared repository already): known here from now on, so that its
   * token works on this node at once.
   */
  adopt(record: SessionRecord): void {
    if (this.cache.has(record.tokenHash) || this.clock.now() >= this.expiresAt(record)) return;
    this.remember({ record: { ...record }, persistedLastSeen: record.lastSeenAt, knownAt: this.clock.now() });
  }

  /**
   * A session another node ended (its row is gone already): refused here at once, and announced locally so that
   * live channels on this node close too.
   */
  forget(tokenHash: string, reason: RevokeReason): void {
    const c = this.cache.get(tokenHash);
    if (!c) return;
    this.cache.delete(tokenHash);
    this.events?.emit('session.revoked', { sessionId: tokenHash, username: c.record.username, reason });
  }

  /** Replaces a session by a new one for the same user (refresh); the old token stops working. */
  refresh(tokenHash: string, clientAddress: string): { token: string; record: SessionRecord } | undefined {
    const c = this.cache.get(tokenHash);
    if (!c) return undefined;
    this.revoke(tokenHash, 'refresh');
    // The new session inherits the absolute limit: refreshing must not keep a token alive forever.
    return this.create(c.record.username, clientAddress, c.record.absoluteExpiresAt);
  }

  /** Drops expired sessions; runs from a timer, so a storage failure is logged (rate-limited), never thrown. */
  async prune(): Promise<number> {
    const now = this.clock.now();
    for (const [h, c] of this.cache) if (now >= this.expiresAt(c.record)) this.cache.delete(h);
    for (const [k, c] of this.byTokenKey) if (this.cache.get(c.record.tokenHash) !== c) this.byTokenKey.delete(k);
    await this.flush();
    try {
      return await this.store.deleteExpired(now, this.settings.idleTimeoutMs);
    } catch (err) {
      this.storeFailed(err, 'expired sessions not pruned (storage unavailable); they stay refused');
      return 0;
    }
  }
}
