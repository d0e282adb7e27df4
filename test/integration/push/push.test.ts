import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushHub } from '../../../src/runtime/push/hub.js';
import { Quality } from '../../../src/domain/quality.js';
import { PUSH_CLOSE } from '../../../src/runtime/push/types.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { SseClient, until, WsClient } from './clients.js';

const PROJECT = `
name: Push test plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Speed, type: Float64, connection: internal, min: 0, max: 200 }
  - { name: Line1.Filler.Level, type: Float64, connection: internal, min: 0, max: 100 }
  - { name: Line2.Speed, type: Float64, connection: internal }
  - { name: Tank1.Level, type: Float64, connection: internal, min: 0, max: 10 }
  - { name: Tank1.Pump, type: Bool, connection: internal, access: read }
  - { name: Line1.Stop, type: Bool, connection: internal, initial: false }
alarms:
  - { name: Tank1.LevelHigh, number: 1, class: Warning, priority: 6, tag: Tank1.Level, limit: { type: H, value: 50 }, text: "Tank 1 level high: {value}" }
  - { name: Line1.Stop, number: 2, class: Warning, priority: 16, tag: Line1.Stop, text: "Line 1 stopped" }
groups:
  - name: line1watchers
    permissions:
      - { permission: "tags:read", tags: "Line1.**" }
      - { permission: "alarms:read", tags: "Line1.**" }
users:
  - { username: watcher, password: watcher-password, groups: [line1watchers] }
`;

/** Everything a push test needs from one real server. */
interface PushServer {
  s: TestServer;
  wsUrl: string;
  set(name: string, v: number | boolean | string, q?: number): void;
  hub(): PushHub;
}

async function startPushServer(projectYaml: string): Promise<PushServer> {
  const s = await startTestServer({ projectYaml });
  const runtime = s.server.runtime;
  return {
    s,
    wsUrl: `${s.url.replace('https:', 'wss:')}/ws`,
    set: (name, v, q = Quality.GOOD) => runtime.tags.update(runtime.tags.require(name).index, v, q),
    hub: () => s.server.engines.push.hub,
  };
}

describe('push over real HTTPS', () => {
  let p: PushServer;
  let s: { wsUrl: string; ca: string; url: string; agent: TestServer['agent'] };
  let bearer: { authorization: string };
  let adminToken: string;
  let viewerToken: string;
  const set = (name: string, v: number | boolean) => p.set(name, v);

  beforeAll(async () => {
    p = await startPushServer(PROJECT);
    const svc = p.s.server.engines.push;
    svc.ws.authTimeoutMs = 300;
    svc.sse.keepAliveMs = 100;
    s = { wsUrl: p.wsUrl, ca: p.s.ca, url: p.s.url, agent: p.s.agent };
    [adminToken, viewerToken] = await Promise.all([p.s.login(), p.s.login('watcher', 'watcher-password')]);
    bearer = { authorization: `Bearer ${adminToken}` };
    for (const n of ['Line1.Speed', 'Line1.Filler.Level', 'Line2.Speed', 'Tank1.Level']) set(n, 1);
  });
  afterAll(async () => {
    await p.s.stop();
  });

  it('WebSocket accepts a client-credentials JWT (auth message) and Basic (upgrade header)', async () => {
    const created = await p.s.request('POST', '/clients', { token: adminToken, body: { name: 'dashboard', groups: ['line1watchers'] } });
    expect(created.status).toBe(201);
    const tok = await p.s.request('POST', '/auth/token', {
      body: { grant_type: 'client_credentials', client_id: created.json.clientId, client_secret: created.json.clientSecret },
    });
    expect(tok.status).toBe(200);
    const jwtClient = await WsClient.open(s.wsUrl, s.ca);
    jwtClient.send({ type: 'auth', token: tok.json.access_token });
    jwtClient.send({ type: 'subscribe', id: 'j1', tags: ['Line1.Speed'] });
    await jwtClient.waitFor((m) => m.type === 'values' && m.id === 'j1');
    expect(jwtClient.messages.find((m) => m.type === 'authenticated')).toMatchObject({ user: { authMethod: 'jwt' } });
    jwtClient.close();
    const basic = await WsClient.open(s.wsUrl, s.ca, {
      authorization: `Basic ${Buffer.from('watcher:watcher-password').toString('base64')}`,
    });
    await basic.waitFor((m) => m.type === 'authenticated');
    expect(basic.messages[0]).toMatchObject({ user: { username: 'watcher', authMethod: 'basic' } });
    basic.close();
    const forged = await WsClient.open(s.wsUrl, s.ca);
    forged.send({ type: 'auth', token: tok.json.access_token.slice(0, -4) + 'AAAA' });
    await forged.waitFor((m) => m.type === 'error' && m.code === 'UNAUTHENTICATED');
  });

  it('WebSocket with a Bearer upgrade header: current values first, then changes', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca, bearer);
    await c.waitFor((m) => m.type === 'authenticated');
    expect(c.messages[0]).toMatchObject({
      type: 'authenticated',
      user: { username: 'admin', permissions: expect.arrayContaining(['tags:read']) },
    });
    c.send({ type: 'subscribe', id: 's1', tags: ['Line1.Speed', 'Tank1.Level'] });
    await c.waitFor((m) => m.type === 'values');
    const iSub = c.messages.findIndex((m) => m.type === 'subscribed');
    const iVal = c.messages.findIndex((m) => m.type === 'values');
    expect(c.messages[iSub]).toEqual({ type: 'subscribed', id: 's1', count: 2 });
    expect(iSub).toBeLessThan(iVal);
    expect(c.messages[iVal]!.items).toEqual(
      expect.arrayContaining([
        { name: 'Line1.Speed', value: 1, quality: 'GOOD', qualityCode: 192, subStatus: 'NON_SPECIFIC', timestamp: expect.any(String) },
      ]),
    );
    set('Line1.Speed', 42);
    set('Line2.Speed', 42); // not subscribed
    await until(() => c.latest().get('Line1.Speed') === 42 || undefined, 'the change');
    expect(c.values().map(([n]) => n)).not.toContain('Line2.Speed');
    c.close();
  });

  it('first-message auth, glob subscription and deadband', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca);
    c.send({ type: 'auth', token: adminToken });
    await c.waitFor((m) => m.type === 'authenticated');
    c.send({ type: 'subscribe', id: 'g', tags: ['Line1.**'], deadband: 5 });
    const sub = await c.waitFor((m) => m.type === 'subscribed');
    expect(sub.count).toBe(3);
    await c.waitFor((m) => m.type === 'values');
    set('Line1.Filler.Level', 1);
    set('Line1.Speed', 100);
    await until(() => c.latest().get('Line1.Speed') === 100 || undefined, 'first value');
    const before = c.values().length;
    set('Line1.Speed', 103); // within 5 of 100
    set('Line1.Speed', 104);
    set('Line1.Speed', 106); // more than 5 from 100
    await until(() => c.latest().get('Line1.Speed') === 106 || undefined, 'value past the deadband');
    expect(c.values().slice(before)).toEqual([['Line1.Speed', 106]]);
    c.close();
  });

  it('permissions filter a ** subscription; re-authentication on the open socket widens it', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca, { authorization: `Bearer ${viewerToken}` });
    c.send({ type: 'subscribe', id: 'all', tags: ['**'] });
    expect((await c.waitFor((m) => m.type === 'subscribed')).count).toBe(3);
    await c.waitFor((m) => m.type === 'values');
    set('Tank1.Level', 7);
    set('Line1.Filler.Level', 8);
    await until(() => c.latest().get('Line1.Filler.Level') === 8 || undefined, 'permitted change');
    expect([...c.latest().keys()].sort()).toEqual(['Line1.Filler.Level', 'Line1.Speed', 'Line1.Stop']);
    c.send({ type: 'write', id: 'w', items: [{ name: 'Line1.Speed', value: 3 }] });
    expect(await c.waitFor((m) => m.type === 'written')).toEqual({
      type: 'written',
      id: 'w',
      items: [{ name: 'Line1.Speed', error: { code: 'FORBIDDEN', message: expect.any(String) } }],
    });
    c.send({ type: 'auth', token: adminToken });
    await c.waitFor((m) => m.type === 'authenticated' && (m.user as { username: string }).username === 'admin');
    await until(() => c.latest().has('Tank1.Level') || undefined, 'newly permitted tags');
    c.close();
  });

  it('writes through the socket and sees the written value pushed', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca, bearer);
    c.send({ type: 'subscribe', id: 's', tags: ['Line2.Speed'] });
    await c.waitFor((m) => m.type === 'values');
    c.send({
      type: 'write',
      id: 'w1',
      items: [
        { name: 'Line2.Speed', value: 55.5 },
        { name: 'Tank1.Pump', value: true },
        { name: 'Nope', value: 1 },
        { name: 'Line2.Speed', value: 'x' },
      ],
    });
    const w = await c.waitFor((m) => m.type === 'written');
    expect(w.items).toEqual([
      { name: 'Line2.Speed', status: 'OK' },
      { name: 'Tank1.Pump', error: { code: 'READ_ONLY', message: expect.any(String) } },
      { name: 'Nope', error: { code: 'TAG_NOT_FOUND', message: expect.any(String) } },
      { name: 'Line2.Speed', error: { code: 'TYPE_MISMATCH', message: expect.any(String) } },
    ]);
    await until(() => c.latest().get('Line2.Speed') === 55.5 || undefined, 'written value');
    c.close();
  });

  it('bad messages get an error with a code; protocol pings are answered', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca, bearer);
    await c.waitFor((m) => m.type === 'authenticated');
    c.send('{not json');
    c.send({ type: 'subscribe', id: 'x', tags: [] });
    c.send({ type: 'subscribe', id: 'y', tags: ['NoSuchTag'] });
    c.send({ type: 'frobnicate' });
    c.send({ type: 'unsubscribe', id: 'never' });
    c.send({ type: 'subscribe', id: 'z', tags: ['Line1.Speed'], deadband: 1, deadbandPercent: 1 });
    await until(() => c.messages.filter((m) => m.type === 'error').length >= 6 || undefined, 'six errors');
    expect(c.messages.filter((m) => m.type === 'error').map((m) => [m.id, m.code])).toEqual([
      [null, 'VALIDATION_FAILED'],
      ['x', 'VALIDATION_FAILED'],
      ['y', 'TAG_NOT_FOUND'],
      [null, 'VALIDATION_FAILED'],
      ['never', 'NOT_FOUND'],
      ['z', 'VALIDATION_FAILED'],
    ]);
    const pong = new Promise<string>((r) => c.ws.once('pong', (d) => r(d.toString())));
    c.ws.ping('hello');
    expect(await pong).toBe('hello');
    expect(c.closed).toBeUndefined();
    c.close();
  });

  it('unauthenticated sockets are closed with a clear reason', async () => {
    const bad = await WsClient.open(s.wsUrl, s.ca, { authorization: 'Bearer wrong' });
    expect(await bad.waitClosed()).toEqual({ code: PUSH_CLOSE.UNAUTHENTICATED, reason: expect.stringContaining('log in again') });
    expect(bad.messages).toEqual([{ type: 'error', id: null, code: 'UNAUTHENTICATED', message: expect.any(String) }]);
    const early = await WsClient.open(s.wsUrl, s.ca);
    early.send({ type: 'subscribe', id: 's', tags: ['**'] });
    expect(await early.waitClosed()).toEqual({
      code: PUSH_CLOSE.UNAUTHENTICATED,
      reason: expect.stringContaining('authentication required'),
    });
    const silent = await WsClient.open(s.wsUrl, s.ca);
    expect((await silent.waitClosed()).code).toBe(PUSH_CLOSE.UNAUTHENTICATED); // auth timeout (300 ms here)
    const cross = await WsClient.open(s.wsUrl, s.ca, { cookie: `tagway_session=${adminToken}`, origin: 'https://evil.example' });
    expect((await cross.waitClosed()).code).toBe(PUSH_CLOSE.UNAUTHENTICATED);
    const sameOrigin = await WsClient.open(s.wsUrl, s.ca, { cookie: `tagway_session=${adminToken}`, origin: s.url });
    await sameOrigin.waitFor((m) => m.type === 'authenticated');
    sameOrigin.close();
  });

  // The real alarm engine: writing the tags trips and clears alarms, whose committed journal events are pushed.
  const trip = async (name: 'Tank1.Level' | 'Line1.Stop', times: number) => {
    for (let i = 0; i < times; i++) {
      set(name, name === 'Tank1.Level' ? 80 : true);
      set(name, name === 'Tank1.Level' ? 10 : false);
    }
  };
  type Ev = { eventId: number; alarm: string; event: string; tag: string };
  const alarmEvents = (c: WsClient) => c.messages.filter((m) => m.type === 'alarm').map((m) => m.event as Ev);

  it('alarm events in order over WebSocket, filtered by subscription and permissions', async () => {
    const admin = await WsClient.open(s.wsUrl, s.ca, bearer);
    const watcher = await WsClient.open(s.wsUrl, s.ca, { authorization: `Bearer ${viewerToken}` });
    admin.send({ type: 'subscribeAlarms', id: 'a', alarm: 'Tank1.*' });
    watcher.send({ type: 'subscribeAlarms', id: 'v' });
    await admin.waitFor((m) => m.type === 'subscribed');
    await watcher.waitFor((m) => m.type === 'subscribed');
    await trip('Tank1.Level', 5);
    await trip('Line1.Stop', 1);
    await until(() => alarmEvents(admin).length === 10 || undefined, 'ten Tank1 events');
    const got = alarmEvents(admin);
    expect(got.map((e) => e.event)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'RAISED' : 'CLEARED')));
    expect(got.every((e) => e.alarm === 'Tank1.LevelHigh')).toBe(true);
    expect(got.map((e) => e.eventId)).toEqual([...got.map((e) => e.eventId)].sort((a, b) => a - b));
    // The watcher may read alarms of Line1.** only.
    await until(() => alarmEvents(watcher).length === 2 || undefined, "the watcher's events");
    expect(alarmEvents(watcher).map((e) => [e.alarm, e.event])).toEqual([
      ['Line1.Stop', 'RAISED'],
      ['Line1.Stop', 'CLEARED'],
    ]);
    admin.close();
    watcher.close();
  });

  it('SSE: values then changes, alarm events with ids, Last-Event-ID resume from the journal', async () => {
    const url = `${s.url}/events?tags=Line1.Speed,Tank1.*&alarms=true`;
    const { status, client } = await SseClient.open(url, s.agent, bearer);
    expect(status).toBe(200);
    await client.waitCount((e) => e.event === 'value', 3);
    set('Line1.Speed', 77);
    await client.waitFor((e) => e.event === 'value' && (JSON.parse(e.data) as { value: number }).value === 77);
    await trip('Line1.Stop', 1);
    const got = await client.waitCount((e) => e.event === 'alarm', 2);
    const ids = got.map((e) => Number(e.id));
    expect(got.map((e) => (JSON.parse(e.data) as Ev).eventId)).toEqual(ids);
    expect(ids[1]).toBeGreaterThan(ids[0]!);
    client.close();
    // Missed while away:
    await trip('Line1.Stop', 2);
    const again = await SseClient.open(`${s.url}/events?alarms=true`, s.agent, { ...bearer, 'last-event-id': String(ids[1]) });
    const resumed = await again.client.waitCount((e) => e.event === 'alarm', 4);
    expect(resumed.map((e) => (JSON.parse(e.data) as Ev).event)).toEqual(['RAISED', 'CLEARED', 'RAISED', 'CLEARED']);
    expect(resumed.map((e) => Number(e.id))).toEqual(resumed.map((e) => Number(e.id)).sort((a, b) => a - b));
    expect(Number(resumed[0]!.id)).toBeGreaterThan(ids[1]!);
    // The keep-alive comment (every 100 ms in this suite, 15 s by default) arrives on an idle stream.
    await until(() => again.client.comments >= 3 || undefined, 'keep-alive comments');
    again.client.close();
  });

  it('SSE refuses what it cannot serve with problem+json before streaming', async () => {
    expect((await SseClient.open(`${s.url}/events?tags=Line1.Speed`, s.agent)).status).toBe(401);
    const forbidden = await SseClient.open(`${s.url}/events?tags=Tank1.Level`, s.agent, { authorization: `Bearer ${viewerToken}` });
    expect(forbidden).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await SseClient.open(`${s.url}/events`, s.agent, bearer)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await SseClient.open(`${s.url}/events?alarms=true`, s.agent, { ...bearer, 'last-event-id': 'abc' })).toMatchObject({
      status: 400,
    });
  });
});

function bigProject(n: number): string {
  const tags = Array.from({ length: n }, (_, i) => `  - { name: Big.${i}, type: String, connection: internal }`).join('\n');
  return `name: Big\nconnections:\n  - { name: internal, driver: internal }\ntags:\n${tags}\n`;
}

describe('a client that stops reading', () => {
  let p: PushServer;
  let s: {
    wsUrl: string;
    ca: string;
    engine: { update(i: number, v: string, q: number): void };
    hub: PushServer['hub'] extends () => infer H ? H : never;
  };
  let token: string;
  const N = 2_000;
  const HIGH = 64 * 1024;
  beforeAll(async () => {
    p = await startPushServer(bigProject(N));
    p.hub().configure({ highWaterBytes: HIGH, lowWaterBytes: 8 * 1024, stallTimeoutMs: 60_000 });
    s = { wsUrl: p.wsUrl, ca: p.s.ca, engine: p.s.server.runtime.tags, hub: p.hub() };
    token = await p.s.login();
  });
  afterAll(async () => {
    await p.s.stop();
  });

  it('gets coalesced latest values after it resumes; the server buffer stays bounded meanwhile', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca, { authorization: `Bearer ${token}` });
    c.send({ type: 'subscribe', id: 'big', tags: ['Big.*'] });
    await until(() => c.latest().size === N || undefined, 'snapshot');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const pad = 'x'.repeat(300);
    let maxBuffered = 0;
    let round = 0;
    // Change every tag until the server has seen the congestion, then keep going a while longer.
    const deadline = Date.now() + 20_000;
    let congestedRounds = 0;
    while (congestedRounds < 30 && Date.now() < deadline) {
      round++;
      for (let i = 0; i < N; i++) s.engine.update(i, `${round}:${pad}`, Quality.GOOD);
      await new Promise((r) => setTimeout(r, 5));
      const st = s.hub.currentStats();
      maxBuffered = Math.max(maxBuffered, st.bufferedBytes);
      if (st.congested > 0) congestedRounds++;
    }
    const stats = s.hub.currentStats();
    expect(stats.congested).toBe(1);
    expect(stats.pendingValues).toBeLessThanOrEqual(N); // one slot per tag however many rounds
    // The user-space buffer never exceeds the mark by more than one batch (1,000 values of ~380 bytes).
    expect(maxBuffered).toBeLessThan(HIGH + 1_000 * 400 + 64 * 1024);
    socket.resume();
    await until(
      () => (c.latest().get(`Big.${N - 1}`) === `${round}:${pad}` && c.latest().get('Big.0') === `${round}:${pad}`) || undefined,
      'latest values after resume',
      20_000,
    );
    const final = c.latest();
    for (let i = 0; i < N; i++) expect(final.get(`Big.${i}`)).toBe(`${round}:${pad}`);
    // Far fewer value items than changes made: the rounds in between were coalesced.
    expect(c.values().length).toBeLessThan(N * round);
    c.close();
  });
});

describe('a client that never reads again', () => {
  let p: PushServer;
  let s: {
    wsUrl: string;
    ca: string;
    engine: { update(i: number, v: string, q: number): void };
    hub: PushServer['hub'] extends () => infer H ? H : never;
  };
  let token: string;
  beforeAll(async () => {
    p = await startPushServer(bigProject(500));
    p.hub().configure({ highWaterBytes: 16 * 1024, lowWaterBytes: 1024, stallTimeoutMs: 300, congestionCheckMs: 20 });
    s = { wsUrl: p.wsUrl, ca: p.s.ca, engine: p.s.server.runtime.tags, hub: p.hub() };
    token = await p.s.login();
  });
  afterAll(async () => {
    await p.s.stop();
  });

  it('is dropped after the stall timeout', async () => {
    const c = await WsClient.open(s.wsUrl, s.ca, { authorization: `Bearer ${token}` });
    c.send({ type: 'subscribe', id: 'big', tags: ['Big.*'] });
    await until(() => c.latest().size === 500 || undefined, 'snapshot');
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const pad = 'y'.repeat(500);
    for (let round = 1; s.hub.currentStats().droppedConnections === 0; round++) {
      if (round > 2_000) throw new Error('never dropped');
      for (let i = 0; i < 500; i++) s.engine.update(i, `${round}:${pad}`, Quality.GOOD);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(s.hub.currentStats()).toMatchObject({ connections: 0, droppedConnections: 1 });
    c.close();
  });
});
