import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { FakeDynamics, FakeSap, FakeWebhook } from '../../helpers/fake-erp.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { exportsProject, SECRETS } from './project.js';

/**
 * A scheduled shift report that meets a full outbox (maxPending 2, the webhook down) is held, not lost: it and the
 * next shift's wait across a restart of Tagway and are enqueued and delivered in order, after the entries before
 * them, once the target drains. The retries of a held period count once in tagway_exports_outbox_full_total.
 */
describe('a scheduled run against a full outbox', () => {
  const hook = new FakeWebhook(SECRETS.TAGWAY_TEST_HOOK_SECRET);
  const sap = new FakeSap(SECRETS.TAGWAY_TEST_SAP_USER, SECRETS.TAGWAY_TEST_SAP_PASSWORD);
  const d365 = new FakeDynamics(SECRETS.TAGWAY_TEST_D365_ID, SECRETS.TAGWAY_TEST_D365_SECRET);
  // 11:30 in Berlin; the Early shift ends at 13:00 UTC (14:00 local), its report runs 60 s later.
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 10, 30));
  let s: TestServer;
  let token: string;
  const metric = async (name: string) => {
    const r = await s.request('GET', '/metrics', { token });
    return r.text.split('\n').find((l) => l.startsWith(name));
  };
  /** Moves the manual clock in steps (retry back-offs and the scheduler's retries run on it) until `f` holds. */
  const until = <T>(f: () => Promise<T | undefined | false> | T | undefined | false, what: string) =>
    waitUntil(async () => {
      clock.advance(500);
      return f();
    }, what);

  beforeAll(async () => {
    await Promise.all([hook.start(), sap.start(), d365.start()]);
    s = await startTestServer({
      clock,
      projectYaml: exportsProject({
        webhook: hook.url,
        sap: sap.url,
        dynamics: d365.url,
        ca: hook.caFile,
        timeoutMs: 30_000,
        hookMaxPending: 2,
      }),
    });
    token = await s.login();
  });
  afterAll(async () => {
    await s?.stop();
    await Promise.all([hook.stop(), sap.stop(), d365.stop()]);
  });

  it('holds the period across a restart and delivers it in order when the target drains', async () => {
    await hook.stop();
    const keys: string[] = [];
    for (const i of [1, 2]) {
      const from = new Date(clock.now() - 3_600_000 + i * 1000).toISOString();
      const r = await s.request('POST', '/exports/reports/prod/run', { token, body: { from, to: new Date(clock.now()).toISOString() } });
      expect(r.status, r.text).toBe(200);
      keys.push(r.json.entries[0].key);
    }
    // The Early shift ends with the outbox full: the scheduled run is refused and held.
    clock.advance(Date.UTC(2026, 0, 15, 13, 1) - clock.now());
    token = await s.login();
    await waitUntil(async () => (await metric('tagway_exports_periods_held{'))?.endsWith(' 1'), 'the Early period held');
    expect(await metric('tagway_exports_held_total')).toBe('tagway_exports_held_total 1');
    // The exports metrics are a snapshot recounted every 2 s (of the manual clock).
    const refusals = async () => Number((await metric('tagway_exports_outbox_full_total'))?.split(' ')[1]);
    expect(await until(async () => (await refusals()) || undefined, 'the refusal counted')).toBe(1);
    const early = 'prod/2026-01-15T05:00:00.000Z/2026-01-15T13:00:00.000Z/hook';
    const late = 'prod/2026-01-15T13:00:00.000Z/2026-01-15T21:00:00.000Z/hook';
    const listed = async () =>
      ((await s.request('GET', '/exports/outbox?target=hook', { token })).json.items as { key: string; state: string }[]).map((e) => e.key);
    expect(await listed()).not.toContain(early);

    // Still full at the Late shift's end: the Early period, tried again every 10 s, is refused again with the Late one
    // waiting behind it. One period refused, however often: the metric still counts 1.
    clock.advance(Date.UTC(2026, 0, 15, 21, 1) - clock.now());
    token = await s.login();
    await until(async () => (await metric('tagway_exports_periods_held{'))?.endsWith(' 2'), 'the Late period held behind it');
    for (let i = 0; i < 12; i++) {
      clock.advance(500);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await refusals()).toBe(1);

    // A restart while still full: the period is found again as not yet enqueued.
    await s.restart();
    token = await s.login();
    await until(async () => (await metric('tagway_exports_periods_held{'))?.endsWith(' 2'), 'held after the restart');
    expect(await listed()).not.toContain(early);

    // The target comes back: the two entries drain, then the held periods are enqueued and delivered after them.
    await hook.start();
    await until(() => hook.bookings.some((b) => b.key === late), 'the Late shift report delivered');
    const order = [...new Set(hook.bookings.map((b) => b.key))];
    expect(order).toEqual([...keys, early, late]);
    const booked = hook.bookings.find((b) => b.key === early)!;
    expect(booked.body.period).toEqual({ start: '2026-01-15T05:00:00.000Z', end: '2026-01-15T13:00:00.000Z', shift: 'Early' });
    await until(async () => (await metric('tagway_exports_periods_held{')) === undefined, 'nothing held any more');
  });
});
