/**
 * Split brain by a pause: the owner of connections is stopped (SIGSTOP, as a long GC pause or a frozen VM would)
 * for 2.5 lease periods while the rest of the cluster takes its connections over under higher fencing tokens, then
 * resumed (SIGCONT). Its timers fire late and it still believes it holds its leases until it looks: it must not act
 * on them in between — no write applied by its driver, no value the others accept, no alarm event journaled — and it
 * must give them up at once and rejoin calmly. Three node processes on a real PostgreSQL and nats-server.
 */
import { rmSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestNats } from '../../helpers/nats.js';
import type { TestCluster } from '../../helpers/postgres.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  call,
  metric,
  ownersOn,
  startNode,
  stopNode,
  type ClusterNode,
  auditedWrites,
  clusterCheck,
  leaseRows as leaseRowsOf,
  metricsOf as nodeMetrics,
  queryDb,
  adminToken,
  startClusterEnvironment,
} from './nodes.js';

const LEASE_MS = 3000;
const LINES = ['line1', 'line2', 'line3', 'line4', 'line5'];
/** A value only the write sent to the paused node carries: above the alarm limit, so applying it would raise one. */
const PAUSED_WRITE = 999;
/** A value only the write forwarded (NATS) to the paused owner carries; nobody may apply it. */
const FORWARDED_WRITE = 888;
const PROJECT = [
  'name: Cluster pause',
  'connections:',
  ...LINES.map((l) => `  - { name: ${l}, driver: internal }`),
  '  - { name: sim, driver: simulator }',
  'tags:',
  ...LINES.flatMap((l) => ['A', 'B'].map((x) => `  - { name: ${l}.${x}, type: Float64, connection: ${l}, initial: 0 }`)),
  '  - { name: Sim.Counter, type: UInt16, connection: sim, simulation: { kind: counter, cycleMs: 100, min: 0, max: 1000 } }',
  'alarms:',
  ...LINES.map(
    (l, i) =>
      `  - { name: ${l}.High, number: ${i + 1}, class: Alarm, priority: 10, tag: ${l}.A, limit: { type: H, value: 500 }, text: "${l} high: {value}" }`,
  ),
].join('\n');

let pgc: TestCluster | undefined;
let nats: TestNats | undefined;
let dir: string;
let databaseUrl: string;
let projectFile: string;
let secretKey: string;
let token: string;
const nodes: ClusterNode[] = [];

async function launch(id: string): Promise<ClusterNode> {
  return startNode({ id, databaseUrl, natsUrl: nats!.url, projectFile, secretKey, leaseMs: LEASE_MS, dir, logLevel: 'info' });
}

const query = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => queryDb<T>(databaseUrl, sql, params);
const auditOk = (tag: string) => auditedWrites(databaseUrl, tag);
const leaseRows = () => leaseRowsOf(databaseUrl);
const metricsOf = (n: ClusterNode) => nodeMetrics(n, token);

beforeAll(async () => {
  ({ dir, nats, pgc, databaseUrl, projectFile, secretKey } = await startClusterEnvironment('tagway_pause', PROJECT));
  nodes.push(...(await Promise.all(['node-a', 'node-b', 'node-c'].map(launch))));
  token = await adminToken(nodes[2]!);
}, 90_000);

afterAll(async () => {
  for (const n of nodes) {
    // A test that failed mid-pause must not leave a stopped process behind (SIGTERM is not handled while stopped).
    if (n.proc.exitCode === null) n.proc.kill('SIGCONT');
    await stopNode(n);
  }
  await nats?.stop();
  await pgc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a node paused past its lease (SIGSTOP) and resumed', () => {
  it('acts on no lease it lost: applies no write, publishes nothing the others accept, journals nothing, rejoins calmly', {
    timeout: 150_000,
  }, async () => {
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const owners = await waitUntil(
      async () => {
        const o = await ownersOn(c, token);
        const live = new Set(nodes.map((n) => n.id));
        return Object.values(o).every((x) => x !== undefined && live.has(x)) && LINES.some((l) => o[l] === a.id) ? o : undefined;
      },
      'every connection owned and node A running an internal connection',
      8 * LEASE_MS + 10_000,
      100,
    );
    const mine = Object.keys(owners).filter((k) => owners[k] === a.id);
    const line = mine.find((k) => LINES.includes(k))!;
    const tag = `${line}.A`;
    const auditBefore = await auditOk(tag);
    const tokensBefore = Object.fromEntries((await leaseRows()).map((l) => [l.connection, Number(l.token)]));
    const takeoversBefore = metric(await metricsOf(a), 'tagway_cluster_takeovers_total')!;
    expect(metric(await metricsOf(a), 'tagway_cluster_owned_connections')).toBe(mine.length);
    // A write before the pause, through another node: A applies it (it still owns the connection).
    const w0 = await call(c, 'PUT', `/tags/${tag}/value`, { token, body: { value: 1 } });
    expect(w0.status, w0.text).toBe(200);
    // Open A's HTTPS connection now, so that the write sent during the pause waits in its socket and is read by the
    // first turn of A's event loop after the resume, before any of its late timers.
    expect((await call(a, 'GET', '/health')).status).toBe(200);

    a.proc.kill('SIGSTOP');
    const pausedAt = Date.now();
    let resumed = false;
    let watching = true;
    let watcher: Promise<void> | undefined;
    try {
      const early = call(a, 'PUT', `/tags/${tag}/value`, { token, body: { value: PAUSED_WRITE } });
      early.catch(() => undefined);
      // A write through another node that still takes A for the owner: forwarded to A over NATS, where it waits in
      // A's socket; the writer's node gives up on it when A's heartbeats stop (outcome unknown to the client). A
      // resumed A reads it before its late timers fire, and must not apply it: another node runs the device by then.
      const forwarded = await call(c, 'PUT', `/tags/${line}.B/value`, { token, body: { value: FORWARDED_WRITE } });
      expect([503, 504], forwarded.text).toContain(forwarded.status);
      // The others take A's connections over once its leases expire, under higher fencing tokens.
      await waitUntil(
        async () => {
          const o = await ownersOn(c, token);
          return mine.every((k) => o[k] !== undefined && o[k] !== a.id) || undefined;
        },
        'another node running every connection of the paused node',
        4 * LEASE_MS,
        100,
      );
      const rows = await leaseRows();
      for (const l of rows.filter((x) => mine.includes(x.connection))) {
        expect([b.id, c.id]).toContain(l.holder);
        expect(Number(l.token)).toBeGreaterThan(tokensBefore[l.connection]!);
      }
      const newOwner = rows.find((l) => l.connection === line)!.holder!;
      // The new owner serves writes (through the third node, or itself).
      const acked: number[] = [1];
      for (let v = 2; v <= 6; v++) {
        const w = await call(c, 'PUT', `/tags/${tag}/value`, { token, body: { value: v } });
        expect(w.status, w.text).toBe(200);
        acked.push(v);
      }
      // Hold the pause to about 2.5 lease periods in all.
      const left = 2.5 * LEASE_MS - (Date.now() - pausedAt);
      if (left > 0) await new Promise((r) => setTimeout(r, left));

      a.proc.kill('SIGCONT');
      resumed = true;
      const resumedAt = Date.now();
      // Meanwhile the others must never take A for the owner of its old connections, nor a value of A's.
      const seen: string[] = [];
      watcher = (async () => {
        while (watching) {
          for (const n of [b, c]) {
            const o = await ownersOn(n, token);
            // A may take a connection again once it rejoined (a hand-over): believing it is wrong only while the
            // lease table, read after, names another holder.
            const holders = Object.fromEntries((await leaseRows()).map((l) => [l.connection, l.holder]));
            for (const k of mine)
              if (o[k] === a.id && holders[k] !== a.id) seen.push(`${n.id} names ${a.id} owner of ${k}, held by ${holders[k]}`);
          }
        }
      })();

      // (2) The write that waited in A's socket, and one sent right after the resume: each is refused (503), or
      // forwarded to the new owner, which applies it — never applied by A's own driver. The other nodes ignore A's
      // messages (older fencing token), so a value they show is the new owner's: an acknowledged write must reach
      // them (a write A applied itself would be acknowledged and never show there: the defect this test found).
      const outcomes: number[] = [];
      for (const [value, send] of [
        [PAUSED_WRITE, () => early],
        [7, () => call(a, 'PUT', `/tags/${tag}/value`, { token, body: { value: 7 } })],
      ] as const) {
        const w = await send();
        outcomes.push(w.status);
        if (w.status !== 200) {
          expect(w.status, w.text).toBe(503);
          expect(w.json.code).toBe('DEVICE_UNAVAILABLE');
          continue;
        }
        acked.push(value);
        for (const n of [b, c])
          await waitUntil(
            async () => (await call(n, 'GET', `/tags/${tag}/value`, { token })).json.value === value || undefined,
            `${n.id} showing ${value}, acknowledged by ${a.id} (applied by the new owner?)\n${a.output().slice(-3000)}`,
            5000,
            50,
          );
      }

      // (4) A gives its connections up at once, and says so.
      await waitUntil(
        async () => metric(await metricsOf(a), 'tagway_cluster_owned_connections') === 0 || undefined,
        'node A giving its connections up',
        LEASE_MS,
        25,
      );
      const gaveUpMs = Date.now() - resumedAt;

      // Two lease periods of watching: nothing of A's is believed, nothing moves back to A abruptly.
      await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
      watching = false;
      await watcher;
      expect(seen).toEqual([]);
      const last = acked.at(-1)!;
      for (const n of [a, b, c])
        await waitUntil(
          async () => (await call(n, 'GET', `/tags/${tag}/value`, { token })).json.value === last || undefined,
          `${n.id} showing the new owner's last value`,
          5000,
          50,
        );
      // The device (the internal store in PostgreSQL) holds the new owner's last write; each acknowledged write is
      // audited once, the refused one not as written.
      const stored = await query<{ value: string }>(`SELECT value FROM kv WHERE namespace = 'internal' AND key = $1`, [tag]);
      expect(stored.map((s) => JSON.parse(s.value) as unknown)).toEqual([last]);
      // The write forwarded to the paused owner was applied nowhere: not stored, shown by no node.
      const storedB = await query<{ value: string }>(`SELECT value FROM kv WHERE namespace = 'internal' AND key = $1`, [`${line}.B`]);
      expect(storedB.map((s) => JSON.parse(s.value) as unknown)).not.toContain(FORWARDED_WRITE);
      for (const n of [a, b, c]) expect((await call(n, 'GET', `/tags/${line}.B/value`, { token })).json.value).not.toBe(FORWARDED_WRITE);
      expect(await auditOk(tag)).toBe(auditBefore + acked.length);
      // (3) The paused write's value raises `${line}.High`: once, by the new owner, if it was forwarded there;
      // never by A (its events would be refused by the journal's fencing anyway).
      const raised = await query<{ n: string }>(`SELECT count(*) AS n FROM alarm_events WHERE alarm = $1 AND event = 'RAISED'`, [
        `${line}.High`,
      ]);
      expect(Number(raised[0]!.n)).toBe(acked.includes(PAUSED_WRITE) ? 1 : 0);
      // A's old leases were never revived under its old tokens (A may have been handed one again since it rejoined,
      // under a new token).
      for (const l of (await leaseRows()).filter((x) => mine.includes(x.connection)))
        expect(Number(l.token)).toBeGreaterThan(tokensBefore[l.connection]!);
      // It said why it gave them up.
      expect(a.output()).toMatch(/paused/);
      console.log(
        `pause of ${a.id} (ran ${mine.join(', ')}; ${line} went to ${newOwner}) for ${resumedAt - pausedAt} ms: ` +
          `owned connections 0 after ${gaveUpMs} ms from SIGCONT; writes sent to it: ${outcomes.join(', ')}`,
      );
    } finally {
      if (!resumed) a.proc.kill('SIGCONT');
      watching = false;
      await watcher?.catch(() => undefined);
    }

    // (5) /health and /metrics: healthy again, and A gets work back one connection at a time (no flapping).
    await waitUntil(async () => (await clusterCheck(a))?.ok || undefined, 'node A healthy again', 4 * LEASE_MS);
    expect(metric(await metricsOf(a), 'tagway_cluster_healthy')).toBe(1);
    const moves = new Map<string, number>();
    let previous = await ownersOn(c, token);
    const watch = async () => {
      const now = await ownersOn(c, token);
      for (const k of Object.keys(now)) if (now[k] !== previous[k] && now[k] !== undefined) moves.set(k, (moves.get(k) ?? 0) + 1);
      previous = now;
      return Object.values(now).includes(a.id);
    };
    await waitUntil(async () => (await watch()) || undefined, 'node A running a connection again', 6 * LEASE_MS + 5000, 100);
    const until = Date.now() + 2 * LEASE_MS;
    while (Date.now() < until) {
      await watch();
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const [k, n] of moves) expect(n, `${k} moved ${n} times`).toBe(1);
    expect(metric(await metricsOf(a), 'tagway_cluster_takeovers_total')).toBeGreaterThan(takeoversBefore);
  });
});
