import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PermissionSet, type Group } from '../domain/permissions.js';
import type { UserEntry } from '../project/schema/project.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { UserRecord, UserStore } from '../storage/sqlite/user-store.js';
import { dummyHash, hashPassword, randomPassword, verifyPassword } from './passwords.js';

/**
 * Users (SQLite, kept in step with the project file) and groups (project file plus built-ins), and the compiled
 * permissions of each user, cached until users or groups change.
 */
export class UserDirectory {
  private groups: Map<string, Group>;
  private readonly permissionCache = new Map<string, PermissionSet>();
  private listeners: Array<(username: string | undefined) => void> = [];

  constructor(
    private readonly store: UserStore,
    groups: readonly Group[],
    private readonly logger: Logger,
    /** Where `user.changed` is announced: every change of a user or group passes here, whoever makes it. */
    private readonly events?: EventBus | undefined,
  ) {
    this.groups = new Map(groups.map((g) => [g.name, g]));
  }

  group(name: string): Group | undefined {
    return this.groups.get(name);
  }
  listGroups(): Group[] {
    return [...this.groups.values()];
  }
  setGroups(groups: readonly Group[]): void {
    const old = this.groups;
    this.groups = new Map(groups.map((g) => [g.name, g]));
    this.changed(undefined);
    if (!this.events) return;
    for (const [name, g] of old) {
      const next = this.groups.get(name);
      if (!next || JSON.stringify(next.permissions) !== JSON.stringify(g.permissions))
        this.events.emit('user.changed', { group: name, reason: 'permissions' });
    }
  }

  get(username: string): UserRecord | undefined {
    return this.store.get(username);
  }
  list(): UserRecord[] {
    return this.store.list();
  }

  /** Permissions of a set of groups, compiled once per distinct set. */
  permissionsFor(groups: readonly string[]): PermissionSet {
    const key = groups.join('\n');
    let p = this.permissionCache.get(key);
    if (!p) {
      p = PermissionSet.forGroups(groups, this.groups);
      this.permissionCache.set(key, p);
    }
    return p;
  }

  /** Checks a username and password; the same work and answer whether the user is unknown or the password wrong. */
  async verifyCredentials(username: string, password: string): Promise<UserRecord | undefined> {
    const user = this.store.get(username);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
    if (!user || !ok || user.disabled) return undefined;
    return user;
  }

  /** Adds or updates the project file's users; users created by admins are left alone. */
  async syncProjectUsers(users: readonly UserEntry[]): Promise<void> {
    for (const u of users) {
      const existing = this.store.get(u.username);
      let passwordHash = u.passwordHash;
      if (passwordHash === undefined && u.password !== undefined) {
        passwordHash =
          existing && (await verifyPassword(existing.passwordHash, u.password)) ? existing.passwordHash : await hashPassword(u.password);
      }
      this.store.upsert({
        username: u.username,
        displayName: u.displayName ?? u.username,
        passwordHash: passwordHash ?? existing?.passwordHash ?? '',
        groups: u.groups,
        disabled: u.disabled ?? false,
        source: 'project',
      });
    }
    this.changed(undefined);
  }

  /**
   * On first start (no user able to administer users), creates `admin` in `admins` with the password from
   * TAGWAY_ADMIN_PASSWORD or a random one that is printed once and written to `<dataDir>/initial-admin-password`.
   */
  async ensureAdmin(dataDir: string, envPassword: string | undefined, print: (line: string) => void): Promise<void> {
    const hasAdmin = this.store.list().some((u) => !u.disabled && this.permissionsFor(u.groups).has('users:admin'));
    if (hasAdmin) return;
    const existing = this.store.get('admin');
    const password = envPassword && envPassword.length > 0 ? envPassword : randomPassword();
    this.store.upsert({
      username: 'admin',
      displayName: existing?.displayName ?? 'Administrator',
      passwordHash: await hashPassword(password),
      groups: [...new Set([...(existing?.groups ?? []), 'admins'])],
      disabled: false,
      source: existing?.source ?? 'local',
    });
    if (envPassword) {
      print(`Created user 'admin' with the password from TAGWAY_ADMIN_PASSWORD.`);
    } else {
      const file = join(dataDir, 'initial-admin-password');
      writeFileSync(file, password + '\n', { mode: 0o600 });
      print(`Created user 'admin' with password: ${password}`);
      print(`(also written to ${file}; change it after the first login)`);
    }
    this.logger.info({ username: 'admin' }, 'initial administrator created');
    this.changed('admin');
  }

  upsertLocal(u: Omit<UserRecord, 'createdAt' | 'updatedAt'>): void {
    const old = this.events ? this.store.get(u.username) : undefined;
    this.store.upsert(u);
    this.changed(u.username);
    if (!this.events || !old) return;
    const emit = (reason: 'disabled' | 'enabled' | 'password' | 'groups') =>
      this.events!.emit('user.changed', { username: u.username, reason });
    if (u.disabled !== old.disabled) emit(u.disabled ? 'disabled' : 'enabled');
    if (u.passwordHash !== old.passwordHash && old.passwordHash !== '') emit('password');
    if (u.groups.join('\n') !== old.groups.join('\n')) emit('groups');
  }

  delete(username: string): boolean {
    const ok = this.store.delete(username);
    if (ok) {
      this.changed(username);
      this.events?.emit('user.changed', { username, reason: 'deleted' });
    }
    return ok;
  }

  /** Called when a user (or, with undefined, everybody) changed; sessions and caches listen. */
  onChange(l: (username: string | undefined) => void): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  private changed(username: string | undefined): void {
    this.permissionCache.clear();
    for (const l of this.listeners) l(username);
  }
}
