/**
 * Value changes per second received for 10,000 OPC UA monitored items.
 *
 * The server (node-opcua) runs in a CHILD process (bench/lib/opcua-bench-server.ts) and changes every variable
 * every TICK ms, so its CPU is not counted here. Two phases against the same server, each measured over the
 * same window after a warm-up:
 *   baseline  a bare node-opcua ClientSubscription + ClientMonitoredItemGroup counting 'changed' events;
 *   driver    Tagway's OpcUaDriver feeding a real TagEngine, counting the engine's change events.
 * Figures: changes/s, client CPU (% of one core, user+system, this process), client CPU µs per change (the
 * figure that does not depend on how fast the server can publish) and RSS at the end of the phase.
 * On a 2-core machine the node-opcua SERVER is the bottleneck (it delivers a fraction of the offered changes
 * while the client idles), so compare the per-change CPU rather than the rates.
 *
 * Run: npx tsx bench/opcua-monitored.bench.ts [items=10000] [tickMs=200] [seconds=8] [samplingMs=0]
 */
import { AttributeIds, ClientMonitoredItemGroup, OPCUACertificateManager, OPCUAClient, TimestampsToReturn } from 'node-opcua';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { OpcUaDriver } from '../src/drivers/opcua/driver.js';
import { systemClock } from '../src/domain/clock.js';
import { TagEngine } from '../src/runtime/tag-engine.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteKeyValueRepository } from '../src/storage/sqlite/sqlite-key-value-repository.js';
import { report, type Figure } from './lib/report.js';

const ITEMS = Number(process.argv[2] ?? 10_000);
const TICK_MS = Number(process.argv[3] ?? 200);
const SECONDS = Number(process.argv[4] ?? 8);
const WARMUP_MS = 3000;
const SAMPLING_MS = Number(process.argv[5] ?? 0); // 0: the server reports each change as it happens (no per-item sampling timer)
const PUBLISHING_MS = 100;
const here = dirname(fileURLToPath(import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startServer(port: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'lib/opcua-bench-server.ts'), String(port), String(ITEMS), String(TICK_MS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** Counts over a window after a warm-up: rate, CPU share of this process, RSS. */
async function measure(count: () => number): Promise<{ rate: number; cpu: number; usPerChange: number; rssMb: number }> {
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const c0 = count();
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const c1 = count();
  const u1 = process.cpuUsage(u0);
  const t1 = performance.now();
  const wallMs = t1 - t0;
  const cpuUs = u1.user + u1.system;
  return {
    rate: (c1 - c0) / (wallMs / 1000),
    cpu: (cpuUs / 1000 / wallMs) * 100,
    usPerChange: cpuUs / Math.max(1, c1 - c0),
    rssMb: process.memoryUsage().rss / 1e6,
  };
}

async function baseline(endpointUrl: string, pki: string) {
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 0 } });
  await client.connect(endpointUrl);
  const session = await client.createSession();
  const sub = await session.createSubscription2({
    requestedPublishingInterval: PUBLISHING_MS,
    requestedMaxKeepAliveCount: 10,
    requestedLifetimeCount: 100,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 1,
  });
  let n = 0;
  for (let start = 0; start < ITEMS; start += 1000) {
    const items = [];
    for (let i = start; i < Math.min(ITEMS, start + 1000); i++) items.push({ nodeId: `ns=1;s=V${i}`, attributeId: AttributeIds.Value });
    const group = ClientMonitoredItemGroup.create(
      sub,
      items,
      { samplingInterval: SAMPLING_MS, queueSize: 1, discardOldest: true },
      TimestampsToReturn.Both,
    );
    group.on('changed', () => {
      n++;
    });
  }
  const m = await measure(() => n);
  await session.close(true);
  await client.disconnect();
  await clientCertificateManager.dispose();
  return m;
}

async function driverPhase(endpointUrl: string, pki: string) {
  const defs = Array.from({ length: ITEMS }, (_, i) => ({
    name: `V${i}`,
    type: 'Float64' as const,
    connection: 'bench',
    address: `ns=1;s=V${i}`,
    access: 'read' as const,
  }));
  const engine = new TagEngine(defs, systemClock);
  const db = openDatabase(':memory:');
  let n = 0;
  engine.onChange(() => {
    n++;
  });
  const driver = new OpcUaDriver(
    {
      name: 'bench',
      driver: 'opcua',
      endpointUrl,
      pkiDir: pki,
      samplingIntervalMs: SAMPLING_MS,
      publishingIntervalMs: PUBLISHING_MS,
      acceptUnknownCertificate: true,
      timeoutMs: 20_000,
    },
    engine.tags.map((t) => ({ index: t.index, def: t.def })),
    {
      clock: systemClock,
      logger: pino({ level: 'warn' }),
      kv: new SqliteKeyValueRepository(db),
      update: (i, v, q, ts) => engine.update(i, v, q, ts),
      setQuality: (i, q, ts) => engine.setQuality(i, q, ts),
      state: () => undefined,
    },
  );
  await driver.start();
  const until = Date.now() + 30_000;
  while (!driver.isConnected && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (!driver.isConnected) throw new Error('driver did not connect');
  const m = await measure(() => n);
  await driver.stop();
  db.close();
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-client-'));
const port = await freePort();
const server = await startServer(port);
const endpointUrl = `opc.tcp://127.0.0.1:${port}`;
try {
  const offered = ITEMS * (1000 / TICK_MS);
  const base = await baseline(endpointUrl, join(dir, 'pki-baseline'));
  const drv = await driverPhase(endpointUrl, join(dir, 'pki-driver'));
  const figures: Figure[] = [
    { name: `offered changes/s (${ITEMS} items every ${TICK_MS} ms, server in a child process)`, value: offered, unit: '1/s' },
    { name: 'baseline: bare ClientSubscription notifications', value: Math.round(base.rate), unit: '1/s' },
    {
      name: 'driver → TagEngine changes',
      value: Math.round(drv.rate),
      unit: '1/s',
      ratio: drv.rate / base.rate,
      baseline: 'bare ClientSubscription',
    },
    { name: 'baseline client CPU', value: base.cpu, unit: '% of a core' },
    { name: 'driver client CPU', value: drv.cpu, unit: '% of a core', ratio: drv.cpu / base.cpu, baseline: 'bare ClientSubscription' },
    { name: 'baseline client CPU per change', value: base.usPerChange, unit: 'µs' },
    {
      name: 'driver client CPU per change',
      value: drv.usPerChange,
      unit: 'µs',
      ratio: drv.usPerChange / base.usPerChange,
      baseline: 'bare ClientSubscription',
    },
    { name: 'baseline RSS (end of phase)', value: base.rssMb, unit: 'MB' },
    { name: 'driver RSS (end of phase, after baseline)', value: drv.rssMb, unit: 'MB' },
  ];
  report('opcua-monitored', figures);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
