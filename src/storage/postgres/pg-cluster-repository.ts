import type pg from 'pg';
import type { ClusterNodeRecord, ClusterRepository, LeaseRecord } from '../cluster-repository.js';

/** Serialises the table creation of nodes starting together (CREATE TABLE IF NOT EXISTS races on the catalogue). */
const INIT_LOCK = 0x7461_6763; // 'tagc'

/** Leases as rows with holder, fencing token and expiry (see docs/scaling.md for why not advisory locks). */
export class PgClusterRepository implements ClusterRepository {
  constructor(private readonly pool: pg.Pool) {}

  async init(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [INIT_LOCK]);
      await c.query(`CREATE TABLE IF NOT EXISTS cluster_nodes (
        id text PRIMARY KEY, address text NOT NULL, state text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(), last_seen timestamptz NOT NULL DEFAULT now())`);
      await c.query(`CREATE TABLE IF NOT EXISTS cluster_leases (
        connection text PRIMARY KEY, holder text, token bigint NOT NULL DEFAULT 0, expires_at timestamptz)`);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async heartbeat(node: { id: string; address: string; state: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO cluster_nodes (id, address, state) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET address = $2, state = $3, last_seen = now(),
         started_at = CASE WHEN cluster_nodes.state = 'up' THEN cluster_nodes.started_at ELSE now() END`,
      [node.id, node.address, node.state],
    );
  }

  async nodes(): Promise<ClusterNodeRecord[]> {
    const r = await this.pool.query<{ id: string; address: string; state: string; started_at: Date; last_seen: Date; silent_ms: string }>(
      `SELECT id, address, state, started_at, last_seen, (extract(epoch FROM now() - last_seen) * 1000)::bigint AS silent_ms
       FROM cluster_nodes ORDER BY id`,
    );
    return r.rows.map((x) => ({
      id: x.id,
      address: x.address,
      state: x.state,
      startedAt: new Date(x.started_at).getTime(),
      lastSeen: new Date(x.last_seen).getTime(),
      silentMs: Number(x.silent_ms),
    }));
  }

  async ensure(connections: readonly string[]): Promise<void> {
    if (connections.length === 0) return;
    await this.pool.query('INSERT INTO cluster_leases (connection) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [connections]);
  }

  async leases(): Promise<LeaseRecord[]> {
    const r = await this.pool.query<{ connection: string; holder: string | null; token: string; remaining_ms: string | null }>(
      `SELECT connection, holder, token, (extract(epoch FROM expires_at - now()) * 1000)::bigint AS remaining_ms
       FROM cluster_leases ORDER BY connection`,
    );
    return r.rows.map((x) => ({
      connection: x.connection,
      holder: x.holder,
      token: Number(x.token),
      remainingMs: x.remaining_ms === null ? -1 : Number(x.remaining_ms),
    }));
  }

  async acquire(connection: string, holder: string, ttlMs: number): Promise<number | undefined> {
    const r = await this.pool.query<{ token: string }>(
      `UPDATE cluster_leases SET holder = $2, token = token + 1, expires_at = now() + make_interval(secs => $3::float8 / 1000)
       WHERE connection = $1 AND (holder IS NULL OR expires_at IS NULL OR expires_at < now()) RETURNING token`,
      [connection, holder, ttlMs],
    );
    return r.rows[0] ? Number(r.rows[0].token) : undefined;
  }

  async renew(holder: string, leases: ReadonlyArray<{ connection: string; token: number }>, ttlMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    const r = await this.pool.query<{ connection: string }>(
      `UPDATE cluster_leases l SET expires_at = now() + make_interval(secs => $4::float8 / 1000)
       FROM unnest($2::text[], $3::bigint[]) AS h(c, t)
       WHERE l.connection = h.c AND l.token = h.t AND l.holder = $1 RETURNING l.connection`,
      [holder, leases.map((l) => l.connection), leases.map((l) => l.token), ttlMs],
    );
    return r.rows.map((x) => x.connection);
  }

  async release(connection: string, holder: string, token: number): Promise<void> {
    await this.pool.query(
      'UPDATE cluster_leases SET holder = NULL, expires_at = NULL WHERE connection = $1 AND holder = $2 AND token = $3',
      [connection, holder, token],
    );
  }

  async leave(holder: string): Promise<void> {
    await this.pool.query('UPDATE cluster_leases SET holder = NULL, expires_at = NULL WHERE holder = $1', [holder]);
    await this.pool.query(`UPDATE cluster_nodes SET state = 'left', last_seen = now() WHERE id = $1`, [holder]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
