import { TagwayError } from '../domain/problems.js';
import type { Actor } from './actor.js';

/** One member as `GET /cluster` shows it. */
export interface ClusterNodeInfo {
  id: string;
  /** The URL the node serves. */
  address: string;
  /** 'up' while it renews its heartbeat, 'down' when silent longer than a lease, 'left' after a clean stop. */
  state: 'up' | 'down' | 'left';
  lastSeen: string;
  /** Connections whose lease it holds. */
  connections: string[];
}

/** The cluster's members and who runs which connection (only when this node is a cluster member). */
export class ClusterService {
  constructor(private readonly view: { nodes(): Promise<ClusterNodeInfo[]> }) {}

  /** Same right as the connection list: the members' connection names describe the plant like `/connections`. */
  async nodes(actor: Actor): Promise<ClusterNodeInfo[]> {
    const perms = actor.principal.permissions;
    if (!perms.has('tags:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:read'");
    const all = await this.view.nodes();
    if (perms.unscoped('tags:read')) return all;
    // A scoped reader sees the members, not the names of connections outside its rights.
    return all.map((n) => ({ ...n, connections: [] }));
  }
}
