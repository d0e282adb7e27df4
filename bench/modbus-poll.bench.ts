/**
 * Modbus TCP polling: 10,000 holding registers at a 1 s cycle against a modbus-serial ServerTCP in a child
 * process. Figures: tags polled per second, requests per cycle against the theoretical minimum
 * (ceil(10000/125) = 80), time to read one full cycle, driver CPU time per cycle, RSS.
 *
 *   npx tsx bench/modbus-poll.bench.ts [cycles=10] [tags=10000]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Quality } from '../src/domain/quality.js';
import type { DriverHost } from '../src/drivers/driver.js';
import { modbusTcp, type ModbusTcpDriver } from '../src/drivers/modbus-tcp/index.js';
import { systemClock } from '../src/domain/clock.js';
import type { TagDefinition } from '../src/domain/tag-definition.js';
import { TagEngine } from '../src/runtime/tag-engine.js';
import type { KeyValueRepository } from '../src/storage/key-value-repository.js';
import { percentile, report } from './lib/report.js';

const CYCLES = Number(process.argv[2] ?? 10);
const TAGS = Number(process.argv[3] ?? 10_000);
const CYCLE_MS = 1000;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const port = await freePort();
const child = fork(fileURLToPath(new URL('./lib/modbus-peer-process.ts', import.meta.url)), [String(port)], {
  execArgv: ['--import', 'tsx'],
});
const ask = <T>(cmd: string) =>
  new Promise<T>((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
// The driver's timers are unref'd (a server never waits on them); this keeps the benchmark alive meanwhile.
const keepAlive = setInterval(() => undefined, 1000);
await new Promise<void>((resolve) => child.once('message', () => resolve()));

const defs: TagDefinition[] = Array.from({ length: TAGS }, (_, i) => ({
  name: `HR${i}`,
  type: 'UInt16',
  address: `holding:${i}`,
  connection: 'bench',
  access: 'read',
}));
const engine = new TagEngine(defs, systemClock);
let updates = 0;
let cycleStart = 0;
const cycleDurations: number[] = [];
const host: DriverHost = {
  clock: systemClock,
  logger: pino({ level: 'silent' }),
  kv: undefined as unknown as KeyValueRepository,
  update: (i, v, q, ts) => {
    updates++;
    if (i === 0) cycleStart = performance.now();
    if (i === TAGS - 1 && cycleStart > 0) cycleDurations.push(performance.now() - cycleStart);
    engine.update(i, v, q, ts);
  },
  setQuality: (i, q, ts) => engine.setQuality(i, q, ts),
  state: () => undefined,
};
const driver = modbusTcp.create(
  { name: 'bench', driver: 'modbus-tcp', host: '127.0.0.1', port, pollMs: CYCLE_MS, timeoutMs: 2000 },
  engine.tags.map((t) => ({ index: t.index, def: t.def })),
  host,
) as ModbusTcpDriver;

await driver.start();
// Wait for the first full cycle, then measure whole cycles only.
while (!engine.tags.every((t) => t.quality === Quality.GOOD)) await new Promise((r) => setTimeout(r, 20));
const req0 = (await ask<{ requests: number }>('count')).requests;
const updates0 = updates;
const durations0 = cycleDurations.length;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, CYCLES * CYCLE_MS));
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const req1 = (await ask<{ requests: number }>('count')).requests;
const rss = process.memoryUsage().rss;
const stats = driver.stats();
await driver.stop();
child.send({ cmd: 'stop' });
clearInterval(keepAlive);

const cycles = (elapsed * 1000) / CYCLE_MS;
const minimum = Math.ceil(TAGS / 125);
const requestsPerCycle = (req1 - req0) / cycles;
const durations = cycleDurations.slice(durations0);
const cpuMsPerCycle = (cpu.user + cpu.system) / 1000 / cycles;
report('modbus-poll', [
  {
    name: 'tags polled per second',
    value: (updates - updates0) / elapsed,
    unit: 'tags/s',
    ratio: (updates - updates0) / elapsed / TAGS,
    baseline: `${TAGS} tags × 1 cycle/s`,
    target: `≥ ${TAGS}`,
  },
  {
    name: 'read requests per cycle (device side)',
    value: requestsPerCycle,
    unit: 'requests',
    ratio: requestsPerCycle / minimum,
    baseline: `theoretical minimum ceil(${TAGS}/125) = ${minimum}`,
    target: '1.000',
  },
  {
    name: 'planned requests per cycle',
    value: stats.requestsPerCycle,
    unit: 'requests',
    ratio: stats.requestsPerCycle / TAGS,
    baseline: `one request per tag = ${TAGS}`,
  },
  {
    name: 'full-cycle read time p50',
    value: percentile(durations, 50),
    unit: 'ms',
    ratio: percentile(durations, 50) / CYCLE_MS,
    baseline: `cycle ${CYCLE_MS} ms`,
  },
  {
    name: 'full-cycle read time p99',
    value: percentile(durations, 99),
    unit: 'ms',
    ratio: percentile(durations, 99) / CYCLE_MS,
    baseline: `cycle ${CYCLE_MS} ms`,
  },
  {
    name: 'driver CPU time per cycle',
    value: cpuMsPerCycle,
    unit: 'ms',
    ratio: cpuMsPerCycle / CYCLE_MS,
    baseline: `cycle ${CYCLE_MS} ms (share of one core)`,
  },
  { name: 'request round trip (last)', value: stats.rttMs ?? NaN, unit: 'ms' },
  { name: 'skipped cycles', value: stats.skippedCycles, unit: 'cycles' },
  { name: 'RSS (driver process)', value: rss / 1048576, unit: 'MiB' },
]);
