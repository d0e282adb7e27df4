/**
 * Cluster membership and connection leases, kept in the database every node shares (PostgreSQL only: SQLite is one
 * node's file). Times are the database's clock, so that nodes with skewed clocks agree on who holds what.
 */
export interface ClusterNodeRecord {
  id: string;
  address: string;
  /** 'up' while it renews, 'left' after a clean stop. */
  state: string;
  startedAt: number;
  lastSeen: number;
  /** Milliseconds since its last heartbeat, measured by the database. */
  silentMs: number;
}

export interface LeaseRecord {
  connection: string;
  holder: string | null;
  /** The fencing token: grows by one with every acquisition. */
  token: number;
  /** Milliseconds until the lease expires (negative: expired), measured by the database. */
  remainingMs: number;
}

export interface ClusterRepository {
  /** Creates the tables when missing (idempotent, safe with nodes starting together). */
  init(): Promise<void>;
  /** Records this node as alive (upsert, last seen = now). */
  heartbeat(node: { id: string; address: string; state: string }): Promise<void>;
  nodes(): Promise<ClusterNodeRecord[]>;
  /** Creates a free lease row for each connection that has none. */
  ensure(connections: readonly string[]): Promise<void>;
  leases(): Promise<LeaseRecord[]>;
  /** Takes a free or expired lease; the new fencing token, or undefined when another node holds it. */
  acquire(connection: string, holder: string, ttlMs: number): Promise<number | undefined>;
  /** Extends the leases still held with these tokens; returns the connections that were extended. */
  renew(holder: string, leases: ReadonlyArray<{ connection: string; token: number }>, ttlMs: number): Promise<string[]>;
  /** Gives a lease up (only with its current token). */
  release(connection: string, holder: string, token: number): Promise<void>;
  /** A clean stop: the node's leases become free at once and the node shows as left. */
  leave(holder: string): Promise<void>;
  close(): Promise<void>;
}
