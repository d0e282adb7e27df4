/**
 * Failures of a three-node cluster (real PostgreSQL, real nats-server, three node processes on loopback): one node
 * cut off PostgreSQL, one node cut off NATS, the kill -9 of an owner under a stream of writes and reads, and NATS
 * with a password. Node A reaches PostgreSQL through a TCP proxy and node B reaches NATS through another, so that
 * each can be cut off alone while the rest of the cluster keeps both.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNats, type TestNats } from '../../helpers/nats.js';
import type { TestCluster } from '../../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  call,
  metric,
  ownersOn,
  startNode,
  stopNode,
  type Answer,
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
/** The failover bound. */
const FAILOVER_BOUND_MS = 10_000;
const LINES = ['line1', 'line2', 'line3', 'line4', 'line5'];
/** Six connections over three nodes: two each, so a node always runs at least one `internal` (writable) one. */
const PROJECT = [
  'name: Cluster faults',
  'connections:',
  ...LINES.map((l) => `  - { name: ${l}, driver: internal }`),
  '  - { name: sim, driver: simulator }',
  'tags:',
  ...LINES.flatMap((l) => ['A', 'B', 'C'].map((x) => `  - { name: ${l}.${x}, type: Float64, connection: ${l}, initial: 0 }`)),
  '  - { name: Sim.Counter, type: UInt16, connection: sim, simulation: { kind: counter, cycleMs: 100, min: 0, max: 1000 } }',
].join('\n');
const probeTag = (connection: string) => (connection === 'sim' ? 'Sim.Counter' : `${connection}.A`);

let pgc: TestCluster | undefined;
let nats: TestNats | undefined;
let pgProxy: TcpProxy | undefined;
let natsProxy: TcpProxy | undefined;
let dir: string;
let databaseUrl: string;
let projectFile: string;
let secretKey: string;
let token: string;
const nodes: ClusterNode[] = [];

function nodeUrlOf(id: string): { databaseUrl: string; natsUrl: string } {
  const db = new URL(databaseUrl);
  if (id === 'node-a') db.port = String(pgProxy!.port);
  return { databaseUrl: db.toString(), natsUrl: id === 'node-b' ? `nats://127.0.0.1:${natsProxy!.port}` : nats!.url };
}

async function launch(id: string): Promise<ClusterNode> {
  const n = await startNode({ id, ...nodeUrlOf(id), projectFile, secretKey, leaseMs: LEASE_MS, dir, logLevel: 'info' });
  // A node that dies by itself (not by the test's kill -9 or stop) is a defect: show why.
  n.proc.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && code !== 0)
      console.error(`${id} died (${code ?? signal}):\n${n.output().slice(-5000)}`);
  });
  return n;
}

const query = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => queryDb<T>(databaseUrl, sql, params);
const auditOk = (tag: string) => auditedWrites(databaseUrl, tag);
const leaseRows = () => leaseRowsOf(databaseUrl);
const metricsOf = (n: ClusterNode) => nodeMetrics(n, token);

/** Waits until every connection has a live owner and `victim` runs at least one `internal` connection. */
async function settled(victim: ClusterNode, observer: ClusterNode): Promise<Record<string, string | undefined>> {
  return waitUntil(
    async () => {
      const o = await ownersOn(observer, token);
      const live = new Set(nodes.map((n) => n.id));
      const all = Object.values(o).every((x) => x !== undefined && live.has(x));
      return all && LINES.some((l) => o[l] === victim.id) ? o : undefined;
    },
    `every connection owned and ${victim.id} running an internal connection`,
    8 * LEASE_MS + 10_000,
    100,
  );
}

interface StreamResult {
  acked: number[];
  /** Writes without a known outcome: 504 DEVICE_TIMEOUT, or the writer's node died under the request. */
  unknown: number[];
  refused: Array<{ status: number; code: string | undefined }>;
}

/**
 * Writes 1, 2, 3… to one tag, one after the other, through `via()` (which may change node between writes), until
 * stopped. Sorts every answer: acknowledged, refused (503/504 and their code), or lost with the writer's node.
 */
function writeStream(tag: string, via: (i: number) => ClusterNode, start = 1) {
  const r: StreamResult = { acked: [], unknown: [], refused: [] };
  let stop = false;
  const done = (async () => {
    for (let v = start; !stop; v++) {
      const node = via(v);
      let a: Answer;
      try {
        a = await call(node, 'PUT', `/tags/${tag}/value`, { token, body: { value: v } });
      } catch {
        // The node died under the request (kill -9): its outcome is unknown, as for a client behind a balancer.
        r.unknown.push(v);
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      if (a.status === 200) r.acked.push(v);
      else {
        r.refused.push({ status: a.status, code: a.json?.code });
        if (a.status === 504) r.unknown.push(v);
        // A refused write is not retried: the client was told; pace the stream a little while the gap lasts.
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  })();
  return {
    result: r,
    async stop(): Promise<StreamResult> {
      stop = true;
      await done;
      return r;
    },
  };
}

/**
 * The value of a tag once every node shows the same one (a node that did not take the last write gets it over NATS
 * a little after the writer answered).
 */
async function settledValue(on: ClusterNode[], tag: string): Promise<unknown> {
  const v = await waitUntil(
    async () => {
      const vs = await Promise.all(on.map(async (n) => (await call(n, 'GET', `/tags/${tag}/value`, { token })).json.value as unknown));
      return vs.every((x) => x === vs[0]) ? { value: vs[0] } : undefined;
    },
    `the same value of ${tag} on ${on.map((n) => n.id).join(', ')}`,
    5000,
    50,
  );
  return v.value;
}

/** A stream's final value must be its last acknowledged one, or a later one whose outcome was unknown. */
function expectFinal(value: unknown, r: StreamResult): void {
  const last = Math.max(0, ...r.acked);
  const candidates = [last, ...r.unknown.filter((u) => u > last)];
  expect(candidates, `final value ${String(value)}; acked up to ${last}; unknown ${JSON.stringify(r.unknown)}`).toContain(value);
}

/** Refusals are 503 DEVICE_UNAVAILABLE or 504 DEVICE_TIMEOUT only, each with its problem code. */
function expectOnlyGapRefusals(r: StreamResult): void {
  for (const x of r.refused) {
    expect([503, 504], JSON.stringify(x)).toContain(x.status);
    expect(x.code).toBe(x.status === 503 ? 'DEVICE_UNAVAILABLE' : 'DEVICE_TIMEOUT');
  }
}

/**
 * Samples the probe tags of `connections` on `observer` until another node than `victim` runs every one of them
 * with GOOD values. A GOOD value is accepted only when the observer names a live owner other than the victim right
 * after reading it (a GOOD value while the victim still counts as owner, or in a gap, would be stale) — except
 * before `graceUntil`, the time the observer may need to notice a victim that could not tell it (cut off NATS);
 * a BAD value must be NOT_CONNECTED. Answers the number of BAD samples seen.
 */
async function watchTakeover(
  observer: ClusterNode,
  victim: ClusterNode,
  connections: string[],
  since: number,
  graceUntil = 0,
): Promise<number> {
  let bad = 0;
  const pending = new Set(connections);
  await waitUntil(
    async () => {
      for (const c of [...pending]) {
        const v = await call(observer, 'GET', `/tags/${probeTag(c)}/value`, { token });
        expect(v.status).toBe(200);
        const owner = (await ownersOn(observer, token))[c];
        // (Within the grace, the observer may also have noticed the gap between the two reads: owner none.)
        if (v.json.quality === 'GOOD' && (owner === victim.id || owner === undefined) && Date.now() < graceUntil) continue;
        if (v.json.quality === 'GOOD') {
          expect(owner, `GOOD ${probeTag(c)} on ${observer.id} while its owner is ${owner ?? 'none'}`).toBeDefined();
          expect(owner, `${JSON.stringify(v.json)} ${Date.now() - since} ms after the fault\n${observer.output().slice(-3000)}`).not.toBe(
            victim.id,
          );
          pending.delete(c);
        } else {
          bad++;
          expect(v.json.quality).toBe('BAD');
          expect(v.json.subStatus).toBe('NOT_CONNECTED');
        }
      }
      return pending.size === 0 || undefined;
    },
    `another node running ${connections.join(', ')} within ${FAILOVER_BOUND_MS} ms`,
    Math.max(1000, FAILOVER_BOUND_MS - (Date.now() - since)),
    50,
  );
  return bad;
}

/**
 * After a node comes back: it runs a connection again, handed over one at a time (no connection moves twice, none
 * moves back and forth).
 */
async function expectCalmRejoin(back: ClusterNode, observer: ClusterNode): Promise<number> {
  const moves = new Map<string, number>();
  let previous = await ownersOn(observer, token);
  const watch = async () => {
    const now = await ownersOn(observer, token);
    for (const c of Object.keys(now)) if (now[c] !== previous[c] && now[c] !== undefined) moves.set(c, (moves.get(c) ?? 0) + 1);
    previous = now;
    return Object.values(now).includes(back.id);
  };
  await waitUntil(async () => (await watch()) || undefined, `${back.id} running a connection again`, 6 * LEASE_MS + 5000, 100);
  // Two more lease periods: the hand-over goes on at most one connection at a time, and none moves twice.
  const until = Date.now() + 2 * LEASE_MS;
  while (Date.now() < until) {
    await watch();
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [c, n] of moves) expect(n, `${c} moved ${n} times`).toBe(1);
  return [...moves.values()].reduce((x, y) => x + y, 0);
}

beforeAll(async () => {
  ({ dir, nats, pgc, databaseUrl, projectFile, secretKey } = await startClusterEnvironment('tagway_faults', PROJECT));
  [pgProxy, natsProxy] = await Promise.all([startTcpProxy(pgc.port), startTcpProxy(nats.port)]);
  nodes.push(...(await Promise.all(['node-a', 'node-b', 'node-c'].map(launch))));
  token = await adminToken(nodes[2]!);
}, 90_000);

afterAll(async () => {
  for (const n of nodes) await stopNode(n);
  await pgProxy?.close();
  await natsProxy?.close();
  await nats?.stop();
  await pgc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a cluster node losing PostgreSQL, NATS, or its life', () => {
  it('a node cut off PostgreSQL fences itself, another node takes over, and it rejoins calmly', { timeout: 120_000 }, async () => {
    const [a, , c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    expect(pgProxy!.accepted).toBeGreaterThan(0);
    const owners = await settled(a, c);
    const mine = Object.keys(owners).filter((k) => owners[k] === a.id);
    const line = mine.find((k) => LINES.includes(k))!;
    const tag = `${line}.A`;
    const before = await auditOk(tag);
    const tokensBefore = Object.fromEntries((await leaseRows()).map((l) => [l.connection, Number(l.token)]));
    // Writes through node C to a connection node A runs, before, during and after the cut.
    const stream = writeStream(tag, () => c);
    await waitUntil(() => stream.result.acked.length >= 5 || undefined, 'writes acknowledged before the cut');

    pgProxy!.cut();
    const cutAt = Date.now();
    try {
      // Fenced: node A stops every driver before its leases can expire, and says so.
      await waitUntil(
        async () => metric(await metricsOf(a), 'tagway_cluster_owned_connections') === 0 || undefined,
        'node A giving up',
        2 * LEASE_MS,
      );
      const bad = await watchTakeover(c, a, mine, cutAt);
      const check = await waitUntil(async () => {
        const ch = await clusterCheck(a);
        return ch && !ch.ok ? ch : undefined;
      }, '/health of node A naming the lost database');
      expect(check.reason).toMatch(/PostgreSQL/);
      expect(metric(await metricsOf(a), 'tagway_cluster_healthy')).toBe(0);
      // The writes go on against the new owner.
      const ackedAtTakeover = stream.result.acked.length;
      await waitUntil(() => stream.result.acked.length >= ackedAtTakeover + 5 || undefined, 'writes acknowledged by the new owner');
      const r = await stream.stop();
      expectOnlyGapRefusals(r);
      // Every acknowledged write is in the final value (on every node that has the database) and audited once.
      expectFinal(await settledValue([nodes[1]!, c], tag), r);
      expect(await auditOk(tag)).toBe(before + r.acked.length);
      // The new owners hold fresh leases (higher fencing tokens); node A holds none.
      const after = await leaseRows();
      for (const l of after.filter((x) => mine.includes(x.connection))) {
        expect(l.holder).not.toBe(a.id);
        expect(Number(l.token)).toBeGreaterThan(tokensBefore[l.connection]!);
      }
      console.log(
        `PG loss of node A (ran ${mine.join(', ')}): ${bad} BAD samples in the gap; writes: ${r.acked.length} acknowledged, ` +
          `${r.refused.filter((x) => x.status === 503).length} × 503, ${r.refused.filter((x) => x.status === 504).length} × 504, ${r.unknown.length} unknown`,
      );
    } finally {
      await stream.stop();
      pgProxy!.restore();
    }
    await waitUntil(async () => (await clusterCheck(a))?.ok || undefined, 'node A healthy again', 4 * LEASE_MS);
    const moves = await expectCalmRejoin(a, c);
    console.log(`node A back on PostgreSQL: ${moves} connection(s) handed over to it, one at a time`);
  });

  // `reset`: B's socket to NATS drops (it notices at once); `blackhole`: packets vanish, the socket stays open, and
  // B notices only when its NATS pings go unanswered (2 s apart, two missed), the others when its heartbeats stop.
  for (const mode of ['reset', 'blackhole'] as const)
    it(`a node cut off NATS (${mode}) fences itself, frees its leases, applies no write, and rejoins calmly`, {
      timeout: 120_000,
    }, async () => {
      const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
      expect(natsProxy!.accepted).toBeGreaterThan(0);
      const owners = await settled(b, c);
      const mine = Object.keys(owners).filter((k) => owners[k] === b.id);
      const line = mine.find((k) => LINES.includes(k))!;
      const tag = `${line}.B`;
      const before = await auditOk(tag);
      const tokensBefore = Object.fromEntries((await leaseRows()).map((l) => [l.connection, Number(l.token)]));
      const stream = writeStream(tag, () => a);
      await waitUntil(() => stream.result.acked.length >= 5 || undefined, 'writes acknowledged before the partition');

      natsProxy!.cut(mode);
      const cutAt = Date.now();
      try {
        await waitUntil(
          async () => metric(await metricsOf(b), 'tagway_cluster_owned_connections') === 0 || undefined,
          'node B giving up',
          mode === 'reset' ? 2 * LEASE_MS : FAILOVER_BOUND_MS,
        );
        const check = await clusterCheck(b);
        expect(check?.ok).toBe(false);
        expect(check?.reason).toMatch(/NATS/);
        expect(metric(await metricsOf(b), 'tagway_cluster_healthy')).toBe(0);
        // A write taken by the partitioned node itself is refused there: it runs nothing and cannot reach the owner.
        const onB = await call(b, 'PUT', `/tags/${tag}/value`, { token, body: { value: -1 } });
        expect(onB.status, onB.text).toBe(503);
        expect(onB.json.code).toBe('DEVICE_UNAVAILABLE');
        // B cannot tell the others; they notice within three missed heartbeats, or at their next lease tick (B freed its
        // leases in PostgreSQL): a lease period is a generous bound for that.
        const bad = await watchTakeover(c, b, mine, cutAt, cutAt + LEASE_MS);
        const ackedAtTakeover = stream.result.acked.length;
        await waitUntil(() => stream.result.acked.length >= ackedAtTakeover + 5 || undefined, 'writes acknowledged by the new owner');
        // A second refused write on B, now that another node runs the connection: still refused, never applied.
        const onB2 = await call(b, 'PUT', `/tags/${tag}/value`, { token, body: { value: -2 } });
        expect(onB2.status, onB2.text).toBe(503);
        const r = await stream.stop();
        expectOnlyGapRefusals(r);
        expectFinal(await settledValue([a, c], tag), r);
        expect(await auditOk(tag)).toBe(before + r.acked.length);
        // No split brain: B's leases went to other nodes under higher fencing tokens, and the database never stored
        // B's refused values.
        for (const l of (await leaseRows()).filter((x) => mine.includes(x.connection))) {
          expect(l.holder).not.toBe(b.id);
          expect(Number(l.token)).toBeGreaterThan(tokensBefore[l.connection]!);
        }
        const stored = await query<{ value: string }>(`SELECT value FROM kv WHERE namespace = 'internal' AND key = $1`, [tag]);
        expect(stored).toHaveLength(1);
        expect([-1, -2]).not.toContain(JSON.parse(stored[0]!.value));
        console.log(
          `NATS partition (${mode}) of node B (ran ${mine.join(', ')}): ${bad} BAD samples in the gap; writes: ${r.acked.length} acknowledged, ` +
            `${r.refused.filter((x) => x.status === 503).length} × 503, ${r.refused.filter((x) => x.status === 504).length} × 504, ${r.unknown.length} unknown`,
        );
      } finally {
        await stream.stop();
        natsProxy!.restore();
      }
      await waitUntil(async () => (await clusterCheck(b))?.ok || undefined, 'node B healthy again', 4 * LEASE_MS);
      const moves = await expectCalmRejoin(b, c);
      console.log(`node B back on NATS (${mode}): ${moves} connection(s) handed over to it, one at a time`);
    });

  it('kill -9 of an owner under a stream of writes and reads over every node loses no acknowledged write', {
    timeout: 120_000,
  }, async () => {
    const observer = nodes[2]!;
    const owners = await settled(nodes[0]!, observer);
    const line = LINES.find((l) => owners[l] === nodes[0]!.id)!;
    const victim = nodes[0]!;
    const survivors = nodes.filter((n) => n !== victim);
    const tags = ['A', 'B', 'C'].map((x) => `${line}.${x}`);
    const before = await Promise.all(tags.map(auditOk));
    let dead = false;
    // Spread over the nodes as a balancer would; once the victim is dead, a balancer's health check drops it.
    const spread = (i: number) => (dead ? survivors[i % 2]! : nodes[i % 3]!);
    const streams = tags.map((t, k) => writeStream(t, (i) => spread(i + k)));
    const reads = { ok: 0, bad: 0, lost: 0, other: [] as Array<{ status: number; code?: string }> };
    let reading = true;
    const readers = [0, 1, 2, 3].map(async (k) => {
      for (let i = k; reading; i++) {
        try {
          const v = await call(spread(i), 'GET', `/tags/${tags[i % 3]}/value`, { token });
          if (v.status !== 200) reads.other.push({ status: v.status, code: v.json?.code });
          else if (v.json.quality === 'GOOD') reads.ok++;
          else {
            reads.bad++;
            expect(v.json.subStatus).toBe('NOT_CONNECTED');
          }
        } catch {
          reads.lost++;
          // A refused connection fails fast; pace the loop so that it never starves the event loop.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    try {
      await waitUntil(() => streams.every((s) => s.result.acked.length >= 10) || undefined, 'writes acknowledged before the kill');
      victim.proc.kill('SIGKILL');
      const killedAt = Date.now();
      dead = true;
      // As for a partition, the others notice a killed node by its silence (or its lease running out).
      await watchTakeover(observer, victim, [line], killedAt, killedAt + LEASE_MS);
      const acked = streams.map((s) => s.result.acked.length);
      await waitUntil(
        () => streams.every((s, k) => s.result.acked.length >= acked[k]! + 10) || undefined,
        'writes acknowledged after the takeover',
      );
    } finally {
      // Whatever failed above, the streams and readers end here (they would outlive the test otherwise).
      reading = false;
      await Promise.all(streams.map((st) => st.stop()));
      await Promise.allSettled(readers);
    }
    const results = await Promise.all(streams.map((s) => s.stop()));
    reading = false;
    await Promise.all(readers);
    for (const [k, r] of results.entries()) {
      expectOnlyGapRefusals(r);
      expectFinal(await settledValue(survivors, tags[k]!), r);
      // Every acknowledged write audited (a write lost with its node may have been audited before it died).
      const audited = (await auditOk(tags[k]!)) - before[k]!;
      expect(audited).toBeGreaterThanOrEqual(r.acked.length);
      expect(audited).toBeLessThanOrEqual(r.acked.length + r.unknown.length);
    }
    for (const x of reads.other) {
      expect([503, 504], JSON.stringify(x)).toContain(x.status);
      expect(x.code).toMatch(/^[A-Z_]+$/);
    }
    const refused = results.flatMap((r) => r.refused);
    console.log(
      `kill -9 under load: writes ${results.map((r) => r.acked.length).reduce((x, y) => x + y)} acknowledged, ` +
        `${refused.filter((x) => x.status === 503).length} × 503, ${refused.filter((x) => x.status === 504).length} × 504, ` +
        `${results.map((r) => r.unknown.length).reduce((x, y) => x + y)} unknown; reads ${reads.ok} GOOD, ${reads.bad} BAD NOT_CONNECTED, ` +
        `${reads.other.length} refused, ${reads.lost} lost with the killed node`,
    );
    // Back for the other tests' cleanup (and to show a killed node rejoins too).
    nodes[0] = await launch(victim.id);
    await victim.agent.close();
  });
});

describe('NATS with credentials', () => {
  it('nodes join with nats://user:password@…; a wrong password stops the start with a clear error; no password in logs', {
    timeout: 120_000,
  }, async () => {
    const password = `nats-${randomBytes(9).toString('hex')}`;
    const wrong = `wrong-${randomBytes(9).toString('hex')}`;
    const secured = await startTestNats({ auth: { user: 'tagway', password } });
    const url = await pgc!.createDatabase('tagway_nats_auth');
    const started: ClusterNode[] = [];
    try {
      const withCredentials = (pw: string) => `nats://tagway:${pw}@127.0.0.1:${secured.port}`;
      const opts = (id: string, pw: string) => ({
        id,
        databaseUrl: url,
        natsUrl: withCredentials(pw),
        projectFile,
        secretKey,
        leaseMs: LEASE_MS,
        dir,
        logLevel: 'debug',
      });
      const failure = await startNode(opts('auth-bad', wrong)).then(
        (n) => {
          started.push(n);
          throw new Error('a node with a wrong NATS password started');
        },
        (err: Error & { output?: string }) => err,
      );
      expect(failure.message).toMatch(/cannot reach NATS at nats:\/\/tagway:\*\*\*@127\.0\.0\.1/);
      expect(failure.message).toMatch(/authori[sz]ation/i);
      expect(failure.message).not.toContain(wrong);

      started.push(...(await Promise.all(['auth-x', 'auth-y'].map((id) => startNode(opts(id, password))))));
      const [x, y] = started as [ClusterNode, ClusterNode];
      const login = await call(x, 'POST', '/auth/login', { body: { username: 'admin', password: 'cluster-admin-password' } });
      expect(login.status).toBe(200);
      const t = login.json.token as string;
      // Traffic really crosses the secured NATS: a write on one node to a connection the other runs.
      const owners = await waitUntil(
        async () => {
          const o = (await call(x, 'GET', '/connections', { token: t })).json.items as Array<{ name: string; owner?: string }>;
          return LINES.some((l) => o.find((c) => c.name === l)?.owner === y.id) ? o : undefined;
        },
        'node auth-y running an internal connection',
        8 * LEASE_MS + 10_000,
      );
      const line = LINES.find((l) => owners.find((c) => c.name === l)?.owner === y.id)!;
      const w = await call(x, 'PUT', `/tags/${line}.C/value`, { token: t, body: { value: 7.5 } });
      expect(w.status, w.text).toBe(200);
      await waitUntil(
        async () => (await call(y, 'GET', `/tags/${line}.C/value`, { token: t })).json.value === 7.5 || undefined,
        'the value on y',
      );
      for (const n of started) {
        expect(n.output()).toMatch(/nats:\/\/tagway:\*\*\*@/);
        expect(n.output()).not.toContain(password);
      }
    } finally {
      for (const n of started) await stopNode(n);
      await secured.stop();
    }
  });
});
