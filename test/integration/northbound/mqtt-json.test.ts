import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { brokerYaml, mosquitto, subscriber, waitUntil } from './mqtt-support.js';

let broker: Awaited<ReturnType<typeof mosquitto>>;
let s: TestServer;

const project = (url: string) => `name: MQTT JSON plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Speed, type: Float64, connection: internal, initial: 1.5 }
  - { name: Line1.Count, type: UInt64, connection: internal, initial: "18446744073709551615" }
  - { name: "Line1.Filler/Part#2", type: Int16, connection: internal, initial: 7 }
  - { name: Line1.Locked, type: Int16, connection: internal, access: read, initial: 3 }
  - { name: Line2.Setpoint, type: Float64, connection: internal, initial: 20 }
  - { name: Other.Hidden, type: Bool, connection: internal }
groups:
  - name: bridge
    permissions:
      - { permission: "tags:read" }
      - { permission: "tags:write", tags: "Line1.**" }
users:
  - { username: mqtt-bridge, password: bridge-password-123, groups: [bridge] }
northbound:
  mqtt:
    ${brokerYaml(url)}
    tags: "Line*.**"
    topicPrefix: plant/uns
    writes: true
    writeAs: mqtt-bridge
`;

beforeAll(async () => {
  broker = await mosquitto();
  s = await startTestServer({ projectYaml: project(broker.url) });
});

afterAll(async () => {
  await s?.stop();
  await broker?.stop();
  broker?.dir.remove();
});

describe('northbound MQTT, JSON topics', () => {
  it('publishes every matching tag retained at connect, with an online status, and each change', async () => {
    await waitUntil(() => s.server.services.metrics && true, 'server');
    // A subscriber that arrives later gets the retained state: the publisher's snapshot at connect.
    const sub = await subscriber(broker.url, ['plant/uns/#']);
    const byTopic = () => new Map(sub.messages.map((m) => [m.topic, m]));
    await waitUntil(() => byTopic().size >= 6, 'retained topics');
    const got = byTopic();
    expect(got.get('plant/uns/$status')?.payload.toString()).toBe('online');
    expect(got.get('plant/uns/$status')?.retain).toBe(true);
    const speed = JSON.parse(got.get('plant/uns/Line1/Speed')!.payload.toString());
    expect(speed).toMatchObject({ value: 1.5, quality: 'GOOD', qualityCode: 192 });
    expect(Date.parse(speed.timestamp)).toBeGreaterThan(0);
    expect(got.get('plant/uns/Line1/Speed')!.retain).toBe(true);
    expect(JSON.parse(got.get('plant/uns/Line1/Count')!.payload.toString()).value).toBe('18446744073709551615');
    // `/` and `.` are levels, `#` is escaped.
    expect(JSON.parse(got.get('plant/uns/Line1/Filler/Part%232')!.payload.toString()).value).toBe(7);
    expect([...got.keys()].some((t) => t.includes('Other'))).toBe(false);

    // A change through the REST API reaches the subscriber.
    const token = await s.login();
    expect((await s.request('PUT', '/tags/Line2.Setpoint/value', { token, body: { value: 21.5 } })).status).toBe(200);
    await waitUntil(
      () => sub.messages.find((m) => m.topic === 'plant/uns/Line2/Setpoint' && JSON.parse(m.payload.toString()).value === 21.5),
      'the change',
    );
    await sub.client.endAsync();
  });

  it('writes on <topic>/set as the writeAs user, audited, and answers refusals with the problem code', async () => {
    const sub = await subscriber(broker.url, ['plant/uns/+/+/set/response']);
    const pub = sub.client;
    await pub.publishAsync('plant/uns/Line1/Speed/set', '{"value": 42.25}', { qos: 1 });
    await waitUntil(() => s.server.runtime.tags.get('Line1.Speed')!.value === 42.25, 'the MQTT write');
    const ok = await waitUntil(() => sub.messages.find((m) => m.topic === 'plant/uns/Line1/Speed/set/response'), 'the answer');
    expect(JSON.parse(ok.payload.toString())).toEqual({ ok: true, name: 'Line1.Speed' });

    // Outside the user's write scope: refused by the tag service, nothing changed, audited as refused.
    const setpoint = s.server.runtime.tags.get('Line2.Setpoint')!.value;
    await pub.publishAsync('plant/uns/Line2/Setpoint/set', '99', { qos: 1 });
    const refused = await waitUntil(() => sub.messages.find((m) => m.topic === 'plant/uns/Line2/Setpoint/set/response'), 'the refusal');
    expect(JSON.parse(refused.payload.toString())).toMatchObject({ ok: false, name: 'Line2.Setpoint', code: 'FORBIDDEN' });
    expect(s.server.runtime.tags.get('Line2.Setpoint')!.value).toBe(setpoint);

    // Strict coercion is the REST one.
    sub.messages.length = 0;
    await pub.publishAsync('plant/uns/Line1/Speed/set', '"fast"', { qos: 1 });
    const mismatch = await waitUntil(() => sub.messages.find((m) => m.topic === 'plant/uns/Line1/Speed/set/response'), 'the mismatch');
    expect(JSON.parse(mismatch.payload.toString())).toMatchObject({ ok: false, code: 'TYPE_MISMATCH' });
    expect(s.server.runtime.tags.get('Line1.Speed')!.value).toBe(42.25);

    const token = await s.login();
    const audit = await waitUntil(async () => {
      const r = await s.request('GET', '/audit?action=tag.write', { token });
      const rows = r.json.items ?? r.json;
      return Array.isArray(rows) && rows.length >= 2 ? rows : undefined;
    }, 'audit rows');
    const mine = audit.filter((r: { user: string }) => r.user === 'mqtt-bridge');
    expect(mine.some((r: { target: string; result: string }) => r.target === 'Line1.Speed' && r.result === 'OK')).toBe(true);
    expect(mine.some((r: { target: string; result: string }) => r.target === 'Line2.Setpoint' && r.result === 'FORBIDDEN')).toBe(true);

    // A read-only tag has no write topic at all.
    sub.messages.length = 0;
    await pub.publishAsync('plant/uns/Line1/Locked/set', '5', { qos: 1 });
    await pub.publishAsync('plant/uns/Line1/Speed/set', '1', { qos: 1 });
    await waitUntil(() => sub.messages.find((m) => m.topic === 'plant/uns/Line1/Speed/set/response'), 'a later answer');
    expect(sub.messages.some((m) => m.topic.startsWith('plant/uns/Line1/Locked'))).toBe(false);
    expect(s.server.runtime.tags.get('Line1.Locked')!.value).toBe(3);
    await pub.endAsync();
  });

  it('keeps its budgets: an oversized write is refused unread, a burst of writes is answered write by write', async () => {
    const sub = await subscriber(broker.url, ['plant/uns/Line1/Speed/set/response']);
    const answers = () => sub.messages.map((m) => JSON.parse(m.payload.toString()) as { ok: boolean; code?: string });
    const before = s.server.runtime.tags.get('Line1.Speed')!.value;
    await sub.client.publishAsync('plant/uns/Line1/Speed/set', Buffer.alloc(64 * 1024 + 1, 0x31), { qos: 1 });
    await waitUntil(() => answers().length === 1, 'the refusal');
    expect(answers()[0]).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(s.server.runtime.tags.get('Line1.Speed')!.value).toBe(before);

    const N = 300;
    await Promise.all(Array.from({ length: N }, (_, i) => sub.client.publishAsync('plant/uns/Line1/Speed/set', String(i), { qos: 0 })));
    await waitUntil(() => answers().length === N + 1, 'an answer to every write');
    // Each write either took effect or was refused for the in-flight budget; nothing else.
    expect(
      answers()
        .slice(1)
        .every((a) => a.ok || a.code === 'TOO_MANY_REQUESTS'),
    ).toBe(true);
    expect(
      answers()
        .slice(1)
        .some((a) => a.ok),
    ).toBe(true);
    const token = await s.login();
    expect((await s.request('GET', '/health', { token })).status).toBe(200);
    await sub.client.endAsync();
  });
});
