import type { Clock } from '../domain/clock.js';
import type { AuditAction, AuditEvent } from '../runtime/audit.js';
import { addressPrefix } from './address-prefix.js';
import type { ThrottleScope } from './login-throttle.js';

/** Most distinct user names kept per row (an attacker rotating names must not grow the row). */
const MAX_NAMES = 5;

interface Pending {
  action: AuditAction;
  address: string;
  lastRowAt: number;
  count: number;
  since: number;
  users: Set<string>;
  scope: ThrottleScope;
  retryAfterSeconds: number;
}

/**
 * Audit of refused (429) login attempts, at most one row per window and client network: a flood of throttled
 * attempts (unauthenticated, so free for an attacker) must not fill the disk one row per request. The first
 * refusal of a window is written at once; the ones after it are counted and the count goes into the next row
 * (written by the next refusal after the window, by the periodic sweep, or at shutdown).
 */
export class ThrottleAudit {
  private readonly pending = new Map<string, Pending>();
  private timer: unknown;

  constructor(
    private readonly record: (e: AuditEvent) => void,
    private readonly clock: Clock,
    readonly windowMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  start(): void {
    this.timer = this.clock.setInterval(() => this.sweep(false), this.windowMs);
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.sweep(true);
  }

  refused(action: AuditAction, username: string, address: string, v: { scope: ThrottleScope; retryAfterSeconds: number }): void {
    const now = this.clock.now();
    const key = `${action}\n${addressPrefix(address)}`;
    let e = this.pending.get(key);
    if (!e) {
      if (this.pending.size >= this.maxEntries) this.evictOne();
      e = { action, address, lastRowAt: -Infinity, count: 0, since: now, users: new Set(), scope: v.scope, retryAfterSeconds: 0 };
      this.pending.set(key, e);
    }
    if (e.count === 0) e.since = now;
    e.count++;
    if (e.users.size < MAX_NAMES) e.users.add(username);
    e.scope = v.scope;
    e.retryAfterSeconds = v.retryAfterSeconds;
    e.address = address;
    if (now - e.lastRowAt >= this.windowMs) this.write(e, now);
  }

  /** Rows for counts older than a window; with `all`, every count (shutdown). Forgets quiet networks. */
  private sweep(all: boolean): void {
    const now = this.clock.now();
    for (const [k, e] of this.pending) {
      if (e.count > 0 && (all || now - e.lastRowAt >= this.windowMs)) this.write(e, now);
      else if (e.count === 0 && now - e.lastRowAt >= this.windowMs) this.pending.delete(k);
    }
  }

  private evictOne(): void {
    const first = this.pending.entries().next();
    if (first.done) return;
    const [k, e] = first.value;
    if (e.count > 0) this.write(e, this.clock.now());
    this.pending.delete(k);
  }

  private write(e: Pending, now: number): void {
    const users = [...e.users];
    this.record({
      action: e.action,
      user: users[0] ?? null,
      clientAddress: e.address,
      details: {
        scope: e.scope,
        retryAfterSeconds: e.retryAfterSeconds,
        count: e.count,
        since: new Date(e.since).toISOString(),
        ...(users.length > 1 ? { users } : {}),
      },
      result: 'TOO_MANY_REQUESTS',
    });
    e.lastRowAt = now;
    e.count = 0;
    e.users.clear();
  }
}
