/**
 * A logout whose NATS announcement a node never received: node B reaches NATS through a TCP proxy and is cut off
 * while the user logs out on node A; once B is back it must refuse the token (it reads the session ends it missed
 * from PostgreSQL) instead of accepting it until the idle timeout. Two node processes, real PostgreSQL and
 * nats-server, on loopback.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_SYNC_GRACE_MS, SESSION_SYNC_MS } from '../../../src/cluster/session-sync.js';
import type { TestNats } from '../../helpers/nats.js';
import type { TestCluster } from '../../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { waitUntil } from '../../helpers/wait.js';
import { call, clusterCheck, queryDb, startClusterEnvironment, startNode, stopNode, type ClusterNode } from './nodes.js';

const LEASE_MS = 3000;
const PROJECT = `
name: Cluster sessions
connections:
  - { name: line1, driver: internal }
tags:
  - { name: L1.Setpoint, type: Float64, connection: line1, initial: 1 }
`;
/** A session change carried by NATS reaches the other node within this (loopback, loaded machine). */
const PROPAGATION_MS = 2000;
/**
 * After B is back on NATS, its check after the reconnect refuses the token well within this; the periodic one
 * alone would too (every SESSION_SYNC_MS), so the bound also holds when the reconnect goes unnoticed.
 */
const REFUSED_WITHIN_MS = SESSION_SYNC_MS + 2000;

let pgc: TestCluster | undefined;
let nats: TestNats | undefined;
let natsProxy: TcpProxy | undefined;
let dir: string;
let databaseUrl: string;
const nodes: ClusterNode[] = [];

const value = (n: ClusterNode, token: string) => call(n, 'GET', '/tags/L1.Setpoint/value', { token });
const login = async (n: ClusterNode) => {
  const r = await call(n, 'POST', '/auth/login', { body: { username: 'admin', password: 'cluster-admin-password' } });
  expect(r.status, r.text).toBe(200);
  return r.json.token as string;
};
const rowOf = (token: string) =>
  queryDb(databaseUrl, 'SELECT 1 FROM sessions WHERE token_hash = $1', [createHash('sha256').update(token).digest('hex')]);

beforeAll(async () => {
  let projectFile: string;
  let secretKey: string;
  ({ dir, nats, pgc, databaseUrl, projectFile, secretKey } = await startClusterEnvironment('tagway_sessions', PROJECT));
  natsProxy = await startTcpProxy(nats.port);
  const common = { databaseUrl, projectFile, secretKey, leaseMs: LEASE_MS, dir, logLevel: 'info' };
  nodes.push(
    ...(await Promise.all([
      startNode({ id: 'node-a', natsUrl: nats.url, ...common }),
      startNode({ id: 'node-b', natsUrl: `nats://127.0.0.1:${natsProxy.port}`, ...common }),
    ])),
  );
}, 90_000);

afterAll(async () => {
  for (const n of nodes) await stopNode(n);
  await natsProxy?.close();
  await nats?.stop();
  await pgc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sessions across a NATS outage of one node', () => {
  it('a node cut off NATS during a logout on another refuses the token once it is back', { timeout: 90_000 }, async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const loggedOut = await login(a);
    const kept = await login(a);
    for (const token of [loggedOut, kept])
      await waitUntil(async () => (await value(b, token)).status === 200, 'the sessions created on A known on B', PROPAGATION_MS);
    const knownOnB = Date.now();

    natsProxy!.cut('reset');
    await waitUntil(async () => (await clusterCheck(b))?.ok === false, 'B noticing it lost NATS', 10_000, 100);

    expect((await call(a, 'POST', '/auth/logout', { token: loggedOut })).status).toBeLessThan(300);
    expect((await value(a, loggedOut)).status).toBe(401);
    await waitUntil(async () => (await rowOf(loggedOut)).length === 0, 'the session row deleted by A', PROPAGATION_MS);

    // Sessions younger than the grace are not checked (their row may still be on its way): let B's copy age past
    // it, as any session does that is used for more than a few seconds, so what follows is the reconnect's doing.
    const aged = knownOnB + SESSION_SYNC_GRACE_MS + 200 - Date.now();
    if (aged > 0) await new Promise((r) => setTimeout(r, aged));

    natsProxy!.restore();
    await waitUntil(async () => (await clusterCheck(b))?.ok === true, 'B back on NATS', 10_000, 100);
    await waitUntil(
      async () => (await value(b, loggedOut)).status === 401,
      'the token logged out on A during the outage refused on B',
      REFUSED_WITHIN_MS,
      100,
    );
    // B learnt it from the database (NATS does not deliver what was published while it was away).
    expect(b.output()).toMatch(/sessions ended on another node forgotten here/);

    // Only the ended session: the other one, and new ones, keep working on both nodes.
    expect((await value(b, kept)).status).toBe(200);
    expect((await value(a, kept)).status).toBe(200);
    const fresh = await login(b);
    await waitUntil(async () => (await value(a, fresh)).status === 200, 'a session created on B known on A', PROPAGATION_MS);
    await new Promise((r) => setTimeout(r, SESSION_SYNC_MS + SESSION_SYNC_GRACE_MS + 1000));
    for (const n of [a, b]) for (const token of [kept, fresh]) expect((await value(n, token)).status, `${n.id}`).toBe(200);
  });
  it("a password change on one node ends the user's other sessions on every node at once", { timeout: 60_000 }, async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const changer = await login(a);
    const other = await login(a);
    for (const token of [changer, other])
      await waitUntil(async () => (await value(b, token)).status === 200, 'the sessions created on A known on B', PROPAGATION_MS);
    const r = await call(a, 'POST', '/users/current/password', {
      token: changer,
      body: { currentPassword: 'cluster-admin-password', newPassword: 'another long cluster passphrase' },
    });
    expect(r.status, r.text).toBe(204);
    // Both sessions are younger than the check's grace: only the announcement can end the other one on B this soon.
    await waitUntil(async () => (await value(b, other)).status === 401, 'the other session refused on B', PROPAGATION_MS, 50);
    expect((await value(a, other)).status).toBe(401);
    for (const n of [a, b]) expect((await value(n, changer)).status, `${n.id}`).toBe(200);
  });
});
