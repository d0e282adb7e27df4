/**
 * Northbound MQTT publisher throughput: tag changes per second published to a local Debian mosquitto (JSON topics) at
 * QoS 0 and QoS 1, from the tag engine's change to the broker's acknowledgement (QoS 1) or the socket write (QoS 0),
 * against a bare mqtt.js loop publishing the same number of equally sized messages to the same broker. Also the
 * process CPU time per message of both.
 *
 *   npx tsx bench/northbound-mqtt.bench.ts [changes=50000] [tags=1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { systemClock } from '../src/domain/clock.js';
import { Quality } from '../src/domain/quality.js';
import type { TagDefinition } from '../src/domain/tag-definition.js';
import { createMqttPublisher, readMqttPublisherSettings } from '../src/northbound/mqtt/index.js';
import { TagEngine } from '../src/runtime/tag-engine.js';
import { startMosquitto } from '../test/integration/drivers/mqtt-peers.js';
import { report, type Figure } from './lib/report.js';

const CHANGES = Number(process.argv[2] ?? 50_000);
const TAGS = Number(process.argv[3] ?? 1_000);
const CHUNK = 500;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-mqtt-'));
const port = await freePort();
const broker = await startMosquitto(port, dir);
const url = `mqtt://127.0.0.1:${port}`;
const tick = () => new Promise<void>((r) => setImmediate(r));

/** Tagway: changes made in the tag engine, CHUNK per event-loop turn; done when CHANGES were published. */
async function tagway(qos: 0 | 1): Promise<{ perSecond: number; cpuUs: number; payloadBytes: number }> {
  const defs: TagDefinition[] = Array.from({ length: TAGS }, (_, i) => ({
    name: `Bench.Line${i % 10}.Tag${i}`,
    type: 'Float64',
    connection: 'bench',
    access: 'read',
  }));
  const engine = new TagEngine(defs, systemClock);
  const { settings, problems } = readMqttPublisherSettings({ url, topicPrefix: 'bench', retain: false, qos, queueSize: 1_000_000 });
  if (problems.length) throw new Error(JSON.stringify(problems));
  const publisher = createMqttPublisher({
    settings,
    engine,
    tags: { write: () => Promise.reject(new Error('no writes in the bench')) },
    principalFor: () => undefined,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
  });
  publisher.start();
  while (!publisher.connection.isConnected) await new Promise((r) => setTimeout(r, 10));
  // The snapshot of every tag at connect is not part of the figure.
  while (publisher.connection.stats().published < TAGS + 1) await new Promise((r) => setTimeout(r, 10));
  const base = publisher.connection.stats().published;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let n = 0; n < CHANGES; ) {
    for (let k = 0; k < CHUNK && n < CHANGES; k++, n++) engine.update(n % TAGS, n + 0.5, Quality.GOOD);
    await tick();
  }
  while (publisher.connection.stats().published - base < CHANGES) await tick();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const payloadBytes = Buffer.byteLength(`{"value":12345.5,"quality":"GOOD","qualityCode":192,"timestamp":"${new Date().toISOString()}"}`);
  if (publisher.connection.stats().dropped > 0) throw new Error('the queue dropped messages: raise queueSize');
  await publisher.stop();
  return { perSecond: CHANGES / seconds, cpuUs: ((cpu.user + cpu.system) / CHANGES) * 1, payloadBytes };
}

/** Bare mqtt.js: the same number of messages of the same size to as many topics, CHUNK per turn. */
async function bare(qos: 0 | 1, payloadBytes: number): Promise<{ perSecond: number; cpuUs: number }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const topics = Array.from({ length: TAGS }, (_, i) => `bare/Bench/Line${i % 10}/Tag${i}`);
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let n = 0; n < CHANGES; ) {
    for (let k = 0; k < CHUNK && n < CHANGES; k++, n++)
      client.publish(topics[n % TAGS]!, payload, { qos }, () => {
        done++;
      });
    await tick();
  }
  while (done < CHANGES) await tick();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await client.endAsync();
  return { perSecond: CHANGES / seconds, cpuUs: (cpu.user + cpu.system) / CHANGES };
}

const figures: Figure[] = [];
try {
  for (const qos of [0, 1] as const) {
    const t = await tagway(qos);
    const b = await bare(qos, t.payloadBytes);
    figures.push(
      {
        name: `changes published per second, QoS ${qos}`,
        value: t.perSecond,
        unit: '1/s',
        ratio: t.perSecond / b.perSecond,
        baseline: 'bare mqtt.js loop',
      },
      { name: `bare mqtt.js publishes per second, QoS ${qos}`, value: b.perSecond, unit: '1/s' },
      { name: `process CPU per change, QoS ${qos}`, value: t.cpuUs, unit: 'µs', ratio: t.cpuUs / b.cpuUs, baseline: 'bare mqtt.js loop' },
    );
  }
  report('northbound-mqtt', figures);
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
