import type { EventBus, TagwayEvents } from '../event-bus.js';
import type { PushConnection } from './connection.js';
import type { PushHub } from './hub.js';
import { PUSH_CLOSE, type ChannelOwner, type ChannelPrincipal } from './types.js';

export interface RevocationOptions {
  /**
   * How often every channel's credentials are checked again even without an event (session idle expiry, JWT
   * expiry, changes made by another process such as the CLI). A session check counts as activity, so an open
   * channel keeps its session alive. Default 60 s.
   */
  revalidateMs?: number;
  /**
   * A refreshed session (`POST /auth/refresh`) replaces the channel's token: the client has this long to send the
   * new one on the open WebSocket (`auth` message) before the channel is checked with the old one and closed.
   * Default 10 s.
   */
  refreshGraceMs?: number;
}

/**
 * Ends or re-scopes live channels (WebSocket, SSE, and whatever transport uses the hub) when their principal
 * loses a right, within the event that says so (`session.revoked`, `user.changed` on the runtime's event bus):
 *
 * - a revoked session (logout, revocation, the user disabled, deleted or given a new password) closes its
 *   channels at once with PUSH_CLOSE.UNAUTHENTICATED; a refresh only after a grace period, for the new token;
 * - a changed user, group or API client makes each channel of that principal resolve its credentials again:
 *   gone (disabled, deleted, password changed, client deleted) → closed with UNAUTHENTICATED; still valid →
 *   subscriptions re-resolved for the new permissions (tags no longer readable drop out, newly readable ones
 *   start) and the adapter tells the client; no permission left that a channel serves → closed with FORBIDDEN.
 *
 * Events are rare, so each walks the open connections; the per-change fan-out pays nothing for this.
 */
export class ChannelRevocation {
  readonly revalidateMs: number;
  readonly refreshGraceMs: number;
  private readonly off: Array<() => void>;
  private readonly timer: unknown;

  constructor(
    private readonly hub: PushHub,
    events: EventBus,
    opts: RevocationOptions = {},
  ) {
    this.revalidateMs = opts.revalidateMs ?? 60_000;
    this.refreshGraceMs = opts.refreshGraceMs ?? 10_000;
    this.off = [events.on('session.revoked', (e) => this.sessionRevoked(e)), events.on('user.changed', (e) => this.userChanged(e))];
    this.timer = hub.clock.setInterval(() => this.recheckAll(), this.revalidateMs);
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
    this.hub.clock.clearInterval(this.timer);
  }

  /** Checks every channel's credentials again (the periodic sweep; also after a change that may touch anyone). */
  recheckAll(): void {
    for (const c of this.hub.connectionList()) this.recheck(c);
  }

  private sessionRevoked(e: TagwayEvents['session.revoked']): void {
    for (const c of this.hub.connectionList()) {
      if (c.owner?.principal.sessionId !== e.sessionId) continue;
      if (e.reason === 'refresh') {
        const owner = c.owner;
        this.hub.clock.setTimeout(() => {
          if (c.owner === owner) this.recheck(c);
        }, this.refreshGraceMs);
      } else this.revoke(c, PUSH_CLOSE.UNAUTHENTICATED, `session ended (${e.reason}): log in again`);
    }
  }

  private userChanged(e: TagwayEvents['user.changed']): void {
    for (const c of this.hub.connectionList()) {
      const p = c.owner?.principal;
      if (p === undefined) continue;
      const concerned = e.username !== undefined ? p.username === e.username : e.group !== undefined ? p.groups.includes(e.group) : true;
      if (concerned) this.recheck(c);
    }
  }

  /** Resolves the channel's principal again and applies the outcome (close, re-scope, or nothing). */
  recheck(conn: PushConnection): void {
    const owner = conn.owner;
    if (owner === undefined || conn.closed) return;
    const seq = ++conn.checkSeq;
    let result: ChannelPrincipal | undefined | Promise<ChannelPrincipal | undefined>;
    try {
      result = owner.recheck();
    } catch {
      result = undefined;
    }
    const apply = (p: ChannelPrincipal | undefined) => {
      // The channel closed, re-authenticated, or a newer check started meanwhile: this answer is stale.
      if (conn.closed || conn.owner !== owner || conn.checkSeq !== seq) return;
      this.applyPrincipal(conn, owner, p);
    };
    if (result instanceof Promise) result.then(apply, () => apply(undefined));
    else apply(result);
  }

  private applyPrincipal(conn: PushConnection, owner: ChannelOwner, p: ChannelPrincipal | undefined): void {
    if (p === undefined) {
      this.revoke(conn, PUSH_CLOSE.UNAUTHENTICATED, 'credentials no longer valid: log in again');
      return;
    }
    const perms = p.permissions;
    if (!perms.has('tags:read') && !perms.has('alarms:read') && !perms.has('tags:write')) {
      this.revoke(conn, PUSH_CLOSE.FORBIDDEN, 'no permission left that this channel serves');
      return;
    }
    const changed = perms !== conn.permissions && JSON.stringify(perms.grants) !== JSON.stringify(conn.permissions.grants);
    // The owner keeps the fresh principal (groups may have changed, and the next event is matched on them).
    owner.principal = p;
    if (!changed) return;
    conn.setPermissions(perms);
    owner.rescoped?.(p);
  }

  private revoke(conn: PushConnection, code: number, message: string): void {
    if (conn.closed) return;
    try {
      conn.owner?.revoked?.(code, message);
    } catch {
      /* the adapter's last word is best effort; the close below is what counts */
    }
    conn.close(code, message);
  }
}
