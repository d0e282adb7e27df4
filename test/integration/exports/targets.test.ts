import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDynamics, FakeSap, FakeWebhook } from '../../helpers/fake-erp.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { exportsProject, SECRETS } from './project.js';

/**
 * The three ERP targets against local HTTPS fakes: happy path, scripted 500 / stall past the timeout / 429 / 400,
 * the target stopped and restarted, CSRF and OAuth token expiry, in-order delivery, and the API's answers.
 */
describe('exports to ERP targets', () => {
  const hook = new FakeWebhook(SECRETS.TAGWAY_TEST_HOOK_SECRET);
  const sap = new FakeSap(SECRETS.TAGWAY_TEST_SAP_USER, SECRETS.TAGWAY_TEST_SAP_PASSWORD);
  const d365 = new FakeDynamics(SECRETS.TAGWAY_TEST_D365_ID, SECRETS.TAGWAY_TEST_D365_SECRET);
  let s: TestServer;
  let token: string;
  // Each run books its own period (a second later start), so that idempotency keys differ between tests; the
  // periods reach past now, so that they hold the history logged since the server started.
  let k = 0;
  const nextRange = () => {
    const from = Date.now() - 3_600_000 + ++k * 1000;
    return { from: new Date(from).toISOString(), to: new Date(from + 7_200_000).toISOString() };
  };
  const run = async (report: string, body: unknown = nextRange()) => {
    const r = await s.request('POST', `/exports/reports/${report}/run`, { token, body });
    expect(r.status, r.text).toBe(200);
    return r.json as { report: any; entries: { id: number; key: string; target: string }[] };
  };
  const entry = async (id: number) => (await s.request('GET', `/exports/outbox/${id}`, { token })).json;
  const settled = (id: number, state = 'delivered') =>
    waitUntil(async () => {
      const e = await entry(id);
      return e.state === state ? e : undefined;
    }, `entry ${id} ${state}`);

  beforeAll(async () => {
    await Promise.all([hook.start(), sap.start(), d365.start()]);
    s = await startTestServer({
      projectYaml: exportsProject({ webhook: hook.url, sap: sap.url, dynamics: d365.url, ca: hook.caFile, timeoutMs: 1500 }),
    });
    token = await s.login();
  });
  afterAll(async () => {
    await s?.stop();
    await Promise.all([hook.stop(), sap.stop(), d365.stop()]);
  });

  it('webhook: a signed JSON report with its idempotency key', async () => {
    const { report, entries } = await run('prod');
    expect(entries).toHaveLength(1);
    const e = await settled(entries[0]!.id);
    const got = hook.bookings.find((b) => b.key === entries[0]!.key)!;
    expect(got.body).toEqual(report);
    expect(Object.keys(got.body)).toEqual(['report', 'period', 'values', 'flags', 'generatedAt']);
    expect(got.body.period).toEqual({ start: expect.any(String), end: expect.any(String), shift: null });
    expect(got.body.values).toMatchObject({ lot: 'LOT-1', avgSpeed: 12.5, stops: 0 });
    expect(hook.badSignatures).toBe(0);
    expect(e.attemptLog.at(-1)).toEqual({ at: expect.any(String), status: 200, answer: '{"ok":true}' });
  });

  it('counts RAISED alarm events and time in state from real history', async () => {
    const from = new Date().toISOString();
    for (const v of [false, true, false, true]) {
      const w = await s.request('PUT', '/tags/Line1.Running/value', { token, body: { value: v } });
      expect(w.status, w.text).toBeLessThan(300);
    }
    await waitUntil(
      async () =>
        (await s.request('GET', `/alarms/archive?from=${encodeURIComponent(from)}&event=RAISED`, { token })).json.items?.length === 2,
      'two RAISED events in the journal',
    );
    const { report } = await run('prod', { from, to: new Date(Date.now() + 60_000).toISOString() });
    expect(report.values.stops).toBe(2);
    expect(report.values.runSeconds).toBeGreaterThan(0);
    expect(report.flags.stops).toBeUndefined();
  });

  it('runs a shift by name and date; a period already enqueued is not enqueued twice', async () => {
    const a = await run('prod', { shift: 'Night', date: '2026-03-28' });
    expect(a.report.period).toEqual({ start: '2026-03-28T21:00:00.000Z', end: '2026-03-29T04:00:00.000Z', shift: 'Night' });
    const b = await run('prod', { shift: 'Night', date: '2026-03-28' });
    expect(b.entries[0]!.id).toBe(a.entries[0]!.id);
    await settled(a.entries[0]!.id);
  });

  for (const [name, fake, report] of [
    ['webhook', hook, 'prod'],
    ['sap-odata', sap, 'sapReport'],
    ['dynamics', d365, 'd365Report'],
  ] as const) {
    it(`${name}: 500, a stall past the timeout and 429 are retried with the same key until delivered`, async () => {
      fake.script = [500, 'stall', 429];
      fake.failHeaders = { 'retry-after': '0' };
      const { entries } = await run(report);
      const e = await settled(entries[0]!.id);
      expect(e.attemptLog.map((a: { status: number | null }) => a.status)).toEqual([
        500,
        null,
        429,
        name === 'webhook' ? 200 : name === 'sap-odata' ? 201 : 204,
      ]);
      expect(e.attemptLog[1].answer).toMatch(/timeout/i);
      const posts = fake.posts.filter((p) => p.key === entries[0]!.key);
      expect(posts).toHaveLength(4);
      expect(new Set(posts.map((p) => JSON.stringify(p.body))).size).toBe(1);
      fake.failHeaders = {};
    });

    it(`${name}: a 400 is dead at once with the answer kept; retry delivers it`, async () => {
      fake.script = [400];
      const { entries } = await run(report);
      const dead = await settled(entries[0]!.id, 'dead');
      expect(dead.attempts).toBe(1);
      expect(dead.lastError).toBe('refused: HTTP 400');
      expect(dead.attemptLog[0]).toMatchObject({ status: 400, answer: '{"error":{"message":"scripted 400"}}' });
      const r = await s.request('POST', `/exports/outbox/${entries[0]!.id}/retry`, { token });
      expect(r.status).toBe(200);
      await settled(entries[0]!.id);
    });

    it(`${name}: stopped and restarted mid-run, the entry is delivered once it is back`, async () => {
      await fake.stop();
      const { entries } = await run(report);
      await waitUntil(async () => (await entry(entries[0]!.id)).attempts >= 1, 'a failed attempt while the target is down');
      await fake.start();
      const e = await settled(entries[0]!.id);
      expect(e.attemptLog.at(-1).status).toBeLessThan(300);
      expect(e.attemptLog[0].status).toBeNull();
    });
  }

  it('sap-odata: maps fields and constants; an expired session (403 CSRF) refetches the token once', async () => {
    const before = { fetches: sap.tokenFetches, refusals: sap.csrfRefusals };
    const { entries } = await run('sapReport');
    await settled(entries[0]!.id);
    const booked = sap.bookings.find((b) => b.key === entries[0]!.key)!;
    expect(booked.body).toEqual({ Plant: '1000', Quantity: expect.stringMatching(/^\d+$/), Lot: 'LOT-1', Ref: `TW-${entries[0]!.key}` });
    expect(booked.headers.authorization).toMatch(/^Basic /);
    sap.expireSessions();
    const second = await run('sapReport');
    const e = await settled(second.entries[0]!.id);
    expect(e.attempts).toBe(1);
    expect(sap.csrfRefusals).toBe(before.refusals + 1);
    expect(sap.tokenFetches).toBeGreaterThanOrEqual(before.fetches + 1);
  });

  it('dynamics: caches the token, refreshes it on 401, sends OData-Version 4.0', async () => {
    const first = await run('d365Report');
    await settled(first.entries[0]!.id);
    const tokens = d365.tokenRequests;
    const second = await run('d365Report');
    await settled(second.entries[0]!.id);
    expect(d365.tokenRequests).toBe(tokens);
    d365.expireTokens();
    const third = await run('d365Report');
    const e = await settled(third.entries[0]!.id);
    expect(e.attempts).toBe(1);
    expect(d365.tokenRequests).toBe(tokens + 1);
    const booked = d365.bookings.find((b) => b.key === third.entries[0]!.key)!;
    expect(booked.body).toEqual({ cr1_bottles: expect.any(Number), cr1_shift: null, cr1_key: third.entries[0]!.key });
    expect(booked.headers['odata-version']).toBe('4.0');
  });

  it('delivers a target in period order after an outage', async () => {
    await hook.stop();
    const ids: number[] = [];
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { entries } = await run('prod');
      ids.push(entries[0]!.id);
      keys.push(entries[0]!.key);
    }
    await waitUntil(async () => (await entry(ids[0]!)).attempts >= 2, 'the head retried while the target is down');
    // Later entries wait behind the head: never tried.
    expect((await entry(ids[3]!)).attempts).toBe(0);
    await hook.start();
    for (const id of ids) await settled(id);
    // First bookings per key (a receiver drops a repeated key): in period order.
    const order = [...new Set(hook.bookings.map((b) => b.key).filter((k) => keys.includes(k!)))];
    expect(order).toEqual(keys);
  });
});
