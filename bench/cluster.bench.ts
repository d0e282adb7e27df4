/**
 * The cluster (PostgreSQL + nats-server, both throw-away and local) against a single node on SQLite, same run.
 * Parts (BENCH_PARTS, comma-separated; all by default):
 * - propagation: the owner of a simulator connection changes N tags 10 times a second; the other node applies them
 *   from NATS. Measured from the owner's tag change to the same change on the other node (both nodes in this one
 *   process, so one clock; they also share one CPU thread, which makes the figures pessimistic). Baseline: the same
 *   change seen by a second listener on the owner itself. BENCH_RATES=10000,100000.
 * - reads: authenticated GET of one tag with wrk, on a single SQLite node, on one node of a 3-node cluster, and on
 *   all three nodes at once (one wrk per node, the same connections in total); every node is its own process and
 *   its CPU per request is read from /proc. Interleaved rounds, best kept.
 * - failover: kill -9 of the node running the simulator connection, 5 times (the node restarted in between):
 *   time from the kill to the first GOOD value of the new owner as another node answers it (default lease, 6 s).
 * - history: history ingest (values/s, historian-sized insertBatch flushes) of three nodes writing at once to the
 *   one PostgreSQL, and a 1-day 1 s → 1-minute average query on PostgreSQL, against the single node on SQLite.
 * Run: npm run bench -- cluster
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { defaultConfig } from '../src/config.js';
import { systemClock } from '../src/domain/clock.js';
import { insertSyntheticHistory } from './lib/synthetic-history.js';
import { startServer, type RunningServer } from '../src/main.js';
import { parseProject } from '../src/project/load.js';
import { Historian } from '../src/runtime/historian.js';
import { HistoryQueries } from '../src/runtime/history-query.js';
import { registerBuiltIns } from '../src/server/built-ins.js';
import { createLogger } from '../src/server/logger.js';
import type { Storage } from '../src/storage/open.js';
import { openPostgresStorage } from '../src/storage/postgres/open-postgres.js';
import { openSqliteStorage } from '../src/storage/sqlite/open-sqlite.js';
import { startTestNats, type TestNats } from '../test/helpers/nats.js';
import { startTestCluster, type TestCluster } from '../test/helpers/postgres.js';
import { waitUntil } from '../test/helpers/wait.js';
import { dayAverageQuery, insertDay } from './lib/day-average.js';
import { percentile, report, type Figure } from './lib/report.js';
import { ensureWrk, wrk, type WrkResult } from './lib/wrk.js';

const RATES = (process.env.BENCH_RATES ?? '10000,100000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const PARTS = (process.env.BENCH_PARTS ?? 'propagation,reads,failover,history').split(',');
const KILLS = Number(process.env.BENCH_KILLS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WRK_CONNECTIONS = 48;
const ADMIN_PASSWORD = 'bench-admin-password';

/** The project of the node processes: five internal connections and a simulator (six over three nodes). */
const NODE_PROJECT = [
  'name: Cluster bench',
  'connections:',
  ...[1, 2, 3, 4, 5].map((i) => `  - { name: line${i}, driver: internal }`),
  '  - { name: sim, driver: simulator }',
  'tags:',
  ...[1, 2, 3, 4, 5].map((i) => `  - { name: L${i}.Setpoint, type: Float64, connection: line${i}, initial: ${i} }`),
  '  - { name: Sim.Counter, type: UInt16, connection: sim, simulation: { kind: counter, cycleMs: 100, min: 0, max: 60000 } }',
].join('\n');

// --- child mode: one Tagway node in its own process (so that each has its own CPU and event loop) ---
if (process.env.BENCH_CLUSTER_NODE) {
  const o = JSON.parse(process.env.BENCH_CLUSTER_NODE) as {
    dataDir: string;
    project: string;
    databaseUrl?: string;
    clusterUrl?: string;
    nodeId?: string;
  };
  registerBuiltIns();
  const server = await startServer(
    {
      ...defaultConfig(),
      port: 0,
      host: '127.0.0.1',
      dataDir: o.dataDir,
      ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
      ...(o.clusterUrl ? { clusterUrl: o.clusterUrl, nodeId: o.nodeId } : {}),
      webDir: 'none',
      logLevel: 'silent',
      adminPassword: ADMIN_PASSWORD,
    },
    { project: parseProject(readFileSync(o.project, 'utf8'), 'bench.yaml'), print: () => undefined, logger: createLogger('silent') },
  );
  process.stdout.write(`READY ${server.port}\n`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else {
  await main();
}

interface NodeProc {
  id: string;
  proc: ChildProcess;
  base: string;
  agent: Agent;
}

function spawnNode(id: string, opts: { dataDir: string; project: string; databaseUrl?: string; clusterUrl?: string }): Promise<NodeProc> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/cluster.bench.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_CLUSTER_NODE: JSON.stringify({ ...opts, nodeId: id }) },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.once('exit', (code, signal) => reject(new Error(`node ${id} exited before it was ready (${code ?? signal})`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)\n/.exec(out);
      if (m) {
        proc.removeAllListeners('exit');
        // A benchmark client: the nodes' self-signed certificates are not checked (wrk does not check them either).
        resolve({ id, proc, base: `https://127.0.0.1:${m[1]}`, agent: new Agent({ connect: { rejectUnauthorized: false } }) });
      }
    });
  });
}

async function stopProc(n: NodeProc): Promise<void> {
  if (n.proc.exitCode === null && n.proc.signalCode === null) {
    const gone = new Promise((r) => n.proc.once('exit', r));
    n.proc.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGKILL');
  }
  await n.agent.close();
}

async function get(n: NodeProc, path: string, token?: string): Promise<any> {
  const r = await request(n.base + path, { dispatcher: n.agent, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : undefined };
}

async function login(n: NodeProc): Promise<string> {
  const r = await request(`${n.base}/auth/login`, {
    method: 'POST',
    dispatcher: n.agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const j = (await r.body.json()) as { token: string };
  if (r.statusCode !== 200) throw new Error(`login on ${n.id}: ${r.statusCode}`);
  return j.token;
}

function load(): string {
  return loadavg()[0]!.toFixed(2);
}

async function main(): Promise<void> {
  registerBuiltIns();
  process.env.TAGWAY_SECRET_KEY = randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-cluster-'));
  const [nats, pg] = await Promise.all([startTestNats(), startTestCluster({ durable: true })]);
  const figures: Figure[] = [];
  const started = performance.now();
  figures.push({ name: 'load average (1 min) at start', value: Number(load()), unit: '' });
  try {
    if (PARTS.includes('propagation')) await propagation(dir, nats, pg, figures);
    if (PARTS.includes('reads') || PARTS.includes('failover')) await processes(dir, nats, pg, figures);
    if (PARTS.includes('history')) await history(dir, pg, figures);
  } finally {
    await nats.stop();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  figures.push(
    { name: 'load average (1 min) at end', value: Number(load()), unit: '' },
    { name: 'whole run', value: (performance.now() - started) / 1000, unit: 's' },
  );
  report('cluster', figures);
}

async function propagation(dir: string, nats: TestNats, pg: TestCluster, figures: Figure[]): Promise<void> {
  for (const rate of RATES) {
    const tags = Math.max(1, Math.round(rate / 10));
    const yaml = [
      'name: Cluster bench',
      'connections:',
      '  - { name: sim, driver: simulator }',
      '  - { name: other, driver: internal }',
      'tags:',
      ...Array.from(
        { length: tags },
        (_, i) => `  - { name: S${i}, type: UInt32, connection: sim, simulation: { kind: counter, cycleMs: 100, min: 0, max: 100000000 } }`,
      ),
      '  - { name: O, type: Float64, connection: other }',
    ].join('\n');
    const url = await pg.createDatabase('bench_cluster');
    const nodes: RunningServer[] = [];
    for (const id of ['a', 'b']) {
      nodes.push(
        await startServer(
          {
            ...defaultConfig(),
            port: 0,
            host: '127.0.0.1',
            dataDir: join(dir, `${rate}-${id}`),
            databaseUrl: url,
            clusterUrl: nats.url,
            nodeId: `bench-${id}`,
            clusterLeaseMs: 3000,
            webDir: 'none',
            logLevel: 'silent',
            adminPassword: 'bench-admin-password',
          },
          { project: parseProject(yaml, 'bench.yaml'), print: () => undefined, logger: createLogger('silent') },
        ),
      );
    }
    const owner = await waitUntil(
      () => nodes.find((n) => n.runtime.connections.get('sim').owner === `bench-${n === nodes[0] ? 'a' : 'b'}`),
      'an owner for the simulator',
      30_000,
      50,
    );
    const other = nodes.find((n) => n !== owner)!;
    await waitUntil(() => other.runtime.tags.get('S0')!.quality === 0xc0 || undefined, 'values on the other node', 30_000, 50);
    const sent = new Map<string, number>();
    const local: number[] = [];
    const remote: number[] = [];
    let measuring = true;
    const offOwner = owner.runtime.tags.onChange((c) => {
      if (measuring && c.tag.def.connection === 'sim') sent.set(`${c.tag.index}:${c.tag.value}`, performance.now());
    });
    const offLocal = owner.runtime.tags.onChange((c) => {
      const t = sent.get(`${c.tag.index}:${c.tag.value}`);
      if (t !== undefined) local.push(performance.now() - t);
    });
    const offRemote = other.runtime.tags.onChange((c) => {
      const key = `${c.tag.index}:${c.tag.value}`;
      const t = sent.get(key);
      if (t !== undefined) {
        remote.push(performance.now() - t);
        sent.delete(key);
      }
    });
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    measuring = false;
    offOwner();
    offLocal();
    offRemote();
    const achieved = remote.length / SECONDS;
    figures.push(
      { name: `propagation p50 @ ${rate}/s target`, value: percentile(remote, 50), unit: 'ms', ratio: undefined },
      { name: `propagation p99 @ ${rate}/s target`, value: percentile(remote, 99), unit: 'ms' },
      {
        name: `changes received @ ${rate}/s target`,
        value: Math.round(achieved),
        unit: 'changes/s',
        ratio: achieved / rate,
        baseline: 'target rate',
      },
      { name: `changes not seen by the end @ ${rate}/s`, value: sent.size, unit: 'changes' },
      { name: `in-process listener p50 @ ${rate}/s (baseline)`, value: percentile(local, 50), unit: 'ms' },
    );
    for (const n of nodes.reverse()) await n.stop();
  }
}

/** wrk on several nodes at once (one wrk each, connections split): summed req/s, CPU per request over all nodes. */
async function wrkOn(targets: NodeProc[], token: string): Promise<{ rps: number; cpuUs: number; p99: number; errors: number }> {
  const results: WrkResult[] = await Promise.all(
    targets.map((n) =>
      wrk({
        url: `${n.base}/tags/L1.Setpoint/value`,
        headers: { authorization: `Bearer ${token}` },
        connections: Math.round(WRK_CONNECTIONS / targets.length),
        seconds: 5,
        pid: n.proc.pid,
      }),
    ),
  );
  const requests = results.reduce((x, r) => x + r.requests, 0);
  return {
    rps: results.reduce((x, r) => x + r.rps, 0),
    cpuUs: results.reduce((x, r) => x + r.cpuUsPerRequest * r.requests, 0) / Math.max(1, requests),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: results.reduce((x, r) => x + r.non2xx + r.errors, 0),
  };
}

/** Node processes: read throughput (single SQLite node, 1 of 3 cluster nodes, all 3) and failover times. */
async function processes(dir: string, nats: TestNats, pg: TestCluster, figures: Figure[]): Promise<void> {
  const project = join(dir, 'nodes.yaml');
  writeFileSync(project, NODE_PROJECT);
  const databaseUrl = await pg.createDatabase('bench_cluster_nodes');
  const cluster: NodeProc[] = [];
  let single: NodeProc | undefined;
  const clusterNode = (id: string) => spawnNode(id, { dataDir: join(dir, id), project, databaseUrl, clusterUrl: nats.url });
  try {
    cluster.push(...(await Promise.all(['bench-a', 'bench-b', 'bench-c'].map(clusterNode))));
    const token = await login(cluster[0]!);
    await waitUntil(
      async () => {
        const items = (await get(cluster[0]!, '/connections', token)).json.items as Array<{ owner?: string }>;
        return items.every((c) => c.owner !== undefined) || undefined;
      },
      'every connection owned',
      60_000,
      200,
    );

    if (PARTS.includes('reads')) {
      ensureWrk();
      single = await spawnNode('single', { dataDir: join(dir, 'single'), project });
      const singleToken = await login(single);
      type Run = Awaited<ReturnType<typeof wrkOn>>;
      const best: Record<'single' | 'one' | 'three', Run[]> = { single: [], one: [], three: [] };
      const loads: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        best.single.push(await wrkOn([single], singleToken));
        best.one.push(await wrkOn([cluster[0]!], token));
        best.three.push(await wrkOn(cluster, token));
        loads.push(load());
      }
      const top = (xs: Array<{ rps: number; cpuUs: number; p99: number; errors: number }>) => ({
        rps: Math.max(...xs.map((x) => x.rps)),
        cpuUs: Math.min(...xs.map((x) => x.cpuUs)),
        errors: xs.reduce((a, x) => a + x.errors, 0),
      });
      const s = top(best.single);
      const one = top(best.one);
      const three = top(best.three);
      const note = `load avg ${loads.join('/')}`;
      figures.push(
        { name: `GET one tag, single node SQLite (${note})`, value: Math.round(s.rps), unit: 'req/s' },
        { name: 'GET one tag, single node SQLite, server CPU', value: s.cpuUs, unit: 'µs/req' },
        {
          name: 'GET one tag, 1 node of a 3-node cluster',
          value: Math.round(one.rps),
          unit: 'req/s',
          ratio: one.rps / s.rps,
          baseline: 'single SQLite node',
        },
        {
          name: 'GET one tag, 1 node of 3, server CPU',
          value: one.cpuUs,
          unit: 'µs/req',
          ratio: one.cpuUs / s.cpuUs,
          baseline: 'single SQLite node',
        },
        {
          name: 'GET one tag, all 3 nodes at once (one wrk each)',
          value: Math.round(three.rps),
          unit: 'req/s',
          ratio: three.rps / s.rps,
          baseline: 'single SQLite node',
        },
        {
          name: 'GET one tag, 3 nodes, server CPU (all nodes)',
          value: three.cpuUs,
          unit: 'µs/req',
          ratio: three.cpuUs / s.cpuUs,
          baseline: 'single SQLite node',
        },
        { name: 'GET one tag, non-2xx or socket errors (all runs)', value: s.errors + one.errors + three.errors, unit: 'requests' },
      );
      await stopProc(single);
      single = undefined;
    }

    if (PARTS.includes('failover')) {
      const times: number[] = [];
      const gaps: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        // The node running the simulator dies; another node answers the first GOOD value its new owner produced.
        const ownerId = await waitUntil(
          async () => {
            const items = (await get(cluster[0]!, '/connections', token)).json.items as Array<{
              name: string;
              owner?: string;
            }>;
            const all = items.every((c) => c.owner !== undefined);
            return all ? items.find((c) => c.name === 'sim')!.owner : undefined;
          },
          'every connection owned before the kill',
          60_000,
          100,
        );
        const victim = cluster.find((n) => n.id === ownerId)!;
        const observer = cluster.find((n) => n !== victim)!;
        const before = await get(observer, '/tags/Sim.Counter/value', token);
        if (before.json.quality !== 'GOOD') throw new Error(`Sim.Counter not GOOD before kill ${k}`);
        const killedAt = Date.now();
        victim.proc.kill('SIGKILL');
        let sawBad = 0;
        await waitUntil(
          async () => {
            const v = (await get(observer, '/tags/Sim.Counter/value', token)).json;
            if (v.quality !== 'GOOD') sawBad = sawBad || Date.now() - killedAt;
            return (v.quality === 'GOOD' && Date.parse(v.timestamp) > killedAt) || undefined;
          },
          'a GOOD value from the new owner',
          30_000,
          10,
        );
        times.push(Date.now() - killedAt);
        gaps.push(sawBad);
        await victim.agent.close();
        cluster[cluster.indexOf(victim)] = await clusterNode(victim.id);
      }
      figures.push(
        {
          name: `failover, kill -9 → first GOOD of the new owner seen on another node (median of ${KILLS}; lease 6 s)`,
          value: percentile(times, 50),
          unit: 'ms',
          target: '≤ 10,000 ms',
        },
        { name: 'failover, slowest of the kills', value: Math.max(...times), unit: 'ms' },
        { name: 'failover, kill -9 → BAD NOT_CONNECTED seen on another node (median)', value: percentile(gaps, 50), unit: 'ms' },
        { name: `failover load average (1 min) after the kills`, value: Number(load()), unit: '' },
      );
      console.log(`failover times (ms): ${times.join(', ')}; BAD seen after (ms): ${gaps.join(', ')}`);
    }
  } finally {
    if (single) await stopProc(single);
    for (const n of cluster) await stopProc(n);
  }
}

/**
 * History on the cluster's PostgreSQL: three nodes (three storages, three pools) ingest at once, as three owners
 * log their connections' history; the single node ingests alone into SQLite. Then a day of 1 s samples → 1-minute
 * averages, through HistoryQueries as the API runs it. Both durable (SQLite FULL, PostgreSQL fsync on).
 */
async function history(dir: string, pg: TestCluster, figures: Figure[]): Promise<void> {
  const VALUES = Number(process.env.BENCH_VALUES ?? 300_000);
  const BATCH = 50_000;
  const TAGS = 1000;
  const T0 = Date.UTC(2026, 0, 1);
  const DAY_FROM = Date.UTC(2026, 0, 5);
  const url = await pg.createDatabase('bench_cluster_history');
  const pgNodes = await Promise.all([0, 1, 2].map((i) => openPostgresStorage({ databaseUrl: url, dataDir: join(dir, `pg-${i}`) })));
  const lite = openSqliteStorage({ dataDir: join(dir, 'lite'), sqliteSynchronous: 'FULL' });
  try {
    // Tag ids first (a node resolves them once at start), outside the timed part.
    const idsOf = async (s: Storage, offset: number): Promise<number[]> => {
      const ids: number[] = [];
      for (let i = 0; i < TAGS; i++) ids.push(await s.history.tagId(`Plant.Node${offset}.Tag${i}`));
      return ids;
    };
    const liteIds = await idsOf(lite, 0);
    const pgIds = await Promise.all(pgNodes.map((s, i) => idsOf(s, i)));
    const ingest = (s: Storage, share: number, ids: number[]): Promise<void> => insertSyntheticHistory(s, ids, share, BATCH, T0);
    let t0 = performance.now();
    await ingest(lite, VALUES, liteIds);
    const liteRate = VALUES / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await Promise.all(pgNodes.map((s, i) => ingest(s, Math.round(VALUES / 3), pgIds[i]!)));
    const pgRate = (3 * Math.round(VALUES / 3)) / ((performance.now() - t0) / 1000);
    const loadIngest = load();

    const { def, engine, tag, q } = dayAverageQuery(DAY_FROM);
    const dayAvg: Record<string, number[]> = { SQLite: [], PostgreSQL: [] };
    const backends: Array<[string, Storage]> = [
      ['SQLite', lite],
      ['PostgreSQL', pgNodes[0]!],
    ];
    for (const [, s] of backends) await insertDay(s, def, DAY_FROM);
    // Interleaved: one query on each backend per round, the median kept.
    const queries = backends.map(
      ([name, s]) => [name, new HistoryQueries(engine, s.history, new Historian(engine, s.history, systemClock), systemClock)] as const,
    );
    for (let round = 0; round < 8; round++)
      for (const [name, hq] of queries) {
        const t = performance.now();
        const r = await hq.query(tag, q);
        if (r.items.length !== 1440) throw new Error(`${name}: ${r.items.length} buckets`);
        if (round > 0) dayAvg[name]!.push(performance.now() - t);
      }
    const L = percentile(dayAvg.SQLite!, 50);
    const P = percentile(dayAvg.PostgreSQL!, 50);
    figures.push(
      { name: `history ingest, single node SQLite (load avg ${loadIngest})`, value: Math.round(liteRate), unit: 'values/s' },
      {
        name: 'history ingest, 3 cluster nodes at once into one PostgreSQL',
        value: Math.round(pgRate),
        unit: 'values/s',
        ratio: pgRate / liteRate,
        baseline: 'single SQLite node',
      },
      { name: '1 day 1 s → 1 min avg, single node SQLite (p50)', value: L, unit: 'ms' },
      { name: '1 day 1 s → 1 min avg, cluster PostgreSQL (p50)', value: P, unit: 'ms', ratio: P / L, baseline: 'single SQLite node' },
    );
  } finally {
    for (const s of pgNodes) await s.close();
    await lite.close();
  }
}
