import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { brokerYaml, gate, mosquitto, subscriber, waitUntil, type Gate } from './mqtt-support.js';

let broker: Awaited<ReturnType<typeof mosquitto>>;
let way: Gate;
let s: TestServer;
let token: string;

const QUEUE = 20;
const WRITES = 50;
const OUTAGE_MS = 30_000;

beforeAll(async () => {
  broker = await mosquitto();
  way = await gate(broker.port);
  s = await startTestServer({
    projectYaml: `name: Store and forward
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Counter, type: Int32, connection: internal, initial: 0 }
northbound:
  mqtt:
    ${brokerYaml(way.url)}
    topicPrefix: sf
    queueSize: ${QUEUE}
`,
  });
  token = await s.login();
});

afterAll(async () => {
  await s?.stop();
  await way?.stop();
  await broker?.stop();
  broker?.dir.remove();
});

async function metric(name: string): Promise<number> {
  const r = await s.request('GET', '/metrics', { token });
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(r.text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

describe('northbound MQTT store-and-forward', () => {
  it('queues changes while the broker is down for 30 s, drops the oldest beyond the queue, and delivers the rest in order', {
    timeout: 90_000,
  }, async () => {
    const first = await subscriber(broker.url, ['sf/#']);
    await waitUntil(() => first.messages.some((m) => m.topic === 'sf/Line1/Counter'), 'the retained counter');
    await first.client.endAsync();

    // The broker goes away (Tagway's connection with it) and comes back empty, as after a crash.
    way.close();
    await broker.stop();
    const downSince = Date.now();
    await waitUntil(async () => (await metric('tagway_northbound_mqtt_connected')) === 0, 'the publisher to notice');
    for (let v = 1; v <= WRITES; v++) {
      const r = await s.request('PUT', '/tags/Line1.Counter/value', { token, body: { value: v } });
      expect(r.status).toBe(200);
    }
    await waitUntil(async () => (await metric('tagway_northbound_mqtt_queued')) === QUEUE, 'a full queue');
    expect(await metric('tagway_northbound_mqtt_dropped_total')).toBe(WRITES - QUEUE);
    const publishedBefore = await metric('tagway_northbound_mqtt_published_total');

    // The outage: the broker stays away for 30 s in all (reconnect attempts go on meanwhile, with back-off).
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downSince))));
    await broker.restart();
    const second = await subscriber(broker.url, ['sf/#']);
    const messages = second.messages;
    way.open();
    const counter = () =>
      messages.filter((m) => m.topic === 'sf/Line1/Counter').map((m) => JSON.parse(m.payload.toString()).value as number);
    // The backlog (the newest QUEUE values, in order), then the current value: values were lost, so the state follows.
    const expected = [...Array.from({ length: QUEUE }, (_, i) => WRITES - QUEUE + 1 + i), WRITES];
    await waitUntil(() => counter().length >= expected.length, 'the backlog');
    expect(counter()).toEqual(expected);
    expect(messages[0]).toMatchObject({ topic: 'sf/$status' });
    expect(messages[0]!.payload.toString()).toBe('online');
    await waitUntil(async () => (await metric('tagway_northbound_mqtt_queued')) === 0, 'an empty queue');
    expect(await metric('tagway_northbound_mqtt_connected')).toBe(1);
    // Counted when the broker acknowledges, which may come after the subscriber saw the messages.
    await waitUntil(
      async () => (await metric('tagway_northbound_mqtt_published_total')) >= publishedBefore + QUEUE + 2,
      'the backlog counted as published',
    );
    await second.client.endAsync();
  });
});
