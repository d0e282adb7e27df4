/**
 * Tagway's OPC UA server (northbound.opcua) against a bare node-opcua server, 10,000 monitored items that change
 * once a second.
 *
 * Each server runs in a CHILD process (bench/lib/opcua-northbound-bench-server.ts) and reports its own CPU, so the
 * client measuring here does not count. Phases, one after the other against the same client code:
 *   bare    node-opcua server, values set with setValueFromSource on a timer;
 *   tagway  a whole Tagway, values entering through TagEngine.update (as from a driver) and reaching the nodes
 *           through the northbound server's change listener.
 * The client: one session, one subscription (publishing 100 ms), N monitored items with sampling interval 0
 * (each change reported as it happens), queue 1. Figures over the same window after a warm-up: server CPU per
 * change (µs, user+system of the server process / changes it made), notifications received per second, and the
 * delivery latency (receive time − the value's SourceTimestamp, set by the server when the value changed) p50/p99.
 * Both servers offer SecurityPolicy None with anonymous sessions: the comparison is of the servers, not of the
 * encryption.
 *
 * Run: npm run bench -- northbound-opcua   (npx tsx bench/northbound-opcua.bench.ts [items=10000] [tickMs=1000] [seconds=8])
 */
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  OPCUACertificateManager,
  OPCUAClient,
  TimestampsToReturn,
  type DataValue,
} from 'node-opcua';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile, report, type Figure } from './lib/report.js';

const ITEMS = Number(process.argv[2] ?? 10_000);
const TICK_MS = Number(process.argv[3] ?? 1000);
const SECONDS = Number(process.argv[4] ?? 8);
const WARMUP_MS = 3000;
const PUBLISHING_MS = 100;
const here = dirname(fileURLToPath(import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Child {
  mark(): Promise<{ cpuUs: number; changes: number }>;
  stop(): Promise<void>;
}

async function startChild(mode: 'bare' | 'tagway', port: number): Promise<Child> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'lib/opcua-northbound-bench-server.ts'), mode, String(port), String(ITEMS), String(TICK_MS)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(l: string) => void> = [];
  // node-opcua writes its warnings to stdout too: only our two kinds of line are answers.
  lines.on('line', (l) => {
    if (l.startsWith('READY') || l.startsWith('CPU ')) waiting.shift()?.(l);
  });
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  const ready = await Promise.race([
    next(),
    new Promise<string>((_, reject) => child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))),
  ]);
  if (!ready.includes('READY')) throw new Error(`${mode} server said ${ready}`);
  return {
    async mark() {
      const answer = next();
      child.stdin!.write('MARK\n');
      const [, cpu, changes] = (await answer).split(' ');
      return { cpuUs: Number(cpu), changes: Number(changes) };
    },
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

interface Phase {
  usPerChange: number;
  serverCpu: number;
  rate: number;
  p50: number;
  p99: number;
}

async function phase(mode: 'bare' | 'tagway', pki: string): Promise<Phase> {
  const port = await freePort();
  const server = await startChild(mode, port);
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 0 } });
  try {
    await client.connect(`opc.tcp://127.0.0.1:${port}`);
    const session = await client.createSession();
    const sub = await session.createSubscription2({
      requestedPublishingInterval: PUBLISHING_MS,
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 100,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    let received = 0;
    let recording = false;
    const latencies: number[] = [];
    for (let start = 0; start < ITEMS; start += 1000) {
      const items = [];
      for (let i = start; i < Math.min(ITEMS, start + 1000); i++) items.push({ nodeId: `ns=1;s=V${i}`, attributeId: AttributeIds.Value });
      const group = ClientMonitoredItemGroup.create(
        sub,
        items,
        { samplingInterval: 0, queueSize: 1, discardOldest: true },
        TimestampsToReturn.Both,
      );
      group.on('changed', (_item: unknown, dv: DataValue) => {
        received++;
        if (recording && dv.sourceTimestamp) latencies.push(Date.now() - dv.sourceTimestamp.getTime());
      });
    }
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const m0 = await server.mark();
    const r0 = received;
    const t0 = performance.now();
    recording = true;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    recording = false;
    const m1 = await server.mark();
    const wallMs = performance.now() - t0;
    const cpuUs = m1.cpuUs - m0.cpuUs;
    await session.close(true);
    return {
      usPerChange: cpuUs / Math.max(1, m1.changes - m0.changes),
      serverCpu: (cpuUs / 1000 / wallMs) * 100,
      rate: (received - r0) / (wallMs / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    };
  } finally {
    await client.disconnect().catch(() => undefined);
    await clientCertificateManager.dispose();
    await server.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-nb-client-'));
try {
  const bare = await phase('bare', join(dir, 'pki'));
  const tagway = await phase('tagway', join(dir, 'pki'));
  const vs = (a: number, b: number) => ({ ratio: a / b, baseline: 'bare node-opcua server' });
  const figures: Figure[] = [
    { name: `offered changes/s (${ITEMS} items every ${TICK_MS} ms)`, value: ITEMS * (1000 / TICK_MS), unit: '1/s' },
    { name: 'bare: server CPU per change', value: bare.usPerChange, unit: 'µs' },
    { name: 'tagway: server CPU per change', value: tagway.usPerChange, unit: 'µs', ...vs(tagway.usPerChange, bare.usPerChange) },
    { name: 'bare: server CPU', value: bare.serverCpu, unit: '% of a core' },
    { name: 'tagway: server CPU', value: tagway.serverCpu, unit: '% of a core', ...vs(tagway.serverCpu, bare.serverCpu) },
    { name: 'bare: notifications received', value: Math.round(bare.rate), unit: '1/s' },
    { name: 'tagway: notifications received', value: Math.round(tagway.rate), unit: '1/s', ...vs(tagway.rate, bare.rate) },
    { name: 'bare: delivery latency p50', value: bare.p50, unit: 'ms' },
    { name: 'tagway: delivery latency p50', value: tagway.p50, unit: 'ms', ...vs(tagway.p50, bare.p50) },
    { name: 'bare: delivery latency p99', value: bare.p99, unit: 'ms' },
    { name: 'tagway: delivery latency p99', value: tagway.p99, unit: 'ms', ...vs(tagway.p99, bare.p99) },
  ];
  report('northbound-opcua', figures);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
