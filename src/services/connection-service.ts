import { TagwayError } from '../domain/problems.js';
import type { PermissionSet } from '../domain/permissions.js';
import type { BrowseNode, Driver } from '../drivers/driver.js';
import type { DriverModule } from '../drivers/registry.js';
import type { AuditEvent } from '../runtime/audit.js';
import type { ConnectionStatus } from '../runtime/connection-manager.js';
import type { ReloadResult } from '../runtime/reload.js';
import type { Actor } from './actor.js';

export interface ConnectionServiceDeps {
  connections: {
    list(): ConnectionStatus[];
    get(name: string): ConnectionStatus;
    driver(name: string): Driver | undefined;
  };
  /** The tags and the connection each belongs to (for scoped readers). */
  tags: { readonly tags: ReadonlyArray<{ readonly def: { readonly name: string; readonly connection: string } }> };
  audit: { record(e: AuditEvent): unknown };
  /** Re-reads the project file and applies its connection changes (Runtime.reloadProjectFile). */
  reload(): Promise<ReloadResult>;
  /** The project file a reload re-reads (the audit row's target). */
  projectFile(): string | undefined;
  driverModule(driver: string): Pick<DriverModule, 'browse'> | undefined;
}

/**
 * Connections as a reader sees them, device browsing and live reload.
 *
 * A reader whose `tags:read` is scoped sees only the connections that supply at least one tag it may read, each
 * with the count of those tags: the names, drivers and counters of the other connections describe parts of the
 * plant outside its rights. A connection it may not see answers NOT_FOUND, like one that does not exist, so that
 * the answer does not tell which exist. Browsing shows a device's whole address space, not only the caller's
 * tags, so it needs unscoped `tags:read`.
 */
export class ConnectionService {
  constructor(private readonly deps: ConnectionServiceDeps) {}

  list(actor: Actor): ConnectionStatus[] {
    const perms = this.reader(actor);
    const all = this.deps.connections.list();
    if (perms.unscoped('tags:read')) return all;
    const counts = this.readableTagsPerConnection(perms);
    return all.filter((c) => counts.has(c.name)).map((c) => ({ ...c, tagCount: counts.get(c.name)! }));
  }

  get(actor: Actor, name: string): ConnectionStatus {
    const perms = this.reader(actor);
    const status = this.deps.connections.get(name);
    if (perms.unscoped('tags:read')) return status;
    const count = this.readableTagsPerConnection(perms).get(name);
    if (count === undefined) throw new TagwayError('NOT_FOUND', `No connection named '${name}'`);
    return { ...status, tagCount: count };
  }

  /** Tags the caller may read, counted per connection; connections without any are absent. */
  readableTagsPerConnection(perms: PermissionSet): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of this.deps.tags.tags)
      if (perms.allows('tags:read', t.def.name)) counts.set(t.def.connection, (counts.get(t.def.connection) ?? 0) + 1);
    return counts;
  }

  /** Children of a node on a running connection whose driver can browse (NOT_FOUND for the others). */
  async browse(actor: Actor, name: string, nodeId: string | undefined): Promise<BrowseNode[]> {
    const perms = this.reader(actor);
    if (!perms.unscoped('tags:read'))
      throw new TagwayError('FORBIDDEN', "Browsing a device shows all of its address space: it needs 'tags:read' for all tags");
    const status = this.deps.connections.get(name);
    const browse = this.deps.driverModule(status.driver)?.browse;
    if (!browse)
      throw new TagwayError('NOT_FOUND', `Connection '${name}' uses driver '${status.driver}', which has no address space to browse`);
    const driver = this.deps.connections.driver(name);
    if (!driver) throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${name}' has not started`);
    return browse(driver, nodeId);
  }

  /** Applies the project file's connection changes; needs `users:admin`; every attempt is audited. */
  async reload(actor: Actor): Promise<ReloadResult> {
    const { principal } = actor;
    if (!principal.permissions.has('users:admin')) throw new TagwayError('FORBIDDEN', "You lack the permission 'users:admin'");
    const audit = (result: string, details: Record<string, unknown>) =>
      this.deps.audit.record({
        action: 'connections.reload',
        user: principal.username,
        clientAddress: actor.clientAddress,
        target: this.deps.projectFile() ?? null,
        details,
        result,
      });
    try {
      const result = await this.deps.reload();
      await audit('OK', { changed: result.changed, added: result.added, removed: result.removed });
      return result;
    } catch (err) {
      if (err instanceof TagwayError) await audit(err.code, { errors: err.errors?.map((e) => e.message) ?? [err.message] });
      throw err;
    }
  }

  private reader(actor: Actor): PermissionSet {
    const perms = actor.principal.permissions;
    if (!perms.has('tags:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:read'");
    return perms;
  }
}
