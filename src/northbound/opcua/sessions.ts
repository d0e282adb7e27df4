import { X509Certificate } from 'node:crypto';
import { UAUserManagerBase, type ISessionContext, type NodeId, type ServerSession } from 'node-opcua';
import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal.js';
import type { Actor } from '../../services/actor.js';
import type { AuthService } from '../../services/auth-service.js';

/** The name anonymous sessions carry in audit rows. */
export const ANONYMOUS = 'opcua-anonymous';

interface SessionLike {
  channel?: { remoteAddress?: string } | undefined;
  userIdentityToken?: unknown;
}

/**
 * Who each OPC UA session is, in Tagway's terms. A UserName token is verified by the auth service (argon2 or
 * LDAP, throttled, locked out and audited like a REST login); the principal it yields is kept per session and
 * re-read when the user's rights change (`user.changed`), so a revoked right stops at once. Anonymous sessions,
 * when allowed, get the rights of the configured group.
 */
export class OpcUaSessions {
  /** Per session: the user name its token carries and the principal verified for it. */
  private readonly principals = new WeakMap<object, { login: string; principal: Principal }>();
  /** Users verified but whose session is not yet activated: isValidUser runs before the token is attached. */
  readonly userManager: UAUserManagerBase;

  constructor(
    private readonly auth: AuthService,
    private readonly anonymousGroup: string | undefined,
    private readonly logger: Logger,
  ) {
    const verify = (session: SessionLike, username: string, password: string): Promise<boolean> => this.verify(session, username, password);
    this.userManager = new (class extends UAUserManagerBase {
      override getUserRoles(): NodeId[] {
        return [];
      }
      override async isValidUser(session: ServerSession, username: string, password: string): Promise<boolean> {
        return verify(session as unknown as SessionLike, username, password);
      }
    })();
  }

  private async verify(session: SessionLike, username: string, password: string): Promise<boolean> {
    try {
      const p = await this.auth.verify({ clientAddress: addressOf(session) }, username, password);
      this.principals.set(session, { login: username, principal: p });
      return true;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, username }, 'OPC UA user refused');
      return false;
    }
  }

  /**
   * An X.509 user token node-opcua has verified (trusted in the user PKI, signature over the server nonce): the
   * certificate's subject CN names the Tagway user. Refused when no active user has that name.
   */
  async verifyCertificate(session: SessionLike, der: Buffer): Promise<boolean> {
    try {
      const cert = new X509Certificate(der);
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
      const thumbprint = cert.fingerprint.replaceAll(':', '').toLowerCase();
      const p = await this.auth.certificateLogin({ clientAddress: addressOf(session) }, cn, thumbprint);
      this.principals.set(session, { login: `x509:${thumbprint}`, principal: p });
      return true;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'OPC UA user certificate refused');
      return false;
    }
  }

  /** The actor of a session, or undefined when it has none (not activated, or its user lost access). */
  actorOf(context: ISessionContext): Actor | undefined {
    const session = context.session as unknown as SessionLike | undefined;
    if (!session) return undefined;
    const token = session.userIdentityToken as { userName?: unknown } | undefined;
    if (!token) return undefined;
    let entry = this.principals.get(session);
    // A session may be re-activated with another identity: the principal must be the one of its current token.
    if (isAnonymous(token)) {
      if (!this.anonymousGroup) return undefined;
      if (entry?.login !== ANONYMOUS) {
        entry = { login: ANONYMOUS, principal: this.auth.groupPrincipal(ANONYMOUS, this.anonymousGroup) };
        this.principals.set(session, entry);
      }
    } else if (isCertificate(token)) {
      const der = (token as { certificateData?: Buffer }).certificateData;
      if (!entry || !der || entry.login !== `x509:${new X509Certificate(der).fingerprint.replaceAll(':', '').toLowerCase()}`)
        return undefined;
    } else if (!entry || typeof token.userName !== 'string' || token.userName !== entry.login) return undefined;
    return { principal: entry.principal, clientAddress: addressOf(session), via: 'opcua' };
  }

  /**
   * Re-reads the principal of every session of a user whose rights changed (every session for a group change).
   * Returns the sessions whose user is gone or disabled: the caller closes them.
   */
  refresh(sessions: readonly ServerSession[], change: { username?: string | undefined; group?: string | undefined }): ServerSession[] {
    const ended: ServerSession[] = [];
    for (const s of sessions) {
      const entry = this.principals.get(s);
      if (!entry) continue;
      const p = entry.principal;
      if (change.username !== undefined && change.username !== p.username) continue;
      if (change.group !== undefined && !p.groups.includes(change.group)) continue;
      if (p.username === ANONYMOUS && this.anonymousGroup) {
        entry.principal = this.auth.groupPrincipal(ANONYMOUS, this.anonymousGroup);
        continue;
      }
      const now = this.auth.principal(p.username, p.authMethod);
      if (now) entry.principal = now;
      else {
        this.principals.delete(s);
        ended.push(s);
      }
    }
    return ended;
  }
}

function isCertificate(token: unknown): boolean {
  return token !== null && typeof token === 'object' && token.constructor?.name === 'X509IdentityToken';
}

function isAnonymous(token: unknown): boolean {
  return token !== null && typeof token === 'object' && token.constructor?.name === 'AnonymousIdentityToken';
}

function addressOf(session: SessionLike): string {
  const a = session.channel?.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a || 'unknown';
}
