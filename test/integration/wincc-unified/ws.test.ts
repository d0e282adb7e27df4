import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Quality } from '../../../src/domain/quality.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { gqlClient, UNIFIED_PROJECT, unifiedLogin } from './setup.js';

const BIG = 200;
const PROJECT = `${UNIFIED_PROJECT.replace(
  'alarmClasses:',
  `${Array.from({ length: BIG }, (_, i) => `  - { name: Big.${i}, type: String, connection: internal }`).join('\n')}\nalarmClasses:`,
)}`;

interface Msg {
  type: string;
  id?: string;
  payload?: any;
}

/** A GraphQL-over-WebSocket client speaking raw frames, so each protocol detail is visible to the test. */
class Client {
  readonly messages: Msg[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.messages.push(JSON.parse(String(d)) as Msg));
    this.closed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  }

  static open(s: TestServer, protocol: string, headers: Record<string, string> = {}, path = '/graphql'): Promise<Client> {
    const ws = new WebSocket(s.url.replace('https:', 'wss:') + path, protocol, { ca: s.ca, headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }

  send(m: Msg): void {
    this.ws.send(JSON.stringify(m));
  }

  async next(pred: (m: Msg) => boolean, what: string): Promise<Msg> {
    return waitUntil(() => this.messages.find(pred), what, 10_000, 10);
  }

  /** Notifications of one operation, the payload's data field unwrapped. */
  data(id: string, field = 'tagValues'): any[] {
    return this.messages.filter((m) => m.id === id && (m.type === 'next' || m.type === 'data')).map((m) => m.payload.data[field]);
  }

  async init(payload?: unknown): Promise<void> {
    this.send(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload });
    await this.next((m) => m.type === 'connection_ack', 'connection_ack');
  }
}

const TAGS_SUB = `subscription ($n: [String!]!) { tagValues(names: $n) { name value { value quality { quality } } error { code } notificationReason } }`;

describe('WinCC Unified subscriptions over WSS (/graphql)', () => {
  let s: TestServer;
  let operator: string;
  let tanker: string;
  let gql: ReturnType<typeof gqlClient>;
  const write = (name: string, value: unknown) =>
    gql(
      `mutation ($n: String!, $v: Variant!) { writeTagValues(input: [{name: $n, value: $v}]) { error { code } } }`,
      { n: name, v: value },
      { token: operator },
    );

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    gql = gqlClient(s);
    operator = await unifiedLogin(s, 'operator', 'operator-password');
    tanker = await unifiedLogin(s, 'tanker', 'tanker-password');
  });
  afterAll(() => s?.stop());

  it('graphql-transport-ws, token in connection_init: Added for every name, then Modified; ping/pong; complete', async () => {
    const c = await Client.open(s, 'graphql-transport-ws', { authorization: 'undefined' });
    expect(c.ws.protocol).toBe('graphql-transport-ws');
    await c.init({ Authorization: `Bearer ${operator}` });
    c.send({ type: 'ping', payload: { n: 1 } });
    await c.next((m) => m.type === 'pong', 'pong');
    expect(c.messages.find((m) => m.type === 'pong')!.payload).toEqual({ n: 1 });
    c.send({
      id: '1',
      type: 'subscribe',
      payload: { query: TAGS_SUB, variables: { n: ['HMI_Tag_1', 'Plant1::HMI_Tag_2', 'Nope', 'Tank1.Pump.*', '@SystemName'] } },
    });
    await waitUntil(() => c.data('1').length >= 5, 'five Added');
    const added = c.data('1');
    expect(added.every((n) => n.notificationReason === 'Added')).toBe(true);
    const byName = new Map(added.map((n) => [n.name, n]));
    expect(byName.get('HMI_Tag_1')).toEqual({
      name: 'HMI_Tag_1',
      value: { value: 1.5, quality: { quality: 'GOOD_CASCADE' } },
      error: { code: '0' },
      notificationReason: 'Added',
    });
    expect(byName.get('Plant1::HMI_Tag_2')?.value.value).toBe(7);
    expect(byName.get('Nope')).toMatchObject({ value: null, error: { code: '2' } });
    expect(byName.get('Tank1.Pump.Running')?.value.value).toBe(false);
    expect(byName.get('@SystemName')?.value.value).toBe('Plant1');
    await write('HMI_Tag_1', 2.5);
    const mod = await waitUntil(() => c.data('1').find((n) => n.notificationReason === 'Modified'), 'Modified');
    expect(mod).toMatchObject({ name: 'HMI_Tag_1', value: { value: 2.5 } });
    // A selection with directives is executed rather than projected: the same shape.
    c.send({
      id: 'd',
      type: 'subscribe',
      payload: {
        query: 'subscription ($x: Boolean!) { tagValues(names: ["HMI_Tag_2"]) { __typename name value @include(if: $x) { value } } }',
        variables: { x: true },
      },
    });
    expect(await waitUntil(() => c.data('d')[0], 'directive Added')).toEqual({
      __typename: 'TagValueNotification',
      name: 'HMI_Tag_2',
      value: { value: 7 },
    });
    c.send({ id: '1', type: 'complete' });
    await new Promise((r) => setTimeout(r, 50));
    const count = c.data('1').length;
    await write('HMI_Tag_1', 3.5);
    await new Promise((r) => setTimeout(r, 150));
    expect(c.data('1').length).toBe(count);
    // A query over the socket: one result, then complete.
    c.send({ id: 'q', type: 'subscribe', payload: { query: '{ tagValues(names: ["HMI_Tag_1"]) { value { value } } }' } });
    await c.next((m) => m.id === 'q' && m.type === 'complete', 'query complete');
    expect(c.data('q')[0]).toEqual([{ value: { value: 3.5 } }]);
    c.send({ type: 'connection_terminate' });
    expect((await c.closed).code).toBe(1000);
  });

  it('legacy graphql-ws, token in the upgrade header: start/data/stop, ping answered, connection_terminate closes', async () => {
    const c = await Client.open(s, 'graphql-ws', { authorization: `Bearer ${operator}` }, '/graphql/');
    expect(c.ws.protocol).toBe('graphql-ws');
    await c.init({});
    c.send({ type: 'ping' });
    await c.next((m) => m.type === 'pong', 'pong');
    c.send({ id: 'a', type: 'start', payload: { query: TAGS_SUB, variables: { n: ['Plant1::Tank1.Level'] } } });
    const first = await c.next((m) => m.id === 'a' && m.type === 'data', 'data');
    expect(first.payload.data.tagValues).toMatchObject({ name: 'Plant1::Tank1.Level', value: { value: 40 }, notificationReason: 'Added' });
    c.send({ id: 'a', type: 'stop' });
    await c.next((m) => m.id === 'a' && m.type === 'complete', 'complete');
    c.send({ type: 'connection_terminate' });
    expect((await c.closed).code).toBe(1000);
  });

  it('refuses a socket without credentials (4401; legacy gets connection_error first) and bad messages (4400)', async () => {
    const a = await Client.open(s, 'graphql-transport-ws');
    a.send({ type: 'connection_init', payload: { Authorization: 'undefined' } });
    expect((await a.closed).code).toBe(4401);
    const b = await Client.open(s, 'graphql-ws');
    b.send({ type: 'connection_init', payload: { Authorization: 'Bearer expired-or-unknown' } });
    expect((await b.closed).code).toBe(4401);
    expect(b.messages[0]?.type).toBe('connection_error');
    const c = await Client.open(s, 'graphql-transport-ws');
    c.send({ id: '1', type: 'subscribe', payload: { query: TAGS_SUB } });
    expect((await c.closed).code).toBe(4401);
    const d = await Client.open(s, 'graphql-transport-ws');
    d.ws.send('not json');
    expect((await d.closed).code).toBe(4400);
  });

  it('answers GraphQL errors of a subscription with an error message (301 for a bad filter)', async () => {
    const c = await Client.open(s, 'graphql-transport-ws');
    await c.init({ Authorization: `Bearer ${operator}` });
    c.send({ id: 'x', type: 'subscribe', payload: { query: 'subscription { activeAlarms(filterString: "name =") { name } }' } });
    const e = await c.next((m) => m.id === 'x' && m.type === 'error', 'error');
    expect(e.payload[0].extensions.code).toBe('301');
    c.send({ id: 'y', type: 'subscribe', payload: { query: 'subscription { tagValues(names: ["a"]) { nam } }' } });
    expect((await c.next((m) => m.id === 'y' && m.type === 'error', 'error')).payload[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    c.ws.close();
  });

  it('activeAlarms: Added for the current list, then Added, Modified and Removed as alarms change; reduState', async () => {
    const c = await Client.open(s, 'graphql-transport-ws');
    await c.init({ authorization: `Bearer ${operator}` });
    const q = `subscription { activeAlarms(filterString: "priority < 13") { name state notificationReason eventText } }`;
    c.send({ id: 'al', type: 'subscribe', payload: { query: q } });
    c.send({
      id: 'rs',
      type: 'subscribe',
      payload: { query: 'subscription { reduState { value { value timestamp } notificationReason } }' },
    });
    await c.next((m) => m.id === 'rs', 'reduState');
    expect(c.data('rs', 'reduState')[0]).toMatchObject({ value: { value: 'ACTIVE' }, notificationReason: 'Added' });
    await write('Info.Flag', true);
    await write('Motor.Trip', true); // priority 15: filtered out
    await waitUntil(() => c.data('al', 'activeAlarms').find((a) => a.name === 'InfoFlag'), 'InfoFlag Added');
    expect(c.data('al', 'activeAlarms')[0]).toEqual({
      name: 'InfoFlag',
      state: 'RAISED',
      notificationReason: 'Added',
      eventText: ['Info flag'],
    });
    await write('Pump.Fault', true);
    await waitUntil(() => c.data('al', 'activeAlarms').find((a) => a.name === 'PumpFault'), 'PumpFault Added');
    const [pump] = (await gql(`{ activeAlarms(filterString: "name = 'PumpFault'") { instanceID } }`, {}, { token: operator })).data
      .activeAlarms;
    await gql(
      `mutation ($id: Int) { acknowledgeAlarms(input: [{name: "PumpFault", instanceID: $id}]) { error { code } } }`,
      { id: pump.instanceID },
      { token: operator },
    );
    await waitUntil(
      () => c.data('al', 'activeAlarms').find((a) => a.name === 'PumpFault' && a.notificationReason === 'Modified'),
      'PumpFault Modified',
    );
    await write('Info.Flag', false);
    const removed = await waitUntil(() => c.data('al', 'activeAlarms').find((a) => a.notificationReason === 'Removed'), 'InfoFlag Removed');
    expect(removed).toMatchObject({ name: 'InfoFlag', state: 'REMOVED' });
    expect(c.data('al', 'activeAlarms').some((a) => a.name === 'MotorTrip')).toBe(false);
    c.ws.close();
  });

  it('a restricted user is told the names it may not read, gets only its tags from globs, and only its alarms', async () => {
    const c = await Client.open(s, 'graphql-transport-ws', { authorization: `Bearer ${tanker}` });
    await c.init();
    c.send({ id: 't', type: 'subscribe', payload: { query: TAGS_SUB, variables: { n: ['Secret.Value', '**'] } } });
    await waitUntil(() => c.data('t').length >= 4, 'Added');
    await new Promise((r) => setTimeout(r, 100));
    const names = c.data('t').map((n) => n.name);
    expect(names.sort()).toEqual(['Secret.Value', 'Tank1.Level', 'Tank1.Pump.Running', 'Tank1.ReadOnly']);
    expect(c.data('t').find((n) => n.name === 'Secret.Value').error.code).toBe('2');
    c.send({ id: 'a', type: 'subscribe', payload: { query: 'subscription { activeAlarms { name } }' } });
    await waitUntil(() => c.data('a', 'activeAlarms').length > 0, 'alarms');
    await new Promise((r) => setTimeout(r, 100));
    expect(new Set(c.data('a', 'activeAlarms').map((a) => a.name))).toEqual(new Set(['PumpFault']));
    c.ws.close();
  });

  it('sends Removed for tags a user may no longer read after its groups change, and keeps the rest', async () => {
    const admin = await unifiedLogin(s, 'admin', ADMIN_PASSWORD);
    const created = await s.request('POST', '/users', {
      token: admin,
      body: { username: 'mover', password: 'Quartz-Lantern-4817', groups: ['operators'] },
    });
    expect(created.status, created.text).toBe(201);
    const token = await unifiedLogin(s, 'mover', 'Quartz-Lantern-4817');
    const c = await Client.open(s, 'graphql-transport-ws');
    await c.init({ Authorization: `Bearer ${token}` });
    c.send({ id: 'm', type: 'subscribe', payload: { query: TAGS_SUB, variables: { n: ['Secret.Value', 'Tank1.Level'] } } });
    await waitUntil(() => c.data('m').length >= 2, 'Added');
    expect((await s.request('PATCH', '/users/mover', { token: admin, body: { groups: ['tankers'] } })).status).toBe(200);
    const removed = await waitUntil(() => c.data('m').find((n) => n.notificationReason === 'Removed'), 'Removed');
    expect(removed).toMatchObject({ name: 'Secret.Value', value: null, error: { code: '2' } });
    await write('Tank1.Level', 55);
    await waitUntil(
      () => c.data('m').find((n) => n.name === 'Tank1.Level' && n.notificationReason === 'Modified' && n.value.value === 55),
      'Tank1.Level still live',
    );
    expect(c.data('m').filter((n) => n.name === 'Secret.Value' && n.notificationReason === 'Removed')).toHaveLength(1);
    c.ws.close();
  });

  it('closes the socket when its session is revoked (logout on the native API)', async () => {
    const token = await unifiedLogin(s, 'operator', 'operator-password');
    const c = await Client.open(s, 'graphql-transport-ws');
    await c.init({ Authorization: `Bearer ${token}` });
    c.send({ id: '1', type: 'subscribe', payload: { query: TAGS_SUB, variables: { n: ['HMI_Tag_1'] } } });
    await waitUntil(() => c.data('1').length > 0, 'Added');
    expect((await s.request('POST', '/auth/logout', { token })).status).toBe(204);
    expect((await c.closed).code).toBe(4401);
  });

  it('a slow consumer gets coalesced latest values; the server holds at most a bounded buffer meanwhile', async () => {
    const hub = s.server.engines.push.hub;
    const HIGH = 64 * 1024;
    hub.configure({ highWaterBytes: HIGH, lowWaterBytes: 8 * 1024, stallTimeoutMs: 60_000 });
    const admin = await unifiedLogin(s, 'admin', ADMIN_PASSWORD);
    const c = await Client.open(s, 'graphql-transport-ws');
    await c.init({ Authorization: `Bearer ${admin}` });
    c.send({ id: 'big', type: 'subscribe', payload: { query: TAGS_SUB, variables: { n: ['Big.*'] } } });
    await waitUntil(() => c.data('big').length >= BIG, 'snapshot');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const engine = s.server.runtime.tags;
    const first = engine.get('Big.0')!.index;
    const pad = 'p'.repeat(400);
    let round = 0;
    let congestedRounds = 0;
    let maxBuffered = 0;
    const deadline = Date.now() + 20_000;
    while (congestedRounds < 20 && Date.now() < deadline) {
      round++;
      for (let i = 0; i < BIG; i++) engine.update(first + i, `${round}:${pad}`, Quality.GOOD);
      await new Promise((r) => setTimeout(r, 5));
      const st = hub.currentStats();
      maxBuffered = Math.max(maxBuffered, st.bufferedBytes);
      if (st.congested > 0) congestedRounds++;
    }
    const stats = hub.currentStats();
    expect(stats.congested).toBe(1);
    expect(stats.pendingValues).toBeLessThanOrEqual(BIG); // one slot per tag, however many rounds
    expect(maxBuffered).toBeLessThan(HIGH + 1_000 * 600 + 64 * 1024);
    socket.resume();
    const want = `${round}:${pad}`;
    await waitUntil(() => c.data('big').filter((n) => n.value?.value === want).length === BIG || undefined, 'latest values', 20_000);
    expect(c.data('big').length).toBeLessThan(BIG * (round + 1));
    c.ws.close();
  });
});
