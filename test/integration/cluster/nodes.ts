/**
 * Tagway node processes for the cluster tests (test/fixtures/cluster-node.ts): start one, call its HTTP API, read
 * who runs which connection. Every node is a real process with its own HTTPS port, on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { startTestNats, type TestNats } from '../../helpers/nats.js';
import { startTestCluster, type TestCluster } from '../../helpers/postgres.js';

export interface ClusterNode {
  id: string;
  proc: ChildProcess;
  base: string;
  agent: Agent;
  /** Everything the process wrote (stdout and stderr), for checks on its logs; bounded. */
  output(): string;
}

export interface NodeOptions {
  id: string;
  databaseUrl: string;
  natsUrl: string;
  projectFile: string;
  secretKey: string;
  leaseMs: number;
  /** Parent of the node's data directory (one sub-directory per node id). */
  dir: string;
  /** pino level for the node's logs (captured in `output()`); silent by default. */
  logLevel?: string;
  /** The node's --cluster-ca, --cluster-cert and --cluster-key (PEM files). */
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface Answer {
  status: number;
  json: any;
  text: string;
}

export async function call(
  node: ClusterNode,
  method: 'GET' | 'PUT' | 'POST' | 'PATCH',
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<Answer> {
  const r = await request(node.base + path, {
    method,
    dispatcher: node.agent,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await r.body.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, json, text };
}

/** Spawns a node and waits for its READY line; rejects (with its output) when it exits first. */
export function startNode(o: NodeOptions): Promise<ClusterNode> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/cluster-node.ts',
      o.databaseUrl,
      join(o.dir, o.id),
      o.projectFile,
      o.natsUrl,
      o.id,
      String(o.leaseMs),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TAGWAY_SECRET_KEY: o.secretKey,
        TAGWAY_CLUSTER_LOG: o.logLevel ?? 'silent',
        TAGWAY_CLUSTER_CA: o.tls?.ca ?? '',
        TAGWAY_CLUSTER_CERT: o.tls?.cert ?? '',
        TAGWAY_CLUSTER_KEY: o.tls?.key ?? '',
      },
    },
  );
  let out = '';
  const keep = (d: Buffer) => {
    if (out.length < 200_000) out += d.toString();
  };
  proc.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    let ready = false;
    proc.once('error', reject);
    proc.once('exit', (code, signal) => {
      if (!ready)
        reject(Object.assign(new Error(`node ${o.id} exited before it was ready (${code ?? signal}): ${out}`), { output: out, code }));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      keep(d);
      const m = /READY (\d+) (\S+)\n/.exec(out);
      if (m && !ready) {
        ready = true;
        const ca = Buffer.from(m[2]!, 'base64').toString();
        resolve({
          id: o.id,
          proc,
          base: `https://127.0.0.1:${m[1]}`,
          agent: new Agent({ connect: { ca }, pipelining: 0 }),
          output: () => out,
        });
      }
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; closes the node's HTTP agent. */
export async function stopNode(n: ClusterNode): Promise<void> {
  if (n.proc.exitCode === null && n.proc.signalCode === null) {
    const gone = new Promise((r) => n.proc.once('exit', r));
    n.proc.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
  }
  await n.agent.close();
}

/** connection → owner node id (undefined in a gap), as one node's `GET /connections` says. */
export async function ownersOn(node: ClusterNode, token: string): Promise<Record<string, string | undefined>> {
  const r = await call(node, 'GET', '/connections', { token });
  if (r.status !== 200) throw new Error(`GET /connections on ${node.id}: ${r.status} ${r.text}`);
  return Object.fromEntries((r.json.items as Array<{ name: string; owner?: string }>).map((c) => [c.name, c.owner]));
}

/** One figure of a node's `/metrics` (Prometheus text), or undefined. */
export function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Stops every node still running and closes their HTTP agents. */
export async function stopNodes(nodes: readonly ClusterNode[]): Promise<void> {
  for (const n of nodes) await stopNode(n);
}

/** One query on the cluster's shared database, on a connection of its own (the nodes' pools are theirs). */
export async function queryDb<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(sql, params)).rows;
  } finally {
    await db.end();
  }
}

/** How many successful writes of `tag` the shared audit trail holds. */
export async function auditedWrites(databaseUrl: string, tag: string): Promise<number> {
  const sql = `SELECT count(*) AS n FROM audit_log WHERE action = 'tag.write' AND target = $1 AND result = 'OK'`;
  return Number((await queryDb<{ n: string }>(databaseUrl, sql, [tag]))[0]!.n);
}

/** The lease table as PostgreSQL holds it. */
export function leaseRows(databaseUrl: string): Promise<Array<{ connection: string; holder: string | null; token: string }>> {
  return queryDb(databaseUrl, 'SELECT connection, holder, token FROM cluster_leases');
}

/** A node's `/metrics` text. */
export async function metricsOf(n: ClusterNode, token: string): Promise<string> {
  return (await call(n, 'GET', '/metrics', { token })).text;
}

/** The cluster check of a node's `/health`, or undefined when it has none. */
export async function clusterCheck(n: ClusterNode): Promise<{ ok: boolean; reason?: string } | undefined> {
  const h = await call(n, 'GET', '/health');
  return (h.json?.storage?.checks as Array<{ name: string; ok: boolean; reason?: string }> | undefined)?.find((c) => c.name === 'cluster');
}

/** What every node of a cluster test shares: a data parent dir, NATS, a PostgreSQL database, the project, the key. */
export interface ClusterEnvironment {
  dir: string;
  nats: TestNats;
  pgc: TestCluster;
  databaseUrl: string;
  projectFile: string;
  secretKey: string;
}

/** Starts nats-server and a throw-away PostgreSQL with database `name`, and writes the project the nodes load. */
export async function startClusterEnvironment(name: string, project: string): Promise<ClusterEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const [nats, pgc] = await Promise.all([startTestNats(), startTestCluster()]);
  const databaseUrl = await pgc.createDatabase(name);
  const projectFile = join(dir, `${name}.yaml`);
  writeFileSync(projectFile, project);
  return { dir, nats, pgc, databaseUrl, projectFile, secretKey: randomBytes(32).toString('base64') };
}

/** A session token of the cluster fixture's administrator, logged in on `node`. */
export async function adminToken(node: ClusterNode): Promise<string> {
  const login = await call(node, 'POST', '/auth/login', { body: { username: 'admin', password: 'cluster-admin-password' } });
  if (login.status !== 200) throw new Error(`admin login on ${node.id}: ${login.status} ${login.text}`);
  return login.json.token as string;
}
