import type { Clock } from '../domain/clock.js';
import { addressPrefix } from './address-prefix.js';

/**
 * Login throttling (api.md, security.md "Login protection"). Three budgets, each a sliding window:
 *  - per (username, client network): 5 failures in 10 minutes → that pair gets 429 for a cooling-off period
 *    (60 s, doubling on repeat). The owner of the account at another address is not affected, so an attacker
 *    cannot lock the real user out by failing on purpose.
 *  - per client network (IPv4 /32, IPv6 /64, so rotating through one's own /64 buys nothing): 20 failures.
 *  - global: failures per minute across all users and addresses, the bound on a distributed guessing attack.
 * An attempt is reserved before the (slow, awaited) password verification and counted as a failure while it is
 * in flight, so a burst of concurrent attempts gets no more verifications than the budget allows.
 * Optional lockout after N consecutive failures for one user (any address), which the caller turns into a
 * persistent "disabled" (this class only counts; it holds nothing that must survive a restart).
 */
export interface ThrottleSettings {
  /** Failures per (username, client network) in the window. */
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  /** Failures across all users and addresses per `globalWindowMs`; 0 = off. */
  maxFailuresGlobal: number;
  globalWindowMs: number;
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
  maxFailuresGlobal: 300,
  globalWindowMs: 60_000,
  windowMs: 10 * 60_000,
  coolingOffMs: 60_000,
  maxCoolingOffMs: 60 * 60_000,
  lockoutAfter: 0,
  maxEntries: 100_000,
};

export type ThrottleScope = 'user' | 'address' | 'global';
export type ThrottleVerdict = { allowed: true } | { allowed: false; scope: ThrottleScope; retryAfterSeconds: number };

export interface FailureOutcome {
  /** Set when this failure started a cooling-off period. */
  blocked?: { scope: 'user' | 'address'; retryAfterSeconds: number } | undefined;
  /** Set when this failure reached the lockout threshold; the caller disables the user. */
  lockedOut?: boolean | undefined;
}

/** A reserved attempt: exactly one of its methods is called when the verification is done. */
export interface Attempt {
  fail(): FailureOutcome;
  succeed(): void;
  /** Neither success nor failure (the verification could not run, e.g. the directory was unreachable). */
  release(): void;
}

export type Reservation = { allowed: true; attempt: Attempt } | { allowed: false; scope: ThrottleScope; retryAfterSeconds: number };

interface Entry {
  /** Failure times inside the window, oldest first. */
  failures: number[];
  /** Attempts reserved and still being verified. */
  pending: number;
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
  // Separate maps so a username that looks like an address (or vice versa) can never share a counter.
  private readonly pairs = new Map<string, Entry>();
  private readonly addresses = new Map<string, Entry>();
  /** Consecutive failures per user across addresses, only for the optional lockout. */
  private readonly users = new Map<string, Entry>();
  /**
   * (user, network) pairs that logged in successfully, most recent last: the global budget does not refuse them,
   * so a distributed attack that spends it does not lock out users at the addresses they always use.
   */
  private readonly known = new Map<string, number>();
  private globalFailures: number[] = [];
  private globalPending = 0;

  constructor(
    private readonly clock: Clock,
    settings: Partial<ThrottleSettings> = {},
  ) {
    this.settings = { ...DEFAULT_THROTTLE, ...settings };
  }

  /** Before checking the password: is the pair or the address in a cooling-off period, or the global budget spent? */
  check(username: string, address: string): ThrottleVerdict {
    const now = this.clock.now();
    const net = addressPrefix(address);
    const pk = pairKey(username, net);
    const u = this.pairs.get(pk);
    const a = this.addresses.get(net);
    const uWait = u && u.blockedUntil > now ? u.blockedUntil - now : 0;
    const aWait = a && a.blockedUntil > now ? a.blockedUntil - now : 0;
    if (uWait === 0 && aWait === 0) return this.known.has(pk) ? { allowed: true } : this.globalVerdict(now, 0);
    return uWait >= aWait
      ? { allowed: false, scope: 'user', retryAfterSeconds: Math.ceil(uWait / 1000) }
      : { allowed: false, scope: 'address', retryAfterSeconds: Math.ceil(aWait / 1000) };
  }

  /**
   * Reserves one attempt before the password is verified. An attempt in flight counts against every budget as if
   * it had failed, so concurrent attempts cannot all pass the check before the first failure is counted.
   */
  reserve(username: string, address: string): Reservation {
    const v = this.check(username, address);
    if (!v.allowed) return v;
    const now = this.clock.now();
    const s = this.settings;
    const net = addressPrefix(address);
    const pk = pairKey(username, net);
    const u = this.entry(this.pairs, pk, now);
    const a = this.entry(this.addresses, net, now);
    trim(u, now, s.windowMs);
    trim(a, now, s.windowMs);
    // Busy with attempts in flight: a second or so settles them, then the real count decides.
    if (u.failures.length + u.pending >= s.maxFailuresPerUser) return { allowed: false, scope: 'user', retryAfterSeconds: 1 };
    if (a.failures.length + a.pending >= s.maxFailuresPerAddress) return { allowed: false, scope: 'address', retryAfterSeconds: 1 };
    const g = this.known.has(pk) ? ({ allowed: true } as const) : this.globalVerdict(now, 1);
    if (!g.allowed) return g;
    u.pending++;
    a.pending++;
    this.globalPending++;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      u.pending--;
      a.pending--;
      this.globalPending--;
      return true;
    };
    return {
      allowed: true,
      attempt: {
        fail: () => (finish() ? this.recordFailure(username, address) : {}),
        succeed: () => {
          if (finish()) this.recordSuccess(username, address);
        },
        release: () => void finish(),
      },
    };
  }

  recordFailure(username: string, address: string): FailureOutcome {
    const now = this.clock.now();
    const s = this.settings;
    const net = addressPrefix(address);
    const u = this.entry(this.pairs, pairKey(username, net), now);
    const a = this.entry(this.addresses, net, now);
    const ub = this.fail(u, now, s.maxFailuresPerUser);
    const ab = this.fail(a, now, s.maxFailuresPerAddress);
    if (s.maxFailuresGlobal > 0) {
      this.trimGlobal(now);
      this.globalFailures.push(now);
    }
    const out: FailureOutcome = {};
    if (ub !== undefined || ab !== undefined) {
      out.blocked =
        (ub ?? 0) >= (ab ?? 0)
          ? { scope: 'user', retryAfterSeconds: Math.ceil((ub ?? 0) / 1000) }
          : { scope: 'address', retryAfterSeconds: Math.ceil((ab ?? 0) / 1000) };
    }
    if (s.lockoutAfter > 0) {
      const c = this.entry(this.users, norm(username), now);
      c.consecutive++;
      if (c.consecutive === s.lockoutAfter) out.lockedOut = true;
    }
    return out;
  }

  /**
   * A correct password clears the user's counters at that address (or, without one, everywhere), but not the
   * address's: otherwise an attacker holding one valid account could reset their address budget between guesses.
   */
  recordSuccess(username: string, address?: string): void {
    this.users.delete(norm(username));
    if (address === undefined) {
      this.clearPairs(username);
      return;
    }
    const pk = pairKey(username, addressPrefix(address));
    this.pairs.delete(pk);
    this.known.delete(pk);
    this.known.set(pk, this.clock.now());
    if (this.known.size > this.settings.maxEntries) this.known.delete(this.known.keys().next().value!);
  }

  /** An administrator unlocked or re-enabled a user: forget its history at every address. Returns entries cleared. */
  reset(username: string): number {
    return (this.users.delete(norm(username)) ? 1 : 0) + this.clearPairs(username);
  }

  get size(): number {
    return this.pairs.size + this.addresses.size + this.users.size;
  }

  private clearPairs(username: string): number {
    const prefix = `${norm(username)}\n`;
    let n = 0;
    for (const [k, e] of this.pairs)
      if (k.startsWith(prefix) && e.pending === 0) {
        this.pairs.delete(k);
        n++;
      }
    return n;
  }

  /** `extra` attempts about to start count as failures. */
  private globalVerdict(now: number, extra: number): ThrottleVerdict {
    const s = this.settings;
    if (s.maxFailuresGlobal <= 0) return { allowed: true };
    this.trimGlobal(now);
    if (this.globalFailures.length + this.globalPending + extra <= s.maxFailuresGlobal) return { allowed: true };
    const oldest = this.globalFailures[0];
    const wait = oldest === undefined ? 1000 : Math.max(1000, oldest + s.globalWindowMs - now);
    return { allowed: false, scope: 'global', retryAfterSeconds: Math.ceil(wait / 1000) };
  }

  private trimGlobal(now: number): void {
    const g = this.globalFailures;
    let i = 0;
    while (i < g.length && g[i]! <= now - this.settings.globalWindowMs) i++;
    if (i > 0) this.globalFailures = g.slice(i);
  }

  /** Returns the cooling-off length when this failure starts one. */
  private fail(e: Entry, now: number, max: number): number | undefined {
    const s = this.settings;
    if (e.blockedUntil > now) return undefined; // attempts during a cooling-off are refused before they get here
    trim(e, now, s.windowMs);
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
      e = { failures: [], pending: 0, blockedUntil: 0, strikes: 0, lastBlockEnd: 0, consecutive: 0, touched: now };
      if (this.size >= this.settings.maxEntries) this.evict(now);
    }
    e.touched = now;
    map.set(key, e);
    return e;
  }

  /** Drops entries that carry no state any more; if none, the least recently touched without attempts in flight. */
  private evict(now: number): void {
    const s = this.settings;
    for (const map of [this.pairs, this.addresses, this.users]) {
      for (const [k, e] of map) {
        if (e.pending === 0 && e.blockedUntil <= now && now - e.touched > s.windowMs && (e.consecutive === 0 || s.lockoutAfter === 0))
          map.delete(k);
      }
    }
    if (this.size >= s.maxEntries) {
      const map = [this.pairs, this.addresses, this.users].reduce((x, y) => (y.size > x.size ? y : x));
      for (const [k, e] of map) {
        if (e.pending > 0) continue;
        map.delete(k);
        break;
      }
    }
  }
}

function trim(e: Entry, now: number, windowMs: number): void {
  while (e.failures.length > 0 && e.failures[0]! <= now - windowMs) e.failures.shift();
}

function norm(username: string): string {
  return username.normalize('NFC').toLowerCase();
}

function pairKey(username: string, net: string): string {
  return `${norm(username)}\n${net}`;
}
