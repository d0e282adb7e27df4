import spPayload from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { brokerYaml, gate, mosquitto, subscriber, waitUntil, type Gate, type Received } from './mqtt-support.js';

const sparkplug = spPayload.get('spBv1.0')!;
let broker: Awaited<ReturnType<typeof mosquitto>>;
let way: Gate;
let s: TestServer;
let sub: Awaited<ReturnType<typeof subscriber>>;
let stopped = false;

const BASE = 'spBv1.0/Plant';

beforeAll(async () => {
  broker = await mosquitto();
  way = await gate(broker.port);
  // Births are not retained: the host listens before the edge node is born.
  sub = await subscriber(broker.url, [`${BASE}/#`, 'tagway/$dcmd/#']);
  s = await startTestServer({
    projectYaml: `name: Sparkplug plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Bool, type: Bool, connection: internal, initial: true, group: Line1 }
  - { name: Line1.Int8, type: Int8, connection: internal, initial: -5, group: Line1 }
  - { name: Line1.UInt32, type: UInt32, connection: internal, initial: 4294967295, group: Line1 }
  - { name: Line1.Int64, type: Int64, connection: internal, initial: "-9223372036854775808", group: Line1 }
  - { name: Line1.UInt64, type: UInt64, connection: internal, initial: "18446744073709551615", group: Line1 }
  - { name: Line1.Float32, type: Float32, connection: internal, initial: 1.5, group: Line1 }
  - { name: Line1.Speed, type: Float64, connection: internal, initial: 2.25, group: Line1 }
  - { name: Line1.Text, type: String, connection: internal, initial: "Grüße", group: Line1 }
  - { name: Line1.When, type: DateTime, connection: internal, initial: "2026-01-02T03:04:05.678Z", group: Line1 }
  - { name: Line2.Setpoint, type: Float64, connection: internal, initial: 20, group: Line2 }
  - { name: Loose, type: Int32, connection: internal, initial: 7 }
groups:
  - name: bridge
    permissions:
      - { permission: "tags:read" }
      - { permission: "tags:write", tags: "Line1.**" }
users:
  - { username: mqtt-bridge, password: bridge-password-123, groups: [bridge] }
northbound:
  mqtt:
    ${brokerYaml(way.url)}
    format: sparkplugB
    groupId: Plant
    edgeNodeId: edge-1
    writes: true
    writeAs: mqtt-bridge
`,
  });
});

afterAll(async () => {
  await sub?.client.endAsync();
  if (!stopped) await s?.stop();
  await way?.stop();
  await broker?.stop();
  broker?.dir.remove();
});

const decoded = (m: Received): UPayload => sparkplug.decodePayload(m.payload);
const num = (v: unknown): number => Number(String(v));
const find = (topic: string, from = 0): Received | undefined => sub.messages.slice(from).find((m) => m.topic === topic);
const seqOf = (m: Received): number => num(decoded(m).seq);
const byName = (metrics: UMetric[]) => new Map(metrics.map((m) => [m.name!, m]));

describe('northbound MQTT, Sparkplug B', () => {
  it('is born: NBIRTH with bdSeq and the rebirth control, a DBIRTH per tag group with every metric', async () => {
    const nbirth = await waitUntil(() => find(`${BASE}/NBIRTH/edge-1`), 'NBIRTH');
    const n = decoded(nbirth);
    expect(num(n.seq)).toBe(0);
    const nm = byName(n.metrics!);
    expect(nm.get('bdSeq')!.type).toBe('Int64');
    expect(nm.get('Node Control/Rebirth')).toMatchObject({ type: 'Boolean', value: false });

    const dbirth = await waitUntil(() => find(`${BASE}/DBIRTH/edge-1/Line1`), 'DBIRTH Line1');
    await waitUntil(() => find(`${BASE}/DBIRTH/edge-1/Line2`) && find(`${BASE}/DBIRTH/edge-1/Tags`), 'the other DBIRTHs');
    const d = byName(decoded(dbirth).metrics!);
    expect(d.size).toBe(9);
    expect(d.get('Line1.Bool')).toMatchObject({ type: 'Boolean', value: true });
    expect(d.get('Line1.Int8')).toMatchObject({ type: 'Int8', value: -5 });
    expect(num(d.get('Line1.UInt32')!.value)).toBe(4294967295);
    expect(BigInt.asIntN(64, BigInt(String(d.get('Line1.Int64')!.value)))).toBe(-9223372036854775808n);
    expect(String(d.get('Line1.UInt64')!.value)).toBe('18446744073709551615');
    expect(d.get('Line1.Float32')).toMatchObject({ type: 'Float', value: 1.5 });
    expect(d.get('Line1.Speed')).toMatchObject({ type: 'Double', value: 2.25 });
    expect(d.get('Line1.Text')).toMatchObject({ type: 'String', value: 'Grüße' });
    expect(num(d.get('Line1.When')!.value)).toBe(Date.parse('2026-01-02T03:04:05.678Z'));
    for (const m of d.values()) {
      expect(num(m.alias)).toBeGreaterThan(0);
      expect(num(m.timestamp)).toBeGreaterThan(0);
      expect(m.properties!.Quality).toMatchObject({ type: 'Int32', value: 192 });
    }
    expect(seqOf(dbirth)).toBeGreaterThan(0);
  });

  it('sends DDATA by alias on change, with the next sequence number', async () => {
    const dbirth = byName(decoded(find(`${BASE}/DBIRTH/edge-1/Line1`)!).metrics!);
    const from = sub.messages.length;
    const token = await s.login();
    expect((await s.request('PUT', '/tags/Line1.Speed/value', { token, body: { value: 3.5 } })).status).toBe(200);
    const ddata = await waitUntil(() => find(`${BASE}/DDATA/edge-1/Line1`, from), 'DDATA');
    const [m] = decoded(ddata).metrics!;
    expect(m!.name ?? undefined).toBeUndefined();
    expect(num(m!.alias)).toBe(num(dbirth.get('Line1.Speed')!.alias));
    expect(m!.value).toBe(3.5);
    expect(m!.properties!.Quality!.value).toBe(192);
    // Every message of the edge node after NBIRTH carries the next sequence number (modulo 256).
    const edge = sub.messages.filter((x) => /\/(NBIRTH|DBIRTH|DDATA)\/edge-1/.test(x.topic));
    const at = edge.indexOf(ddata);
    expect(seqOf(ddata)).toBe((seqOf(edge[at - 1]!) + 1) % 256);
  });

  it('is born again on a Node Control/Rebirth NCMD, with the same bdSeq', async () => {
    const first = decoded(find(`${BASE}/NBIRTH/edge-1`)!);
    const from = sub.messages.length;
    const ncmd = sparkplug.encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
    });
    await sub.client.publishAsync(`${BASE}/NCMD/edge-1`, Buffer.from(ncmd), { qos: 0 });
    const again = await waitUntil(() => find(`${BASE}/NBIRTH/edge-1`, from), 'the rebirth');
    expect(num(decoded(again).seq)).toBe(0);
    const bd = (p: UPayload) => num(p.metrics!.find((m) => m.name === 'bdSeq')!.value);
    expect(bd(decoded(again))).toBe(bd(first));
    const dbirth = await waitUntil(() => find(`${BASE}/DBIRTH/edge-1/Line1`, from), 'DBIRTH after rebirth');
    expect(byName(decoded(dbirth).metrics!).get('Line1.Speed')!.value).toBe(3.5);

    // A burst of requests is served by at most two rebirths (one at once if the budget allows, one a second later),
    // not one per request.
    const burst = sub.messages.length;
    await Promise.all(Array.from({ length: 10 }, () => sub.client.publishAsync(`${BASE}/NCMD/edge-1`, Buffer.from(ncmd), { qos: 0 })));
    const births = () => sub.messages.slice(burst).filter((m) => m.topic === `${BASE}/NBIRTH/edge-1`).length;
    await waitUntil(() => births() >= 1, 'the rebirth of the burst');
    await new Promise((r) => setTimeout(r, 2500));
    expect(births()).toBeLessThanOrEqual(2);
  });

  it('writes a DCMD as the writeAs user (audited) and answers a refused one with its problem code', async () => {
    const from = sub.messages.length;
    const dcmd = (device: string, metrics: UMetric[]) =>
      sub.client.publishAsync(`${BASE}/DCMD/edge-1/${device}`, Buffer.from(sparkplug.encodePayload({ timestamp: Date.now(), metrics })), {
        qos: 1,
      });
    await dcmd('Line1', [{ name: 'Line1.Speed', type: 'Double', value: 9.75 }]);
    await waitUntil(() => s.server.runtime.tags.get('Line1.Speed')!.value === 9.75, 'the DCMD write');
    // By alias too, with a 64-bit value.
    const aliasOf = (name: string) => num(byName(decoded(find(`${BASE}/DBIRTH/edge-1/Line1`)!).metrics!).get(name)!.alias);
    await dcmd('Line1', [{ alias: aliasOf('Line1.Int64'), type: 'Int64', value: '-42' as unknown as number }]);
    await waitUntil(() => s.server.runtime.tags.get('Line1.Int64')!.value === '-42', 'the write by alias');
    const ddata = await waitUntil(
      () =>
        sub.messages.slice(from).find((m) => m.topic === `${BASE}/DDATA/edge-1/Line1` && decoded(m).metrics!.some((x) => x.value === 9.75)),
      'the DDATA of the written value',
    );
    expect(ddata).toBeDefined();

    // Outside the user's scope: refused, answered with the code, nothing changed.
    await dcmd('Line2', [{ name: 'Line2.Setpoint', type: 'Double', value: 99 }]);
    const refused = await waitUntil(() => sub.messages.slice(from).find((m) => m.topic === 'tagway/$dcmd/Line2/response'), 'the refusal');
    expect(JSON.parse(refused.payload.toString())).toMatchObject({ ok: false, metric: 'Line2.Setpoint', code: 'FORBIDDEN' });
    expect(s.server.runtime.tags.get('Line2.Setpoint')!.value).toBe(20);
    // A metric of another device: not found there.
    await dcmd('Line2', [{ name: 'Line1.Speed', type: 'Double', value: 1 }]);
    const notHere = await waitUntil(
      () => sub.messages.slice(from).find((m) => m.topic === 'tagway/$dcmd/Line2/response' && m.payload.includes('TAG_NOT_FOUND')),
      'the not-found answer',
    );
    expect(notHere).toBeDefined();
    expect(s.server.runtime.tags.get('Line1.Speed')!.value).toBe(9.75);

    const token = await s.login();
    const r = await s.request('GET', '/audit?action=tag.write', { token });
    const rows: Array<{ user: string; target: string; result: string }> = r.json.items ?? r.json;
    expect(rows.some((x) => x.user === 'mqtt-bridge' && x.target === 'Line1.Speed' && x.result === 'OK')).toBe(true);
    expect(rows.some((x) => x.user === 'mqtt-bridge' && x.target === 'Line2.Setpoint' && x.result === 'FORBIDDEN')).toBe(true);
  });

  it('is born again after the broker comes back (new bdSeq), then sends what it queued as history, and says NDEATH when Tagway stops', async () => {
    const bd = (m: Received) => num(decoded(m).metrics!.find((x) => x.name === 'bdSeq')!.value);
    const before = bd(find(`${BASE}/NBIRTH/edge-1`)!);
    await sub.client.endAsync();
    way.close();
    await broker.stop();
    // A change while the broker is away: queued, and sent after the new births as history.
    const token = await s.login();
    expect((await s.request('PUT', '/tags/Line1.Speed/value', { token, body: { value: 11.5 } })).status).toBe(200);
    await broker.restart();
    sub = await subscriber(broker.url, [`${BASE}/#`]);
    way.open();
    const nbirth = await waitUntil(() => find(`${BASE}/NBIRTH/edge-1`), 'the NBIRTH after the outage');
    // A new connection is a new birth sequence (modulo 256).
    expect(bd(nbirth)).not.toBe(before);
    const dbirth = await waitUntil(() => find(`${BASE}/DBIRTH/edge-1/Line1`), 'the DBIRTH after the outage');
    expect(byName(decoded(dbirth).metrics!).get('Line1.Speed')!.value).toBe(11.5);
    const history = await waitUntil(() => find(`${BASE}/DDATA/edge-1/Line1`), 'the queued DDATA');
    expect(sub.messages.indexOf(history)).toBeGreaterThan(sub.messages.indexOf(dbirth));
    expect(decoded(history).metrics).toEqual([expect.objectContaining({ value: 11.5, isHistorical: true })]);
    stopped = true;
    await s.stop();
    const ndeath = await waitUntil(() => find(`${BASE}/NDEATH/edge-1`), 'NDEATH');
    expect(bd(ndeath)).toBe(bd(nbirth));
  });
});
