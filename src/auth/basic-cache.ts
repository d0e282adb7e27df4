import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';

/**
 * HTTP Basic sends the password with every request; verifying it with argon2id each time would cost tens of
 * milliseconds of CPU per request. This cache remembers a *successful* verification for a short time, keyed by
 * HMAC-SHA256(per-process random key, "username:password"): the password itself is never kept, and the key is
 * never written anywhere, so a heap or core dump does not give an offline guessing oracle that outlives the
 * process. Failures are never cached (throttling covers guessing). Concurrent requests carrying the same
 * credentials share one verification.
 */
export interface BasicCacheOptions {
  ttlMs: number;
  maxEntries: number;
}

interface Entry<P> {
  username: string;
  principal: P;
  expiresAt: number;
}

export class BasicAuthCache<P> {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry<P>>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly inFlight = new Map<string, Promise<P | null>>();
  /** Bumped by invalidate(): a verification that started before a password change must not be cached after it. */
  private readonly generations = new Map<string, number>();
  private epoch = 0;
  private readonly opts: BasicCacheOptions;

  constructor(
    private readonly clock: Clock,
    opts: Partial<BasicCacheOptions> = {},
  ) {
    this.opts = { ttlMs: 60_000, maxEntries: 10_000, ...opts };
  }

  private digest(username: string, password: string): string {
    return createHmac('sha256', this.key).update(username).update(':').update(password).digest('base64');
  }

  /** The cached principal, or null when the credentials must be verified (unknown, expired or invalidated). */
  get(username: string, password: string): P | null {
    const k = this.digest(username, password);
    const e = this.entries.get(k);
    if (!e) return null;
    if (e.expiresAt <= this.clock.now()) {
      this.drop(k, e.username);
      return null;
    }
    return e.principal;
  }

  /**
   * Cached principal, or runs `verify` (once for concurrent identical credentials) and caches a non-null result.
   * A map hit on the HMAC digest is safe against timing: the digest of a wrong password is unrelated to the
   * right one's, so lookup time reveals nothing about the password.
   */
  async resolve(username: string, password: string, verify: () => Promise<P | null>): Promise<P | null> {
    const k = this.digest(username, password);
    const e = this.entries.get(k);
    const now = this.clock.now();
    if (e && e.expiresAt > now) return e.principal;
    if (e) this.drop(k, e.username);
    const pending = this.inFlight.get(k);
    if (pending) return pending;
    const gen = this.generation(username);
    const p = (async () => {
      try {
        const principal = await verify();
        if (principal !== null && gen === this.generation(username)) this.put(k, username, principal);
        return principal;
      } finally {
        this.inFlight.delete(k);
      }
    })();
    this.inFlight.set(k, p);
    return p;
  }

  /** The verification already running for these exact credentials, if any (joining it costs no new verification). */
  pending(username: string, password: string): Promise<P | null> | undefined {
    return this.inFlight.get(this.digest(username, password));
  }

  /** Password changed, user disabled or deleted, groups changed: forget every entry of that user. */
  invalidate(username: string): void {
    this.generations.set(username, (this.generations.get(username) ?? 0) + 1);
    const keys = this.byUser.get(username);
    if (keys) for (const k of keys) this.entries.delete(k);
    this.byUser.delete(username);
    this.inFlight.clear();
  }

  /** Group permissions changed: every cached principal may be stale. */
  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.byUser.clear();
    this.inFlight.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private generation(username: string): string {
    return `${this.epoch}.${this.generations.get(username) ?? 0}`;
  }

  private put(k: string, username: string, principal: P): void {
    if (this.entries.size >= this.opts.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const first = this.entries.entries().next();
      if (!first.done) this.drop(first.value[0], first.value[1].username);
    }
    this.entries.set(k, { username, principal, expiresAt: this.clock.now() + this.opts.ttlMs });
    let set = this.byUser.get(username);
    if (!set) {
      set = new Set();
      this.byUser.set(username, set);
    }
    set.add(k);
  }

  private drop(k: string, username: string): void {
    this.entries.delete(k);
    const set = this.byUser.get(username);
    if (set) {
      set.delete(k);
      if (set.size === 0) this.byUser.delete(username);
    }
  }
}

/** Parses `Authorization: Basic …` (RFC 7617); null when malformed. The user-id cannot contain a colon. */
export function parseBasic(header: string): { username: string; password: string } | null {
  if (header.length < 7 || header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const raw = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i <= 0) return null;
  return { username: raw.slice(0, i), password: raw.slice(i + 1) };
}
