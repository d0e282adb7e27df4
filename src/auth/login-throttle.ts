import type { Clock } from '../domain/clock.js';

/**
 * Login throttling (api.md: 5 failures per username or 20 per client address within 10 minutes → every attempt
 * for it gets 429 until a cooling-off period ends; 60 s, doubling on repeat). Optional lockout after N
 * consecutive failures for one user, which the caller turns into a persistent "disabled" (this class only
 * counts; it holds nothing that must survive a restart).
 */
export interface ThrottleSettings {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  windowMs: number;
  coolingOffMs: number;
  /** The doubling stops here. */
  maxCoolingOffMs: number;
  /** Consecutive failures for one user (not reset by time, only by a successful login) that lock it; 0 = off. */
  lockoutAfter: number;
  /** Bound on tracked keys, so random usernames cannot grow memory without limit. */
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  maxFailuresPerUser: 5,
  maxFailuresPerAddress: 20,
  windowMs: 10 * 60_000,
  coolingOffMs: 60_000,
  maxCoolingOffMs: 60 * 60_000,
  lockoutAfter: 0,
  maxEntries: 100_000,
};

export type ThrottleVerdict = { allowed: true } | { allowed: false; scope: 'user' | 'address'; retryAfterSeconds: number };

export interface FailureOutcome {
  /** Set when this failure started a cooling-off period. */
  blocked?: { scope: 'user' | 'address'; retryAfterSeconds: number } | undefined;
  /** Set when this failure reached the lockout threshold; the caller disables the user. */
  lockedOut?: boolean | undefined;
}

interface Entry {
  /** Failure times inside the window, oldest first. */
  failures: number[];
  blockedUntil: number;
  /** Cooling-off periods served without a quiet window in between; each doubles the next. */
  strikes: number;
  lastBlockEnd: number;
  /** Consecutive failures (users only), for lockout. */
  consecutive: number;
  touched: number;
}

export class LoginThrottle {
  readonly settings: ThrottleSettings;
  // Two maps so a username that looks like an address (or vice versa) can never share a counter.
  private readonly users = new Map<string, Entry>();
  private readonly addresses = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    settings: Partial<ThrottleSettings> = {},
  ) {
    this.settings = { ...DEFAULT_THROTTLE, ...settings };
  }

  /** Before checking the password: may this attempt proceed? (Usernames are compared case-insensitively.) */
  check(username: string, address: string): ThrottleVerdict {
    const now = this.clock.now();
    const u = this.users.get(norm(username));
    const a = this.addresses.get(address);
    const uWait = u && u.blockedUntil > now ? u.blockedUntil - now : 0;
    const aWait = a && a.blockedUntil > now ? a.blockedUntil - now : 0;
    if (uWait === 0 && aWait === 0) return { allowed: true };
    return uWait >= aWait
      ? { allowed: false, scope: 'user', retryAfterSeconds: Math.ceil(uWait / 1000) }
      : { allowed: false, scope: 'address', retryAfterSeconds: Math.ceil(aWait / 1000) };
  }

  recordFailure(username: string, address: string): FailureOutcome {
    const now = this.clock.now();
    const s = this.settings;
    const u = this.entry(this.users, norm(username), now);
    const a = this.entry(this.addresses, address, now);
    u.consecutive++;
    const ub = this.fail(u, now, s.maxFailuresPerUser);
    const ab = this.fail(a, now, s.maxFailuresPerAddress);
    const out: FailureOutcome = {};
    if (ub !== undefined || ab !== undefined) {
      out.blocked =
        (ub ?? 0) >= (ab ?? 0)
          ? { scope: 'user', retryAfterSeconds: Math.ceil((ub ?? 0) / 1000) }
          : { scope: 'address', retryAfterSeconds: Math.ceil((ab ?? 0) / 1000) };
    }
    if (s.lockoutAfter > 0 && u.consecutive === s.lockoutAfter) out.lockedOut = true;
    return out;
  }

  /**
   * A correct password clears the user's counters, but not the address's: otherwise an attacker holding one
   * valid account could reset their address budget between guesses at other accounts.
   */
  recordSuccess(username: string): void {
    this.users.delete(norm(username));
  }

  /** An administrator re-enabled a user: forget its history. */
  reset(username: string): void {
    this.users.delete(norm(username));
  }

  get size(): number {
    return this.users.size + this.addresses.size;
  }

  /** Returns the cooling-off length when this failure starts one. */
  private fail(e: Entry, now: number, max: number): number | undefined {
    const s = this.settings;
    if (e.blockedUntil > now) return undefined; // attempts during a cooling-off are refused before they get here
    while (e.failures.length > 0 && e.failures[0]! <= now - s.windowMs) e.failures.shift();
    e.failures.push(now);
    if (e.failures.length < max) return undefined;
    // A quiet window after the last cooling-off forgives earlier strikes.
    if (e.strikes > 0 && now - e.lastBlockEnd >= s.windowMs) e.strikes = 0;
    const period = Math.min(s.coolingOffMs * 2 ** e.strikes, s.maxCoolingOffMs);
    e.strikes++;
    e.blockedUntil = now + period;
    e.lastBlockEnd = e.blockedUntil;
    e.failures = [];
    return period;
  }

  private entry(map: Map<string, Entry>, key: string, now: number): Entry {
    let e = map.get(key);
    if (e) {
      // Re-insert so that Map order is least-recently-touched first, which makes eviction cheap.
      map.delete(key);
    } else {
      e = { failures: [], blockedUntil: 0, strikes: 0, lastBlockEnd: 0, consecutive: 0, touched: now };
      if (this.size >= this.settings.maxEntries) this.evict(now);
    }
    e.touched = now;
    map.set(key, e);
    return e;
  }

  /** Drops entries that carry no state any more; if none, the least recently touched. */
  private evict(now: number): void {
    const s = this.settings;
    for (const map of [this.users, this.addresses]) {
      for (const [k, e] of map) {
        if (e.blockedUntil <= now && now - e.touched > s.windowMs && (e.consecutive === 0 || s.lockoutAfter === 0)) map.delete(k);
      }
    }
    if (this.size >= s.maxEntries) {
      const map = this.addresses.size > this.users.size ? this.addresses : this.users;
      const first = map.keys().next();
      if (!first.done) map.delete(first.value);
    }
  }
}

function norm(username: string): string {
  return username.normalize('NFC').toLowerCase();
}
