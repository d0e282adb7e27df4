import type { EventBus } from '../runtime/event-bus.js';
import type { ApiClient } from '../auth/api-clients.js';
import type { Attempt } from '../auth/login-throttle.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { passwordProblems } from '../auth/password-policy.js';
import type { Principal } from '../auth/principal.js';
import { compileGlob } from '../domain/glob.js';
import { grantScopeProblem, PermissionSet, PERMISSIONS, type Grant, type Group } from '../domain/permissions.js';
import { TagwayError } from '../domain/problems.js';
import type { AuditAction, AuditEvent } from '../runtime/audit.js';
import type { UserRecord } from '../storage/user-repository.js';
import type { Actor } from './actor.js';

/**
 * User administration for every front end (REST /users, /groups, /clients and the `tagway user` CLI): one set of
 * rules. Only principals holding `users:admin` may administer; groups named must exist; no change may leave no
 * enabled user with `users:admin`; new passwords follow the policy; every change is audited with the actor.
 * Revocation of sessions and the `user.changed` events follow from the directory and session service.
 */
export const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface UserDirectoryPort {
  get(username: string): UserRecord | undefined;
  list(): UserRecord[];
  group(name: string): Group | undefined;
  listGroups(): Group[];
  permissionsFor(groups: readonly string[]): PermissionSet;
  upsertLocal(u: Omit<UserRecord, 'createdAt' | 'updatedAt'>): Promise<void>;
  delete(username: string): Promise<boolean>;
}

export interface GroupAdminPort {
  isFixed(name: string): boolean;
  create(g: Group): Promise<void>;
  update(g: Group): Promise<Group>;
  delete(name: string): Promise<Group>;
}

export interface ClientsPort {
  list(): ApiClient[];
  create(p: { name: string; groups: string[]; createdBy: string }): Promise<{ client: ApiClient; clientSecret: string }>;
  delete(clientId: string): Promise<void>;
}

export interface SessionsPort {
  revokeUser(username: string, keep?: string): void;
}

/** The login throttle's side used here: verifying a current password, and an admin's unlock. */
export interface ThrottlePort {
  reserve(username: string, o: { clientAddress: string }): Attempt;
  failed(attempt: Attempt, username: string, o: { clientAddress: string }, action: 'user.password'): Promise<void>;
  reset(username: string): number;
}

export interface UserAdminDeps {
  users: UserDirectoryPort;
  groups: GroupAdminPort;
  clients?: ClientsPort | undefined;
  sessions: SessionsPort;
  /** Resolves once the row is committed: a change is answered only after its audit row is in the trail. */
  audit: { record(e: AuditEvent): Promise<unknown> };
  /** Absent in the CLI (it has no live throttle; a running server's cooling-off ends on its own). */
  throttle?: ThrottlePort | undefined;
  hash?: (password: string) => Promise<string>;
  /** Where a deleted API client is announced (its live JWT channels close); user changes come from the directory. */
  events?: EventBus | undefined;
}

export interface UserView {
  username: string;
  displayName: string;
  groups: string[];
  disabled: boolean;
  source: string;
  createdAt: string;
  updatedAt: string;
}

export interface GroupView extends Group {
  source: 'project' | 'admin';
}

export interface NewUser {
  username: string;
  displayName?: string | undefined;
  password: string;
  groups: string[];
  disabled?: boolean | undefined;
}

export interface UserPatch {
  displayName?: string | undefined;
  password?: string | undefined;
  groups?: string[] | undefined;
  disabled?: boolean | undefined;
}

/** The principal of operations run by an operator at the machine (`tagway user …`): every right. */
export function systemPrincipal(username = 'cli'): Principal {
  return {
    username,
    displayName: 'Command line',
    groups: [],
    permissions: new PermissionSet(PERMISSIONS.map((permission) => ({ permission }))),
    authMethod: 'none',
  };
}

function userView(u: UserRecord): UserView {
  return {
    username: u.username,
    displayName: u.displayName,
    groups: u.groups,
    disabled: u.disabled,
    source: u.source,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

function validation(message: string, field: string, messages: string[] = [message]): TagwayError {
  return new TagwayError('VALIDATION_FAILED', message, { errors: messages.map((m) => ({ field, message: m })) });
}

export class UserAdminService {
  private readonly hash: (password: string) => Promise<string>;

  constructor(private readonly d: UserAdminDeps) {
    this.hash = d.hash ?? hashPassword;
  }

  // --- users ---------------------------------------------------------------------------------------------------

  listUsers(actor: Actor): UserView[] {
    this.requireAdmin(actor);
    return this.d.users.list().map(userView);
  }

  getUser(actor: Actor, username: string): UserView {
    this.requireAdmin(actor);
    return userView(this.existing(username));
  }

  async createUser(actor: Actor, input: NewUser): Promise<UserView> {
    this.requireAdmin(actor);
    const { users } = this.d;
    if (!USERNAME.test(input.username)) throw validation('a user name is 1–64 of A-Z a-z 0-9 _ . @ -', 'body.username');
    if (users.get(input.username)) throw new TagwayError('CONFLICT', `User '${input.username}' exists`);
    const groups = this.checkGroups(input.groups);
    this.checkPassword(input.password, input.username, 'password');
    const disabled = input.disabled ?? false;
    await users.upsertLocal({
      username: input.username,
      displayName: input.displayName ?? input.username,
      passwordHash: await this.hash(input.password),
      groups,
      disabled,
      source: 'local',
    });
    await this.audit(actor, 'user.create', input.username, { groups: input.groups, disabled });
    return userView(users.get(input.username)!);
  }

  /** `disabled: true` and a new password end the user's sessions (the directory's change event does the first). */
  async updateUser(actor: Actor, username: string, patch: UserPatch): Promise<UserView> {
    this.requireAdmin(actor);
    const { users } = this.d;
    const u = this.existing(username);
    const groups = patch.groups ? this.checkGroups(patch.groups) : u.groups;
    if (patch.password !== undefined) this.checkPassword(patch.password, username, 'password');
    const disabled = patch.disabled ?? u.disabled;
    this.keepAnAdmin(username, { groups, disabled });
    const passwordHash = patch.password !== undefined ? await this.hash(patch.password) : u.passwordHash;
    await users.upsertLocal({
      username,
      displayName: patch.displayName ?? u.displayName,
      passwordHash,
      groups,
      disabled,
      source: u.source,
    });
    if (patch.password !== undefined || (disabled && !u.disabled)) this.d.sessions.revokeUser(username);
    if (patch.disabled === false && u.disabled) this.d.throttle?.reset(username);
    const action: AuditAction =
      patch.disabled === true && !u.disabled ? 'user.disable' : patch.password !== undefined ? 'user.password' : 'user.update';
    await this.audit(actor, action, username, {
      changed: Object.keys(patch).filter((k) => patch[k as keyof UserPatch] !== undefined),
      ...(patch.groups ? { oldGroups: u.groups, newGroups: groups } : {}),
      ...(patch.disabled !== undefined ? { oldDisabled: u.disabled, newDisabled: disabled } : {}),
    });
    return userView(users.get(username)!);
  }

  async deleteUser(actor: Actor, username: string): Promise<void> {
    this.requireAdmin(actor);
    const u = this.existing(username);
    this.keepAnAdmin(username, undefined);
    await this.d.users.delete(username);
    this.d.sessions.revokeUser(username);
    this.d.throttle?.reset(username);
    await this.audit(actor, 'user.delete', username, { groups: u.groups });
  }

  /**
   * Clears a user's login throttle at every address (a server's in-memory counters; the CLI has none) and enables
   * the user when a lockout (or an admin) disabled it.
   */
  async unlockUser(actor: Actor, username: string): Promise<{ username: string; clearedCounters: number; enabled: boolean }> {
    this.requireAdmin(actor);
    const u = this.existing(username);
    const clearedCounters = this.d.throttle?.reset(username) ?? 0;
    const enabled = u.disabled;
    if (enabled) await this.d.users.upsertLocal({ ...u, disabled: false });
    await this.audit(actor, 'user.unlock', username, { clearedCounters, enabled });
    return { username, clearedCounters, enabled };
  }

  /** The actor's own password (needs the current one; throttled like a login). Ends the actor's other sessions. */
  async changeOwnPassword(actor: Actor, currentPassword: string, newPassword: string): Promise<void> {
    const p = actor.principal;
    const u = this.d.users.get(p.username);
    if (!u || u.passwordHash === '') throw new TagwayError('INVALID_STATE', 'This account has no local password (directory or API client)');
    const throttle = this.d.throttle;
    if (!throttle) throw new TagwayError('INVALID_STATE', 'Changing one’s own password needs the server');
    const origin = { clientAddress: actor.clientAddress };
    const attempt = throttle.reserve(p.username, origin);
    let ok: boolean;
    try {
      ok = await verifyPassword(u.passwordHash, currentPassword);
    } catch (err) {
      attempt.release();
      throw err;
    }
    if (!ok) {
      await throttle.failed(attempt, p.username, origin, 'user.password');
      throw new TagwayError('VALIDATION_FAILED', 'currentPassword is wrong', {
        errors: [{ field: 'body.currentPassword', message: 'is wrong' }],
      });
    }
    attempt.release();
    this.checkPassword(newPassword, p.username, 'newPassword');
    await this.d.users.upsertLocal({
      username: u.username,
      displayName: u.displayName,
      passwordHash: await this.hash(newPassword),
      groups: u.groups,
      disabled: u.disabled,
      source: u.source,
    });
    // Other sessions (perhaps an attacker's) end; the one making this request stays.
    this.d.sessions.revokeUser(p.username, p.sessionId);
    await this.audit(actor, 'user.password', p.username);
  }

  // --- groups --------------------------------------------------------------------------------------------------

  listGroups(actor: Actor): GroupView[] {
    this.requireAdmin(actor);
    return this.d.users.listGroups().map((g) => this.groupView(g));
  }

  getGroup(actor: Actor, name: string): GroupView {
    this.requireAdmin(actor);
    const g = this.d.users.group(name);
    if (!g) throw new TagwayError('NOT_FOUND', 'No such group');
    return this.groupView(g);
  }

  async createGroup(actor: Actor, input: Group): Promise<GroupView> {
    this.requireAdmin(actor);
    const g: Group = {
      name: input.name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      permissions: checkGrants(input.permissions),
    };
    await this.d.groups.create(g);
    await this.audit(actor, 'group.create', g.name, { permissions: g.permissions });
    return this.groupView(g);
  }

  /** Applies to the members' next request; live channels hear of it through `user.changed` (group, permissions). */
  async updateGroup(
    actor: Actor,
    name: string,
    patch: { description?: string | undefined; permissions?: Grant[] | undefined },
  ): Promise<GroupView> {
    this.requireAdmin(actor);
    const cur = this.d.users.group(name);
    if (!cur) throw new TagwayError('NOT_FOUND', 'No such group');
    const next: Group = {
      name,
      description: patch.description ?? cur.description,
      permissions: patch.permissions ? checkGrants(patch.permissions) : cur.permissions,
    };
    const old = await this.d.groups.update(next);
    await this.audit(actor, 'group.update', name, { oldPermissions: old.permissions, newPermissions: next.permissions });
    return this.groupView(next);
  }

  async deleteGroup(actor: Actor, name: string): Promise<void> {
    this.requireAdmin(actor);
    const old = await this.d.groups.delete(name);
    await this.audit(actor, 'group.delete', name, { permissions: old.permissions });
  }

  // --- API clients ---------------------------------------------------------------------------------------------

  listClients(actor: Actor): ApiClient[] {
    this.requireAdmin(actor);
    return this.clients().list();
  }

  async createClient(actor: Actor, input: { name: string; groups: string[] }): Promise<{ client: ApiClient; clientSecret: string }> {
    this.requireAdmin(actor);
    const groups = this.checkGroups(input.groups);
    const r = await this.clients().create({ name: input.name, groups, createdBy: actor.principal.username });
    await this.audit(actor, 'client.create', r.client.clientId, { name: input.name, groups: r.client.groups });
    return r;
  }

  async deleteClient(actor: Actor, clientId: string): Promise<void> {
    this.requireAdmin(actor);
    await this.clients().delete(clientId);
    await this.audit(actor, 'client.delete', clientId);
    this.d.events?.emit('user.changed', { username: clientId, reason: 'deleted' });
  }

  // --- rules ---------------------------------------------------------------------------------------------------

  private requireAdmin(actor: Actor): void {
    // Held without a scope: a tag glob on users:admin means nothing, so a scoped grant (refused on input, dropped
    // from old stored groups) must never count as admin.
    if (!actor.principal.permissions.unscoped('users:admin')) throw new TagwayError('FORBIDDEN', "You lack the permission 'users:admin'");
  }

  private existing(username: string): UserRecord {
    const u = this.d.users.get(username);
    if (!u) throw new TagwayError('NOT_FOUND', 'No such user');
    return u;
  }

  private clients(): ClientsPort {
    if (!this.d.clients) throw new TagwayError('INVALID_STATE', 'API clients are not available here');
    return this.d.clients;
  }

  private groupView(g: Group): GroupView {
    return {
      name: g.name,
      description: g.description,
      permissions: g.permissions,
      source: this.d.groups.isFixed(g.name) ? 'project' : 'admin',
    };
  }

  /** The distinct groups, each of which must exist. */
  private checkGroups(groups: readonly string[]): string[] {
    const unknown = groups.filter((g) => !this.d.users.group(g));
    if (unknown.length)
      throw new TagwayError('VALIDATION_FAILED', `unknown group(s): ${unknown.join(', ')}`, {
        errors: unknown.map((g) => ({ field: 'body.groups', message: `no group '${g}'` })),
      });
    return [...new Set(groups)];
  }

  private checkPassword(password: string, username: string, field: string): void {
    const p = passwordProblems(password, username);
    if (p.length) throw validation(`${field} ${p.join('; ')}`, `body.${field}`, p);
  }

  /**
   * Refuses a change that would take away the last enabled user with users:admin (nobody could undo it). A
   * directory that has no administrator at all (a fresh CLI-managed data dir) is not made worse by a change.
   */
  private keepAnAdmin(username: string, next: { groups: readonly string[]; disabled: boolean } | undefined): void {
    const { users } = this.d;
    const isAdmin = (v: { groups: readonly string[]; disabled: boolean } | undefined) =>
      v !== undefined && !v.disabled && users.permissionsFor(v.groups).unscoped('users:admin');
    const all = users.list();
    if (!all.some((u) => isAdmin(u))) return;
    if (!all.some((u) => isAdmin(u.username === username ? next : u)))
      throw new TagwayError('CONFLICT', 'This change would leave no enabled user with users:admin');
  }

  private async audit(actor: Actor, action: AuditAction, target: string, details?: Record<string, unknown>): Promise<void> {
    await this.d.audit.record({
      action,
      user: actor.principal.username,
      // An operator at the machine has no network address.
      clientAddress: actor.via === 'cli' ? null : actor.clientAddress,
      target,
      details,
      result: 'OK',
    });
  }
}

/** Grants as given, each tag glob compiled once; a scope on a permission that is not about tags is refused. */
export function checkGrants(grants: readonly Grant[]): Grant[] {
  grants.forEach((g, i) => {
    const scope = grantScopeProblem(g);
    if (scope) throw validation(`permissions[${i}].tags: ${scope}`, `body.permissions.${i}.tags`, [scope]);
    if (g.tags === undefined) return;
    try {
      compileGlob(g.tags);
    } catch (err) {
      throw validation(`permissions[${i}].tags is not a valid glob`, `body.permissions.${i}.tags`, [(err as Error).message]);
    }
  });
  return grants.map((g) => (g.tags === undefined ? { permission: g.permission } : { permission: g.permission, tags: g.tags }));
}
