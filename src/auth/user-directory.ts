import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PermissionSet, type Group } from '../domain/permissions.js';
import type { UserEntry } from '../project/schema/project.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { NewUser, UserRecord, UserRepository } from '../storage/user-repository.js';
import { dummyHash, hashPassword, randomPassword, verifyPassword } from './passwords.js';

/** How often the repository is asked whether another process (the `tagway user` CLI) changed users. */
const EXTERNAL_CHECK_MS = 200;

/**
 * Users (in the user repository, kept in step with the project file) and groups (project file plus built-ins),
 * and the compiled permissions of each user, cached until users or groups change.
 *
 * Every authenticated request looks its user up (sessions and Basic both re-check `disabled`), so all users are
 * held in memory (`load` at start) and `get` never waits on storage; writes go to the repository first, then to
 * memory. A change by another process is picked up within about EXTERNAL_CHECK_MS. Records returned are shared:
 * treat them as read-only.
 */
export class UserDirectory {
  private groups: Map<string, Group>;
  private readonly permissionCache = new Map<string, PermissionSet>();
  private listeners: Array<(username: string | undefined) => void> = [];
  private users = new Map<string, UserRecord>();
  private externalVersion: number | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly store: UserRepository,
    groups: readonly Group[],
    private readonly logger: Logger,
    /** Where `user.changed` is announced: every change of a user or group passes here, whoever makes it. */
    private readonly events?: EventBus | undefined,
  ) {
    this.groups = new Map(groups.map((g) => [g.name, g]));
  }

  /** Reads every user into memory and starts watching for changes made by other processes. */
  async load(): Promise<void> {
    this.externalVersion = await this.store.externalVersion();
    await this.reload();
    this.watchTimer ??= setInterval(() => void this.checkExternal(), EXTERNAL_CHECK_MS).unref();
  }

  stop(): void {
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }

  private async reload(): Promise<void> {
    this.users = new Map((await this.store.list()).map((u) => [u.username, u]));
  }

  /** Re-reads users now if another process changed them (a cluster peer said so), instead of at the next poll. */
  refreshFromStore(): Promise<void> {
    return this.checkExternal();
  }

  private async checkExternal(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const v = await this.store.externalVersion();
      if (v === this.externalVersion) return;
      this.externalVersion = v;
      const before = this.users;
      await this.reload();
      for (const name of new Set([...before.keys(), ...this.users.keys()])) {
        const old = before.get(name);
        const now = this.users.get(name);
        if (old?.updatedAt === now?.updatedAt) continue;
        this.changed(name);
        // A change made by another process (the CLI) is announced like one made here.
        this.announce(name, old, now);
      }
    } catch (err) {
      this.logger.error({ err }, 'reading users changed by another process failed');
    } finally {
      this.checking = false;
    }
  }

  /** Writes a user to the repository, then memory (with the repository's timestamps). */
  private async put(u: NewUser): Promise<void> {
    await this.store.upsert(u);
    const stored = await this.store.get(u.username);
    if (stored) this.users.set(u.username, stored);
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
    return this.users.get(username);
  }
  /** Ordered by username. */
  list(): UserRecord[] {
    return [...this.users.values()].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
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
    const user = this.users.get(username);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
    if (!user || !ok || user.disabled) return undefined;
    return user;
  }

  /** Adds or updates the project file's users; users created by admins are left alone. */
  async syncProjectUsers(users: readonly UserEntry[]): Promise<void> {
    for (const u of users) {
      const existing = this.users.get(u.username);
      let passwordHash = u.passwordHash;
      if (passwordHash === undefined && u.password !== undefined) {
        passwordHash =
          existing && (await verifyPassword(existing.passwordHash, u.password)) ? existing.passwordHash : await hashPassword(u.password);
      }
      await this.put({
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
    const hasAdmin = this.list().some((u) => !u.disabled && this.permissionsFor(u.groups).has('users:admin'));
    if (hasAdmin) return;
    const existing = this.users.get('admin');
    const password = envPassword && envPassword.length > 0 ? envPassword : randomPassword();
    await this.put({
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

  async upsertLocal(u: Omit<UserRecord, 'createdAt' | 'updatedAt'>): Promise<void> {
    const old = this.users.get(u.username);
    await this.put(u);
    this.changed(u.username);
    this.announce(u.username, old, u);
  }

  async delete(username: string): Promise<boolean> {
    const ok = await this.store.delete(username);
    this.users.delete(username);
    if (ok) {
      this.changed(username);
      this.events?.emit('user.changed', { username, reason: 'deleted' });
    }
    return ok;
  }

  /** `user.changed` for what differs between a user's old and new record (nothing for a new user). */
  private announce(
    username: string,
    old: UserRecord | undefined,
    u: Pick<UserRecord, 'disabled' | 'passwordHash' | 'groups'> | undefined,
  ): void {
    if (!this.events || !old) return;
    if (!u) {
      this.events.emit('user.changed', { username, reason: 'deleted' });
      return;
    }
    const emit = (reason: 'disabled' | 'enabled' | 'password' | 'groups') => this.events!.emit('user.changed', { username, reason });
    if (u.disabled !== old.disabled) emit(u.disabled ? 'disabled' : 'enabled');
    if (u.passwordHash !== old.passwordHash && old.passwordHash !== '') emit('password');
    if (u.groups.join('\n') !== old.groups.join('\n')) emit('groups');
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
