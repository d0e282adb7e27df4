import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { FakeDynamics, FakeSap, FakeWebhook } from '../../helpers/fake-erp.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { exportsProject, SECRETS } from './project.js';

/** Triggers on a manual clock: a cron report fires at its occurrence in the calendar's zone, shiftEnd at a shift end. */
describe('export triggers', () => {
  const hook = new FakeWebhook(SECRETS.TAGWAY_TEST_HOOK_SECRET);
  const sap = new FakeSap('u', 'p');
  const d365 = new FakeDynamics('i', 's');
  // 11:30 in Berlin (UTC+1).
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 10, 30));
  let s: TestServer;

  beforeAll(async () => {
    await Promise.all([hook.start(), sap.start(), d365.start()]);
    s = await startTestServer({
      clock,
      projectYaml: exportsProject({
        webhook: hook.url,
        sap: sap.url,
        dynamics: d365.url,
        ca: hook.caFile,
        // Retries wait on the manual clock: a slow answer on a loaded machine must not time out.
        timeoutMs: 30_000,
        // Berlin time: 12:15 local is 11:15 UTC in January.
        extra: `    - { name: lunch, trigger: "15 12 * * *", delayMs: 1000, fields: [{ name: speed, tag: Line1.Speed, aggregate: avg }], targets: [hook] }`,
      }),
    });
  });
  afterAll(async () => {
    await s?.stop();
    await Promise.all([hook.stop(), sap.stop(), d365.stop()]);
  });

  it('fires a cron report at its occurrence in the calendar zone, for the period since the previous one', async () => {
    clock.advance(45 * 60_000 + 1000);
    const b = await waitUntil(() => hook.bookings.find((x) => x.body.report === 'lunch'), 'the lunch report');
    expect(b.body.period).toEqual({ start: '2026-01-14T11:15:00.000Z', end: '2026-01-15T11:15:00.000Z', shift: null });
    expect(b.body.generatedAt).toBe('2026-01-15T11:15:01.000Z');
    expect(b.key).toBe('lunch/2026-01-14T11:15:00.000Z/2026-01-15T11:15:00.000Z/hook');
  });

  it('fires a shiftEnd report for the shift that ended, after its delay', async () => {
    // Early (06:00–14:00 Berlin) ends at 13:00 UTC; delayMs 60 s.
    clock.advance(Date.UTC(2026, 0, 15, 13, 1) - clock.now());
    const b = await waitUntil(() => hook.bookings.find((x) => x.body.report === 'prod'), 'the Early shift report');
    expect(b.body.period).toEqual({ start: '2026-01-15T05:00:00.000Z', end: '2026-01-15T13:00:00.000Z', shift: 'Early' });
    expect(b.body.generatedAt).toBe('2026-01-15T13:01:00.000Z');
    // History began at 10:30 inside the shift: flagged, not filled.
    expect(b.body.flags.avgSpeed).toEqual(['partial']);
    expect(b.body.values.avgSpeed).toBe(12.5);
    expect(hook.bookings.filter((x) => x.body.report === 'prod')).toHaveLength(1);
  });
});
