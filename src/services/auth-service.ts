import type { Principal } from '../auth/principal.js';
import type { PermissionSet } from '../domain/permissions.js';
import { TagwayError } from '../domain/problems.js';
import type { AuditEvent } from '../runtime/audit.js';
import type { Actor } from './actor.js';

/** A session as answered to the client: the token is shown once; the record's hash identifies it. */
export interface IssuedSession {
  token: string;
  csrfToken: string;
  /** When it ends if left idle (never past its absolute lifetime). */
  expiresAt: number;
  principal: Principal;
}

export interface AuthDeps {
  /** Throttled, audited password check (local users, then LDAP); wrong user and wrong password answer alike. */
  login(username: string, password: string, o: { clientAddress: string }): Promise<{ username: string }>;
  sessions: {
    create(username: string, clientAddress: string): { token: string; record: { csrfToken: string; absoluteExpiresAt: number } };
    refresh(
      tokenHash: string,
      clientAddress: string,
    ): { token: string; record: { csrfToken: string; absoluteExpiresAt: number } } | undefined;
    revoke(tokenHash: string, reason?: 'logout' | 'refresh' | 'revoked' | 'expired' | 'user'): void;
    authenticate(token: string): Principal | undefined;
    /** Optional (profiles that list or end all of a user's sessions need it; the composition root gives it). */
    revokeUser?(username: string): void;
    /** Resolves once the session ends announced so far have reached the other cluster nodes' broker (bounded). */
    announced?(): Promise<void>;
    listForUser?(username: string): Array<{ record: { tokenHash: string; createdAt: number; clientAddress: string }; expiresAt: number }>;
  };
  /** Resolves once the row is committed (the answer waits for it). */
  audit: { record(e: AuditEvent): unknown };
  /** A user's principal as it is now (groups and permissions), undefined when deleted or disabled. */
  principalOf?: (username: string, authMethod: Principal['authMethod']) => Principal | undefined;
  /** The permissions of a set of groups (for access granted to a group rather than a user). */
  permissionsFor?: (groups: readonly string[]) => PermissionSet;
}

/** Sessions for every front end: login, logout and refresh (each revocation announced by the session service). */
export class AuthService {
  constructor(private readonly d: AuthDeps) {}

  async login(from: { clientAddress: string }, username: string, password: string): Promise<IssuedSession> {
    const user = await this.d.login(username, password, from);
    return this.issue(this.d.sessions.create(user.username, from.clientAddress), user.username);
  }

  /**
   * A password check for front ends that keep their own sessions (the OPC UA server): the same throttled,
   * audited verification as a login (local users, then LDAP; lockout), without creating a Tagway session.
   */
  async verify(from: { clientAddress: string }, username: string, password: string): Promise<Principal> {
    const user = await this.d.login(username, password, from);
    const p = this.principal(user.username, 'basic');
    if (!p) throw new TagwayError('UNAUTHENTICATED', 'Wrong user name or password');
    return p;
  }

  /**
   * A login by a client certificate that the front end has already verified (trusted, proof of possession): the
   * certificate names the user. Audited as a login (method and thumbprint); an unknown or disabled user is refused
   * and audited as a failed login.
   */
  async certificateLogin(from: { clientAddress: string }, username: string, thumbprint: string): Promise<Principal> {
    const p = this.d.principalOf && /^[A-Za-z0-9_.@-]{1,64}$/.test(username) ? this.d.principalOf(username, 'basic') : undefined;
    await this.d.audit.record({
      action: p ? 'auth.login' : 'auth.login_failed',
      user: username.slice(0, 64),
      clientAddress: from.clientAddress,
      details: { method: 'x509', thumbprint },
      result: p ? 'OK' : 'UNAUTHENTICATED',
    });
    if (!p) throw new TagwayError('UNAUTHENTICATED', 'No active user for this certificate');
    return p;
  }

  /** A user's principal as it is now (after a change of groups or permissions); undefined when deleted or disabled. */
  principal(username: string, authMethod: Principal['authMethod'] = 'basic'): Principal | undefined {
    if (!this.d.principalOf) throw new TagwayError('INTERNAL_ERROR', 'Principals cannot be resolved here');
    return this.d.principalOf(username, authMethod);
  }

  /** The rights of one group under a name that is no user (anonymous access a front end grants to a group). */
  groupPrincipal(name: string, group: string): Principal {
    if (!this.d.permissionsFor) throw new TagwayError('INTERNAL_ERROR', 'Group permissions cannot be resolved here');
    return { username: name, displayName: name, groups: [group], permissions: this.d.permissionsFor([group]), authMethod: 'none' };
  }

  /** Ends the caller's session, or with `allSessions` every session of the caller's user. */
  async logout(actor: Actor, opts: { allSessions?: boolean } = {}): Promise<void> {
    const p = actor.principal;
    if (opts.allSessions) {
      if (!this.d.sessions.revokeUser) throw new TagwayError('INTERNAL_ERROR', 'Ending all sessions is not wired');
      this.d.sessions.revokeUser(p.username);
    } else if (p.sessionId) this.d.sessions.revoke(p.sessionId, 'logout');
    // A client that logs out and then tries its token on another node must find it refused there: the answer
    // follows the announcement's delivery (not the other nodes' handling of it; their checks cover a miss).
    const announced = this.d.sessions.announced?.();
    await this.d.audit.record({
      action: 'auth.logout',
      user: p.username,
      clientAddress: actor.clientAddress,
      details: opts.allSessions ? { method: p.authMethod, allSessions: true, via: actor.via } : { method: p.authMethod },
      result: 'OK',
    });
    await announced;
  }

  /**
   * The caller's own session, or with `all` every live session of the caller's user (no tokens: each is shown by
   * its start, expiry and client address). A caller authenticated otherwise (JWT, Basic) has no session: empty.
   */
  sessions(
    actor: Actor,
    all: boolean,
  ): Array<{ id: string; createdAt: number; expiresAt: number; clientAddress: string; current: boolean }> {
    const p = actor.principal;
    const list = this.d.sessions.listForUser?.(p.username) ?? [];
    return list
      .filter((s) => all || s.record.tokenHash === p.sessionId)
      .map((s) => ({
        id: s.record.tokenHash.slice(0, 16),
        createdAt: s.record.createdAt,
        expiresAt: s.expiresAt,
        clientAddress: s.record.clientAddress,
        current: s.record.tokenHash === p.sessionId,
      }));
  }

  /** A new token for the session; the old one stops working, the absolute lifetime stays that of the first login. */
  async refresh(actor: Actor): Promise<IssuedSession> {
    const p = actor.principal;
    if (!p.sessionId) throw new TagwayError('INVALID_STATE', 'Only session logins can be refreshed');
    const renewed = this.d.sessions.refresh(p.sessionId, actor.clientAddress);
    if (!renewed) throw new TagwayError('UNAUTHENTICATED', 'The session ended; log in again');
    await this.d.audit.record({ action: 'auth.refresh', user: p.username, clientAddress: actor.clientAddress, result: 'OK' });
    return this.issue(renewed, p.username);
  }

  private issue(s: { token: string; record: { csrfToken: string; absoluteExpiresAt: number } }, username: string): IssuedSession {
    const principal = this.d.sessions.authenticate(s.token);
    if (!principal || principal.username !== username) throw new TagwayError('INTERNAL_ERROR', 'The new session could not be read back');
    return {
      token: s.token,
      csrfToken: s.record.csrfToken,
      expiresAt: principal.sessionExpiresAt ?? s.record.absoluteExpiresAt,
      principal,
    };
  }
}
