import { grantScopeProblem, type Group } from '../domain/permissions.js';
import { TagwayError } from '../domain/problems.js';
import type { GroupRepository } from '../storage/group-repository.js';
import type { ApiClients } from './api-clients.js';
import type { UserDirectory } from './user-directory.js';

/**
 * Groups: those of the project file (and built-ins) are read-only here; administrators add their own, stored in
 * SQLite and merged in at start. Every change goes through UserDirectory.setGroups, which drops cached
 * permissions (and, through its change event, the Basic cache), so it applies to the next request.
 */
export class GroupAdmin {
  private readonly fixed: Set<string>;

  constructor(
    private readonly store: GroupRepository,
    private readonly users: UserDirectory,
    private readonly clients: ApiClients,
  ) {
    this.fixed = new Set(users.listGroups().map((g) => g.name));
  }

  /** Merges the stored groups in (at start). */
  async load(): Promise<void> {
    // A scoped non-tag grant stored before such grants were refused (users:admin on Line1.* meant full admin) is
    // dropped: it grants nothing rather than everything.
    const extra = (await this.store.list())
      .filter((g) => !this.fixed.has(g.name))
      .map((g) => ({ ...g, permissions: g.permissions.filter((p) => grantScopeProblem(p) === undefined) }));
    if (extra.length) this.users.setGroups([...this.users.listGroups(), ...extra]);
  }

  isFixed(name: string): boolean {
    return this.fixed.has(name);
  }

  async create(g: Group): Promise<void> {
    if (this.users.group(g.name)) throw new TagwayError('CONFLICT', `Group '${g.name}' exists`);
    await this.store.upsert(g);
    this.users.setGroups([...this.users.listGroups(), g]);
  }

  async update(g: Group): Promise<Group> {
    const old = this.users.group(g.name);
    if (!old) throw new TagwayError('NOT_FOUND', `No group '${g.name}'`);
    if (this.fixed.has(g.name)) throw new TagwayError('CONFLICT', `Group '${g.name}' is defined in the project file; change it there`);
    this.keepAnAdmin(g.name, g);
    await this.store.upsert(g);
    this.users.setGroups(this.users.listGroups().map((x) => (x.name === g.name ? g : x)));
    return old;
  }

  async delete(name: string): Promise<Group> {
    const old = this.users.group(name);
    if (!old) throw new TagwayError('NOT_FOUND', `No group '${name}'`);
    if (this.fixed.has(name)) throw new TagwayError('CONFLICT', `Group '${name}' is defined in the project file; remove it there`);
    const members = [
      ...this.users
        .list()
        .filter((u) => u.groups.includes(name))
        .map((u) => u.username),
      ...this.clients
        .list()
        .filter((c) => c.groups.includes(name))
        .map((c) => c.clientId),
    ];
    // Deleting a group in use would silently change what its members may do; make the admin move them first.
    if (members.length)
      throw new TagwayError(
        'CONFLICT',
        `Group '${name}' still has members: ${members.slice(0, 10).join(', ')}${members.length > 10 ? ', …' : ''}`,
      );
    await this.store.delete(name);
    this.users.setGroups(this.users.listGroups().filter((x) => x.name !== name));
    return old;
  }

  /** A group change must not leave nobody able to administer users. */
  private keepAnAdmin(name: string, next: Group): void {
    const groups = new Map(this.users.listGroups().map((g) => [g.name, g] as const));
    groups.set(name, next);
    const can = (gs: readonly string[]) =>
      gs.some((n) => groups.get(n)?.permissions.some((p) => p.permission === 'users:admin' && p.tags === undefined));
    if (!this.users.list().some((u) => !u.disabled && can(u.groups)))
      throw new TagwayError('CONFLICT', 'This change would leave no enabled user with users:admin');
  }
}
