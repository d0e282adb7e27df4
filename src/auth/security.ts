import type { Logger } from 'pino';
import { TagwayError } from '../domain/problems.js';
import { AuditTrail, type AuditStore } from '../runtime/audit.js';
import type { Clock } from '../domain/clock.js';
import type { TagEngine } from '../runtime/tag-engine.js';
import type { AuditRepository } from '../storage/audit-repository.js';
import type { Repositories } from '../storage/open.js';
import type { UserRecord } from '../storage/user-repository.js';
import { ApiClients, type ApiClient, type ProjectClient } from './api-clients.js';
import { BasicAuthCache } from './basic-cache.js';
import { GroupAdmin } from './group-admin.js';
import { JwtService, type AccessClaims } from './jwt.js';
import { LdapAuthenticator, LdapUnavailableError, type LdapSettings } from './ldap.js';
import { LoginThrottle, type Attempt, type ThrottleSettings } from './login-throttle.js';
import { ThrottleAudit } from './throttle-audit.js';
import type { Principal } from './principal.js';
import { loadOrCreateKek, SigningKeys } from './signing-keys.js';
import type { UserDirectory } from './user-directory.js';

/**
 * The security services beside users and sessions: audit trail, login throttling, the Basic verification cache,
 * JWT signing keys and API clients, optional LDAP. Transport-agnostic like the rest of the runtime: the HTTP
 * layer calls `login`, `basic`, `jwt`, `issueToken` and never touches the parts directly for these flows.
 */
export interface SecuritySettings {
  throttle: Partial<ThrottleSettings>;
  /** JWT access-token lifetime (default 15 min). */
  jwtLifetimeMs: number;
  /** `iss` of issued tokens; default `tagway`. */
  jwtIssuer: string;
  jwtAudience: string;
  /** New signing key after this long (default 30 days); the old one stays published until its tokens expired. */
  keyRotationMs: number;
  /** How long a successful Basic verification is remembered (default 60 s). */
  basicCacheTtlMs: number;
  /** Origins allowed by CORS; empty = no cross-origin access. */
  corsOrigins: string[];
  ldap?: LdapSettings | undefined;
}

export const DEFAULT_SECURITY: SecuritySettings = {
  throttle: {},
  jwtLifetimeMs: 15 * 60_000,
  jwtIssuer: 'tagway',
  jwtAudience: 'tagway',
  keyRotationMs: 30 * 86_400_000,
  basicCacheTtlMs: 60_000,
  corsOrigins: [],
};

export interface SecurityDeps {
  storage: Pick<Repositories, 'audit' | 'apiClients' | 'groups' | 'signingKeys'>;
  clock: Clock;
  dataDir: string;
  users: UserDirectory;
  tags: TagEngine;
  logger: Logger;
  settings?: Partial<SecuritySettings> | undefined;
  projectClients?: readonly ProjectClient[] | undefined;
  /** Where the trail appends (the runtime's group commit); `storage.audit` when absent. */
  auditStore?: AuditStore | undefined;
}

/** Where a login attempt came from, for throttling and the audit trail. */
export interface Origin {
  clientAddress: string;
}

export class Security {
  readonly settings: SecuritySettings;
  readonly auditLog: AuditRepository;
  readonly audit: AuditTrail;
  readonly throttle: LoginThrottle;
  /** Refused (429) attempts, audited at most once per window and client network. */
  readonly throttleAudit: ThrottleAudit;
  readonly basicCache: BasicAuthCache<{ principal: Principal; passwordHash: string }>;
  readonly clients: ApiClients;
  readonly ldap: LdapAuthenticator | undefined;
  readonly groups: GroupAdmin;
  private keysValue: SigningKeys | undefined;
  private jwtValue: JwtService | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private rotationTimer: unknown;

  constructor(private readonly d: SecurityDeps) {
    this.settings = { ...DEFAULT_SECURITY, ...d.settings };
    this.auditLog = d.storage.audit;
    this.audit = new AuditTrail(d.auditStore ?? this.auditLog, d.clock);
    this.throttle = new LoginThrottle(d.clock, this.settings.throttle);
    this.throttleAudit = new ThrottleAudit((e) => this.audit.record(e), d.clock);
    this.basicCache = new BasicAuthCache<{ principal: Principal; passwordHash: string }>(d.clock, { ttlMs: this.settings.basicCacheTtlMs });
    this.clients = new ApiClients(d.storage.apiClients, d.clock, d.projectClients ?? []);
    this.ldap = this.settings.ldap ? new LdapAuthenticator(this.settings.ldap) : undefined;
    this.groups = new GroupAdmin(d.storage.groups, d.users, this.clients);
  }

  get keys(): SigningKeys {
    if (!this.keysValue) throw new Error('Security.start() not called');
    return this.keysValue;
  }
  get jwt(): JwtService {
    if (!this.jwtValue) throw new Error('Security.start() not called');
    return this.jwtValue;
  }

  async start(): Promise<void> {
    const { d, settings } = this;
    await this.clients.load();
    await this.groups.load();
    this.keysValue = await SigningKeys.open(d.storage.signingKeys, {
      clock: d.clock,
      kek: loadOrCreateKek(d.dataDir),
      tokenLifetimeMs: settings.jwtLifetimeMs,
    });
    this.jwtValue = new JwtService(this.keysValue, d.clock, {
      issuer: settings.jwtIssuer,
      audience: settings.jwtAudience,
      lifetimeMs: settings.jwtLifetimeMs,
    });
    this.unsubscribe.push(this.audit.attachTo(d.tags));
    this.throttleAudit.start();
    // A changed, disabled or deleted user must not keep authenticating from the Basic cache; a group change
    // (undefined) may change anybody's permissions.
    this.unsubscribe.push(
      d.users.onChange((username) => {
        if (username === undefined) this.basicCache.clear();
        else this.basicCache.invalidate(username);
      }),
    );
    await this.rotateIfDue();
    this.rotationTimer = d.clock.setInterval(() => {
      void this.rotateIfDue().catch((err: unknown) => d.logger.error({ err }, 'signing key rotation failed'));
    }, 3_600_000);
  }

  async stop(): Promise<void> {
    this.d.clock.clearInterval(this.rotationTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    this.throttleAudit.stop();
    this.audit.stopRetrying();
    // A last try for rows held during a storage outage; if storage still refuses, they are lost with the process.
    await this.audit.flush().catch((err: unknown) => this.d.logger.error({ err }, 'audit rows could not be stored at shutdown'));
  }

  /** Rotates the signing key when the active one is older than the rotation period; prunes expired ones. */
  async rotateIfDue(): Promise<void> {
    const k = this.keys;
    if (this.d.clock.now() - k.active().createdAt >= this.settings.keyRotationMs) {
      const fresh = await k.rotate();
      await this.audit.record({ action: 'signing_key.rotate', target: fresh.kid, result: 'OK' });
    }
    await k.prune();
  }

  /**
   * Login with username and password (local users first, then LDAP when configured). Throttled per user and
   * per client address; every outcome audited. Wrong user and wrong password answer alike.
   */
  async login(username: string, password: string, o: Origin): Promise<UserRecord> {
    const attempt = this.reserve(username, o);
    let user: UserRecord | undefined;
    try {
      user = await this.d.users.verifyCredentials(username, password);
      if (!user && this.ldap && !this.isLocalUser(username)) user = await this.ldapLogin(username, password, o);
    } catch (err) {
      attempt.release();
      throw err;
    }
    if (!user) {
      await this.failed(attempt, username, o, 'auth.login_failed');
      throw new TagwayError('UNAUTHENTICATED', 'Wrong user name or password');
    }
    attempt.succeed();
    await this.audit.record({ action: 'auth.login', user: user.username, clientAddress: o.clientAddress, result: 'OK' });
    return user;
  }

  /**
   * HTTP Basic: the argon2 verification is cached briefly by a keyed hash; failures count towards the same
   * throttle as logins, so Basic is no way around it. Successful Basic requests are not audited one by one
   * (they are ordinary requests, not logins); failures are.
   */
  async basic(username: string, password: string, o: Origin): Promise<Principal> {
    const cached = this.basicCache.get(username, password);
    if (cached) {
      // The same per-request user lookup sessions do: a user disabled or given a new password by another process
      // (the CLI) is refused at once, not after the cache entry expires.
      const u = this.d.users.get(username);
      if (u && !u.disabled && u.passwordHash === cached.passwordHash) return cached.principal;
      this.basicCache.invalidate(username);
    }
    // A client's parallel requests with the same credentials share one verification (and one throttle slot).
    const joined = this.basicCache.pending(username, password);
    if (joined) {
      const p = (await joined)?.principal;
      if (!p) throw new TagwayError('UNAUTHENTICATED', 'Wrong user name or password');
      return p;
    }
    const attempt = this.reserve(username, o);
    let hit;
    try {
      hit = await this.basicCache.resolve(username, password, async () => {
        const u = await this.d.users.verifyCredentials(username, password);
        return u ? { principal: this.principalOf(u, 'basic'), passwordHash: u.passwordHash } : null;
      });
    } catch (err) {
      attempt.release();
      throw err;
    }
    const p = hit?.principal;
    if (!p) {
      await this.failed(attempt, username, o, 'auth.login_failed', { method: 'basic' });
      throw new TagwayError('UNAUTHENTICATED', 'Wrong user name or password');
    }
    attempt.succeed();
    return p;
  }

  /** The principal of a verified JWT; its client must still exist (deleting a client ends its tokens at once). */
  async jwtPrincipal(token: string): Promise<Principal> {
    let claims: AccessClaims;
    try {
      claims = await this.jwt.verify(token);
    } catch {
      throw new TagwayError('UNAUTHENTICATED', 'The access token is invalid or expired; request a new one at /auth/token');
    }
    const client = this.clients.peek(claims.clientId);
    if (!client) throw new TagwayError('UNAUTHENTICATED', 'The API client of this token no longer exists');
    // Permissions come from the client's current groups, so an admin's change applies without waiting for expiry.
    return {
      username: client.clientId,
      displayName: client.name,
      groups: client.groups,
      permissions: this.d.users.permissionsFor(client.groups),
      authMethod: 'jwt',
      sessionExpiresAt: claims.exp * 1000,
    };
  }

  /** OAuth2 client credentials: a JWT for a client whose id and secret match, else null (throttled, audited). */
  async issueToken(clientId: string, secret: string, o: Origin): Promise<{ token: string; expiresIn: number; client: ApiClient } | null> {
    const key = `client:${clientId}`;
    const r = this.throttle.reserve(key, o.clientAddress);
    if (!r.allowed) {
      this.throttleAudit.refused('auth.token_failed', clientId, o.clientAddress, r);
      throw new TagwayError('TOO_MANY_REQUESTS', 'Too many failed attempts; try again later', {
        headers: { 'Retry-After': String(r.retryAfterSeconds) },
      });
    }
    let client;
    try {
      client = await this.clients.authenticate(clientId, secret);
    } catch (err) {
      r.attempt.release();
      throw err;
    }
    if (!client) {
      r.attempt.fail();
      await this.audit.record({ action: 'auth.token_failed', user: clientId, clientAddress: o.clientAddress, result: 'UNAUTHENTICATED' });
      return null;
    }
    r.attempt.succeed();
    const { token, expiresIn } = await this.jwt.issue({ clientId: client.clientId, groups: client.groups });
    await this.audit.record({ action: 'auth.token', user: client.clientId, clientAddress: o.clientAddress, result: 'OK' });
    return { token, expiresIn, client };
  }

  principalOf(u: UserRecord, authMethod: Principal['authMethod']): Principal {
    return {
      username: u.username,
      displayName: u.displayName,
      groups: u.groups,
      permissions: this.d.users.permissionsFor(u.groups),
      authMethod,
    };
  }

  private isLocalUser(username: string): boolean {
    const u = this.d.users.get(username);
    return u !== undefined && u.passwordHash !== '';
  }

  /** LDAP users are mirrored into the directory (no password hash) so sessions and permissions work as for others. */
  private async ldapLogin(username: string, password: string, o: Origin): Promise<UserRecord | undefined> {
    try {
      const lu = await this.ldap!.authenticate(username, password);
      if (!lu) return undefined;
      await this.d.users.upsertLocal({
        username: lu.username,
        displayName: lu.displayName,
        passwordHash: '',
        groups: lu.groups,
        disabled: this.d.users.get(lu.username)?.disabled ?? false,
        source: 'local',
      });
      const u = this.d.users.get(lu.username);
      return u && !u.disabled ? u : undefined;
    } catch (err) {
      if (!(err instanceof LdapUnavailableError)) throw err;
      this.d.logger.error({ err: err.message, clientAddress: o.clientAddress }, 'LDAP directory unavailable');
      return undefined;
    }
  }

  /**
   * Reserves a password verification within the throttle's budgets (before the awaited argon2, so a concurrent
   * burst gets no more verifications than the budget); a refusal is audited at most once per window and network.
   */
  reserve(username: string, o: Origin): Attempt {
    const r = this.throttle.reserve(username, o.clientAddress);
    if (r.allowed) return r.attempt;
    this.throttleAudit.refused('auth.login_throttled', username, o.clientAddress, r);
    throw new TagwayError('TOO_MANY_REQUESTS', `Too many failed logins; try again in ${r.retryAfterSeconds} s`, {
      headers: { 'Retry-After': String(r.retryAfterSeconds) },
    });
  }

  /** Counts a failed verification, audits it, and disables the user when it reaches the optional lockout. */
  async failed(
    attempt: Attempt,
    username: string,
    o: Origin,
    action: 'auth.login_failed' | 'user.password',
    details?: Record<string, unknown>,
  ): Promise<void> {
    const outcome = attempt.fail();
    await this.audit.record({
      action,
      user: username,
      clientAddress: o.clientAddress,
      details: outcome.blocked ? { ...details, blocked: outcome.blocked } : details,
      ...(action === 'user.password' ? { target: username } : {}),
      result: 'UNAUTHENTICATED',
    });
    if (outcome.lockedOut) {
      const u = this.d.users.get(username);
      if (u && !u.disabled) {
        await this.d.users.upsertLocal({
          username: u.username,
          displayName: u.displayName,
          passwordHash: u.passwordHash,
          groups: u.groups,
          source: u.source,
          disabled: true,
        });
        await this.audit.record({
          action: 'auth.lockout',
          user: username,
          clientAddress: o.clientAddress,
          target: username,
          details: { after: this.throttle.settings.lockoutAfter },
          result: 'OK',
        });
      }
    }
  }
}
