import mqttjs, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Quality } from '../../../src/domain/quality.js';
import type { TagType, TagValue } from '../../../src/domain/tag-types.js';
import { mqtt, type MqttDriver } from '../../../src/drivers/mqtt/index.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { startAedes, startMosquitto, type Broker, type Mosquitto } from './mqtt-peers.js';
import { def, freePort, harness, silentServer, tempDir, waitFor, type Harness } from './support.js';

const FAST = { timeoutMs: 1500, reconnectMinMs: 50, reconnectMaxMs: 300 };

/** Topic suffix, tag type, payload published, value expected. */
const PLAIN: Array<[string, TagType, string, TagValue]> = [
  ['bool', 'Bool', 'true', true],
  ['bool1', 'Bool', '0', false],
  ['int8', 'Int8', '-128', -128],
  ['uint8', 'UInt8', '255', 255],
  ['int16', 'Int16', '-32768', -32768],
  ['uint16', 'UInt16', '65535', 65535],
  ['int32', 'Int32', '2147483647', 2147483647],
  ['uint32', 'UInt32', '4294967295', 4294967295],
  ['int64', 'Int64', '-9223372036854775808', '-9223372036854775808'],
  ['uint64', 'UInt64', '18446744073709551615', '18446744073709551615'],
  ['float32', 'Float32', '1.5e3', 1500],
  ['float64', 'Float64', '-0.125', -0.125],
  ['string', 'String', 'Grüße ✓', 'Grüße ✓'],
  ['datetime', 'DateTime', '2026-11-25T05:00:00+01:00', '2026-11-25T04:00:00.000Z'],
];

function defs(conn: string, prefix: string): TagDefinition[] {
  return [
    ...PLAIN.map(([t, type]) => def(`${conn}.${t}`, type, conn, `${prefix}/${t}`)),
    def(`${conn}.json.speed`, 'Float64', conn, `${prefix}/json`, { options: { jsonPointer: '/data/speed' } }),
    def(`${conn}.json.count`, 'UInt64', conn, `${prefix}/json`, { options: { jsonPointer: '/data/count' } }),
    def(`${conn}.json.flag`, 'Bool', conn, `${prefix}/json`, { options: { jsonPointer: '/flags/0' } }),
    def(`${conn}.cmd`, 'Int16', conn, `${prefix}/state`, { options: { writeTopic: `${prefix}/cmd`, qos: 2 } }),
    def(`${conn}.q0`, 'String', conn, `${prefix}/q0`, { options: { qos: 0, retain: true } }),
    def(`${conn}.wildcard`, 'String', conn, `${prefix}/#`),
  ];
}

async function connectClient(url: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
  const c = mqttjs.connect(url, { protocolVersion, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

function received(client: MqttClient): Map<string, { payload: string; retain: boolean; qos: number }> {
  const got = new Map<string, { payload: string; retain: boolean; qos: number }>();
  client.on('message', (topic, payload, packet) => got.set(topic, { payload: payload.toString(), retain: packet.retain, qos: packet.qos }));
  return got;
}

describe('mqtt driver against aedes (MQTT 3.1.1)', () => {
  let port: number;
  let broker: Broker;
  let h: Harness;
  let driver: MqttDriver;
  let pub: MqttClient;
  const tag = (name: string) => h.engine.require(name);

  // aedes hook: publishes to this topic are never acknowledged, the "peer that does not answer in time".
  const HANG_TOPIC = 'p/hang';
  const startBroker = () =>
    startAedes(port, {
      authenticate: (_c, user, pw, done) => done(null, user === undefined || (user === 'tagway' && pw?.toString() === 'pw')),
      authorizePublish: (_c, packet, cb) => {
        if (packet.topic !== HANG_TOPIC) cb(null);
      },
    });

  beforeAll(async () => {
    port = await freePort();
    broker = await startBroker();
    pub = await connectClient(`mqtt://127.0.0.1:${port}`);
    h = harness([...defs('m', 'p'), def('m.hang', 'Int32', 'm', HANG_TOPIC)]);
    driver = mqtt.create(
      { name: 'm', driver: 'mqtt', url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, ...FAST },
      h.tags,
      h.host,
    ) as MqttDriver;
    h.engine.bindDriver('m', driver);
    await driver.start();
    await waitFor(() => h.lastState() === 'CONNECTED', 'connected');
  });

  afterAll(async () => {
    await driver?.stop();
    await pub?.endAsync();
    await broker?.stop();
    h?.close();
  });

  it('refuses a wildcard topic and malformed options', () => {
    expect(tag('m.wildcard').quality).toBe(Quality.BAD_CONFIGURATION_ERROR);
    expect(mqtt.validateTag!({ type: 'Int16', address: 'a/+/b' })).toMatch(/wildcard/);
    expect(mqtt.validateTag!({ type: 'Int16', address: 'a', options: { jsonPointer: 'x', qos: 3 } })).toMatch(
      /jsonPointer.*qos|qos.*jsonPointer/,
    );
    expect(mqtt.validateConnection!({ name: 'x', driver: 'mqtt', url: 'http://x', protocolVersion: 3 }).map(([k]) => k)).toEqual([
      '/url',
      '/protocolVersion',
    ]);
  });

  it('reads plain payloads of every type and values inside JSON', async () => {
    for (const [t, , payload] of PLAIN) await pub.publishAsync(`p/${t}`, payload, { qos: 1 });
    await pub.publishAsync('p/json', JSON.stringify({ data: { speed: 12.5, count: '18446744073709551615' }, flags: [true] }), { qos: 1 });
    for (const [t, , , expected] of PLAIN) {
      const s = await waitFor(() => {
        const x = tag(`m.${t}`);
        return x.quality === Quality.GOOD && x;
      }, `m.${t} GOOD`);
      expect(s.value, t).toEqual(expected);
    }
    await waitFor(() => tag('m.json.speed').value === 12.5, 'json speed');
    await waitFor(() => tag('m.json.count').value === '18446744073709551615', 'json count');
    await waitFor(() => tag('m.json.flag').value === true, 'json flag');
    expect(driver.stats().reads).toBeGreaterThanOrEqual(PLAIN.length + 3);
  });

  it('keeps the last value with BAD CONFIGURATION_ERROR when a payload does not fit', async () => {
    await pub.publishAsync('p/int16', '40000', { qos: 1 }); // out of range
    await waitFor(() => tag('m.int16').quality === Quality.BAD_CONFIGURATION_ERROR, 'int16 BAD');
    expect(tag('m.int16').value).toBe(-32768);
    for (const bad of [' 12', '12.0', '+1', '0x10', '']) {
      await pub.publishAsync('p/int16', '7', { qos: 1 });
      await waitFor(() => tag('m.int16').value === 7 && tag('m.int16').quality === Quality.GOOD, 'int16 good');
      await pub.publishAsync('p/int16', bad, { qos: 1 });
      await waitFor(() => tag('m.int16').quality === Quality.BAD_CONFIGURATION_ERROR, `int16 refuses ${JSON.stringify(bad)}`);
      expect(tag('m.int16').value).toBe(7);
    }
    await pub.publishAsync('p/json', '{"data":{}}', { qos: 1 }); // the pointer designates nothing
    await waitFor(() => tag('m.json.speed').quality === Quality.BAD_CONFIGURATION_ERROR, 'json missing');
    expect(tag('m.json.speed').value).toBe(12.5);
  });

  it("publishes writes (QoS, retain, writeTopic, JSON pointer) and resolves on the broker's acknowledgement", async () => {
    const sub = await connectClient(`mqtt://127.0.0.1:${port}`);
    try {
      const got = received(sub);
      await sub.subscribeAsync(['p/#'], { qos: 2 });
      await h.engine.write(tag('m.int64'), '-9007199254740993');
      await h.engine.write(tag('m.float64'), 2.75);
      await h.engine.write(tag('m.bool'), false);
      await h.engine.write(tag('m.datetime'), '2030-01-01T00:00:00.000Z');
      await h.engine.write(tag('m.json.speed'), 99.5);
      await h.engine.write(tag('m.cmd'), -3);
      await h.engine.write(tag('m.q0'), 'retained');
      await waitFor(() => got.size >= 7 && got, 'all writes seen by a subscriber');
      expect(got.get('p/int64')?.payload).toBe('-9007199254740993');
      expect(got.get('p/float64')?.payload).toBe('2.75');
      expect(got.get('p/bool')?.payload).toBe('false');
      expect(got.get('p/datetime')?.payload).toBe('2030-01-01T00:00:00.000Z');
      expect(JSON.parse(got.get('p/json')!.payload)).toEqual({ data: { speed: 99.5 } });
      expect(got.get('p/cmd')).toMatchObject({ payload: '-3', qos: 2 });
      expect(got.has('p/state')).toBe(false);
      expect(tag('m.cmd').value).toBe(-3);
      // Retained: a client subscribing later still gets it.
      const late = await connectClient(`mqtt://127.0.0.1:${port}`);
      const lateGot = received(late);
      await late.subscribeAsync('p/q0');
      await waitFor(() => lateGot.get('p/q0'), 'retained message');
      expect(lateGot.get('p/q0')).toMatchObject({ payload: 'retained', retain: true });
      await late.endAsync();
      // The driver reads its own publication back: the round trip holds.
      await waitFor(() => tag('m.int64').value === '-9007199254740993' && tag('m.int64').quality === Quality.GOOD, 'read back');
      expect(driver.stats().writes).toBe(7);
    } finally {
      await sub.endAsync();
    }
  });

  it('answers DEVICE_TIMEOUT when the broker never acknowledges a publish', async () => {
    await expect(h.engine.write(tag('m.hang'), 1)).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    expect(h.lastState()).toBe('CONNECTED');
  });

  it('reports wrong credentials as ERROR and connects with the right ones', async () => {
    const clientsBefore = broker.aedes.connectedClients;
    const wrong = harness(defs('w', 'p'));
    const dw = mqtt.create(
      { name: 'w', driver: 'mqtt', url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, username: 'tagway', password: 'nope', ...FAST },
      wrong.tags,
      wrong.host,
    );
    const right = harness(defs('r', 'p'));
    const dr = mqtt.create(
      { name: 'r', driver: 'mqtt', url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, username: 'tagway', password: 'pw', ...FAST },
      right.tags,
      right.host,
    );
    try {
      await dw.start();
      await dr.start();
      const err = await waitFor(() => wrong.states.find((s) => s.state === 'ERROR'), 'ERROR');
      expect(err.error).toMatch(/Bad username or password|Not authorized/i);
      expect(wrong.engine.require('w.int8').quality).toBe(Quality.BAD_NOT_CONNECTED);
      await waitFor(() => right.lastState() === 'CONNECTED', 'right credentials');
      expect(broker.aedes.connectedClients).toBe(clientsBefore + 1);
    } finally {
      await dw.stop();
      await dr.stop();
      wrong.close();
      right.close();
    }
    // stop() leaves no connection behind.
    await waitFor(() => broker.aedes.connectedClients === clientsBefore, 'clients back to before');
  });

  it('does not hang on a peer that accepts TCP and never answers', async () => {
    const silent = await silentServer();
    const s = harness(defs('s', 'p'));
    const d = mqtt.create({ name: 's', driver: 'mqtt', url: `mqtt://127.0.0.1:${silent.port}`, ...FAST, timeoutMs: 300 }, s.tags, s.host);
    s.engine.bindDriver('s', d);
    try {
      await d.start();
      expect(s.lastState()).toBe('CONNECTING');
      await expect(s.engine.write(s.engine.require('s.int8'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
      await waitFor(() => s.states.find((x) => x.state === 'ERROR'), 'ERROR');
      expect(s.engine.require('s.int8').quality).toBe(Quality.BAD_NOT_CONNECTED);
    } finally {
      await d.stop();
      s.close();
      await silent.close();
    }
  });

  it('goes BAD when the broker stops and GOOD again when it restarts on the same port', async () => {
    await pub.endAsync();
    await broker.stop();
    await waitFor(() => tag('m.float64').quality === Quality.BAD_NOT_CONNECTED, 'BAD NOT_CONNECTED');
    for (const [t] of PLAIN) expect(tag(`m.${t}`).quality, t).toBe(Quality.BAD_NOT_CONNECTED);
    await expect(h.engine.write(tag('m.float64'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });

    broker = await startBroker();
    await waitFor(() => h.lastState() === 'CONNECTED', 'reconnected');
    // Nothing retained survived the in-memory broker: the last value is usable, not good.
    expect(tag('m.float64').quality).toBe(Quality.UNCERTAIN_LAST_USABLE_VALUE);
    pub = await connectClient(`mqtt://127.0.0.1:${port}`);
    await pub.publishAsync('p/float64', '6.5', { qos: 1 });
    await waitFor(() => tag('m.float64').value === 6.5 && tag('m.float64').quality === Quality.GOOD, 'GOOD again');
  });
});

describe('mqtt driver against mosquitto (MQTT 5)', () => {
  const dir = tempDir('tagway-mosq-');
  let mosq: Mosquitto;
  let h: Harness;
  let driver: MqttDriver;

  beforeAll(async () => {
    mosq = await startMosquitto(await freePort(), dir.path);
    h = harness(defs('v5', 'five'));
    driver = mqtt.create({ name: 'v5', driver: 'mqtt', url: `mqtt://127.0.0.1:${mosq.port}`, ...FAST }, h.tags, h.host) as MqttDriver;
    h.engine.bindDriver('v5', driver);
    await driver.start();
    await waitFor(() => h.lastState() === 'CONNECTED', 'connected to mosquitto');
  });

  afterAll(async () => {
    await driver?.stop();
    await mosq?.stop();
    h?.close();
    dir.remove();
  });

  it('reads, writes with QoS 2 and reads its retained write back', async () => {
    expect(driver.options.protocolVersion).toBe(5);
    const c = await connectClient(`mqtt://127.0.0.1:${mosq.port}`, 5);
    try {
      const got = received(c);
      await c.subscribeAsync('five/cmd', { qos: 2 });
      await c.publishAsync('five/json', JSON.stringify({ data: { speed: 3.5, count: 42 }, flags: [false] }), { qos: 1 });
      await waitFor(
        () => h.engine.require('v5.json.speed').value === 3.5 && h.engine.require('v5.json.count').value === '42',
        'json over MQTT 5',
      );
      await h.engine.write(h.engine.require('v5.cmd'), 1234);
      await waitFor(() => got.get('five/cmd'), 'command');
      expect(got.get('five/cmd')).toMatchObject({ payload: '1234', qos: 2 });
      await h.engine.write(h.engine.require('v5.q0'), 'kept');
      await waitFor(() => h.engine.require('v5.q0').quality === Quality.GOOD, 'q0 read back');
    } finally {
      await c.endAsync();
    }
  });

  it('goes BAD when mosquitto stops', async () => {
    await mosq.stop();
    await waitFor(() => h.engine.require('v5.json.speed').quality === Quality.BAD_NOT_CONNECTED, 'BAD');
    await expect(h.engine.write(h.engine.require('v5.cmd'), 1)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
  });
});
