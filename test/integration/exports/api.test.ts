import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDynamics, FakeSap, FakeWebhook } from '../../helpers/fake-erp.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { exportsProject, SECRETS } from './project.js';

/** The exports API: each route's success, each error, each permission; audit rows and metrics. */
describe('exports API', () => {
  const hook = new FakeWebhook(SECRETS.TAGWAY_TEST_HOOK_SECRET);
  const sap = new FakeSap('x', 'y');
  const d365 = new FakeDynamics('x', 'y');
  let s: TestServer;
  let admin: string;
  let viewer: string;
  let outsider: string;
  const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };

  beforeAll(async () => {
    await Promise.all([hook.start(), sap.start(), d365.start()]);
    s = await startTestServer({
      projectYaml: exportsProject({ webhook: hook.url, sap: sap.url, dynamics: d365.url, ca: hook.caFile, hookMaxPending: 2 }),
    });
    [admin, viewer, outsider] = await Promise.all([
      s.login(),
      s.login('viewer', 'viewer-password'),
      s.login('outsider', 'outsider-password'),
    ]);
  });
  afterAll(async () => {
    await s?.stop();
    await Promise.all([hook.stop(), sap.stop(), d365.stop()]);
  });

  it('GET /shifts: DST-correct periods with local offsets; errors and permissions', async () => {
    const r = await s.request('GET', '/shifts?from=2026-10-24T20:00:00Z&to=2026-10-25T05:00:00Z', { token: viewer });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      timeZone: 'Europe/Berlin',
      items: [
        {
          name: 'Night',
          date: '2026-10-24',
          start: '2026-10-24T20:00:00.000Z',
          end: '2026-10-25T05:00:00.000Z',
          startLocal: '2026-10-24T22:00:00+02:00',
          endLocal: '2026-10-25T06:00:00+01:00',
          durationMs: 9 * 3_600_000,
        },
      ],
    });
    expect((await s.request('GET', '/shifts?from=2026-10-25T00:00:00Z&to=2026-10-24T00:00:00Z', { token: viewer })).json.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await s.request('GET', '/shifts?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', { token: viewer })).status).toBe(400);
    expect((await s.request('GET', '/shifts?from=yesterday', { token: viewer })).status).toBe(400);
    expect((await s.request('GET', '/shifts', { token: outsider })).status).toBe(403);
    expect((await s.request('GET', '/shifts')).status).toBe(401);
  });

  it('GET /exports/reports shows definitions and targets without secrets', async () => {
    const r = await s.request('GET', '/exports/reports', { token: viewer });
    expect(r.status).toBe(200);
    expect(r.json.reports.map((x: { name: string }) => x.name)).toEqual(['prod', 'sapReport', 'd365Report']);
    expect(r.json.targets).toEqual([
      { name: 'hook', kind: 'webhook', url: `${hook.url}/hooks/production` },
      { name: 'sap', kind: 'sap-odata', url: `${sap.url}/sap/opu/odata/sap/ZPP_CONFIRM_SRV/` },
      { name: 'd365', kind: 'dynamics', url: `${d365.url}/api/data/v9.2/` },
    ]);
    for (const secret of Object.values(SECRETS)) expect(r.text).not.toContain(secret);
    expect((await s.request('GET', '/exports/reports', { token: outsider })).status).toBe(403);
  });

  it('POST run: permissions, unknown report, bad bodies, unknown shift; runs are audited', async () => {
    expect((await s.request('POST', '/exports/reports/prod/run', { token: viewer, body: range })).status).toBe(403);
    expect((await s.request('POST', '/exports/reports/nope/run', { token: admin, body: range })).json.code).toBe('NOT_FOUND');
    expect((await s.request('POST', '/exports/reports/prod/run', { token: admin, body: { from: range.from } })).status).toBe(400);
    expect((await s.request('POST', '/exports/reports/prod/run', { token: admin, body: { from: range.to, to: range.from } })).status).toBe(
      400,
    );
    expect(
      (
        await s.request('POST', '/exports/reports/prod/run', {
          token: admin,
          body: { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
        })
      ).status,
    ).toBe(400);
    const noShift = await s.request('POST', '/exports/reports/prod/run', { token: admin, body: { shift: 'Brunch', date: '2026-12-01' } });
    expect(noShift.status).toBe(400);
    expect(noShift.json.errors[0].field).toBe('body.shift');
    const ok = await s.request('POST', '/exports/reports/prod/run', { token: admin, body: range });
    expect(ok.status).toBe(200);
    expect(ok.json.entries).toEqual([{ target: 'hook', id: expect.any(Number), key: expect.stringMatching(/^prod\//) }]);
    const audit = await s.request('GET', '/audit?action=exports.run', { token: admin });
    // Requests refused before they reach the service (schema, permission) leave no row; a run that happened does.
    expect(audit.json.items.map((i: { result: string; target: string }) => [i.result, i.target])).toEqual([['OK', 'prod']]);
  });

  it('GET /exports/outbox filters and pages; GET one entry; 404 and 400', async () => {
    for (let i = 0; i < 2; i++) {
      const from = new Date(Date.parse(range.from) + (i + 1) * 1000).toISOString();
      expect((await s.request('POST', '/exports/reports/d365Report/run', { token: admin, body: { from, to: range.to } })).status).toBe(200);
    }
    const all = (await s.request('GET', '/exports/outbox?report=d365Report', { token: viewer })).json;
    expect(all.items).toHaveLength(2);
    const p1 = (await s.request('GET', '/exports/outbox?report=d365Report&limit=1', { token: viewer })).json;
    expect(p1.items.map((i: { id: number }) => i.id)).toEqual([all.items[0].id]);
    const p2 = (await s.request('GET', `/exports/outbox?report=d365Report&limit=1&after=${p1.next}`, { token: viewer })).json;
    expect(p2.items.map((i: { id: number }) => i.id)).toEqual([all.items[1].id]);
    expect(p2.next).toBeNull();
    await waitUntil(
      async () => (await s.request('GET', '/exports/outbox?target=hook&state=delivered', { token: viewer })).json.items.length === 1,
      'delivered',
    );
    const one = await s.request('GET', `/exports/outbox/${all.items[0].id}`, { token: viewer });
    expect(one.json).toMatchObject({ target: 'd365', report: 'd365Report', payload: { cr1_shift: null } });
    expect((await s.request('GET', '/exports/outbox/987654', { token: viewer })).status).toBe(404);
    expect((await s.request('GET', '/exports/outbox/abc', { token: viewer })).status).toBe(400);
    expect((await s.request('GET', '/exports/outbox?state=lost', { token: viewer })).status).toBe(400);
    expect((await s.request('GET', '/exports/outbox', { token: outsider })).status).toBe(403);
  });

  it('retry and discard: states, permissions, audit; the per-target cap refuses with OUTBOX_FULL and a metric', async () => {
    const delivered = (await s.request('GET', '/exports/outbox?target=hook&state=delivered', { token: admin })).json.items[0];
    expect((await s.request('POST', `/exports/outbox/${delivered.id}/retry`, { token: admin })).json.code).toBe('INVALID_STATE');
    expect((await s.request('POST', `/exports/outbox/${delivered.id}/discard`, { token: admin })).status).toBe(409);
    expect((await s.request('POST', `/exports/outbox/${delivered.id}/retry`, { token: viewer })).status).toBe(403);
    expect((await s.request('POST', '/exports/outbox/987654/discard', { token: admin })).status).toBe(404);

    await hook.stop();
    const ids: number[] = [];
    for (let i = 1; i <= 2; i++) {
      const from = new Date(Date.parse(range.from) + i * 1000).toISOString();
      const r = await s.request('POST', '/exports/reports/prod/run', { token: admin, body: { from, to: range.to } });
      expect(r.status).toBe(200);
      ids.push(r.json.entries[0].id);
    }
    const full = await s.request('POST', '/exports/reports/prod/run', {
      token: admin,
      body: { from: new Date(Date.parse(range.from) + 9000).toISOString(), to: range.to },
    });
    expect(full.status).toBe(503);
    expect(full.json.code).toBe('OUTBOX_FULL');
    expect(full.json.detail).toMatch(/Target 'hook' has 2 entries waiting \(maxPending 2\)/);
    // The same period refused again is the same report not enqueued: the metric counts it once.
    const again = await s.request('POST', '/exports/reports/prod/run', {
      token: admin,
      body: { from: new Date(Date.parse(range.from) + 9000).toISOString(), to: range.to },
    });
    expect(again.json.code).toBe('OUTBOX_FULL');
    // Another period refused is another report not enqueued: counted too.
    const other = await s.request('POST', '/exports/reports/prod/run', {
      token: admin,
      body: { from: new Date(Date.parse(range.from) + 10_000).toISOString(), to: range.to },
    });
    expect(other.json.code).toBe('OUTBOX_FULL');

    const discarded = await s.request('POST', `/exports/outbox/${ids[1]}/discard`, { token: admin });
    expect(discarded.status).toBe(200);
    expect(discarded.json).toMatchObject({ state: 'dead', lastError: 'discarded by admin' });
    await hook.start();
    await waitUntil(
      async () => (await s.request('GET', `/exports/outbox/${ids[0]}`, { token: admin })).json.state === 'delivered',
      'delivered',
    );
    const retried = await s.request('POST', `/exports/outbox/${ids[1]}/retry`, { token: admin });
    expect(retried.status).toBe(200);
    await waitUntil(
      async () => (await s.request('GET', `/exports/outbox/${ids[1]}`, { token: admin })).json.state === 'delivered',
      'retried and delivered',
    );
    const audit = await s.request('GET', '/audit?action=exports.retry,exports.discard', { token: admin });
    expect(audit.json.items.map((i: { action: string; result: string }) => `${i.action} ${i.result}`)).toEqual([
      'exports.retry OK',
      'exports.discard OK',
      'exports.discard NOT_FOUND',
      'exports.discard INVALID_STATE',
      'exports.retry INVALID_STATE',
    ]);

    await waitUntil(async () => {
      const m = (await s.request('GET', '/metrics', { token: admin })).text;
      return m.includes('tagway_exports_outbox_entries{target="hook",state="delivered"} 3') && m;
    }, 'metrics recounted');
    const m = (await s.request('GET', '/metrics', { token: admin })).text;
    expect(m).toMatch(/tagway_exports_deliveries_total\{target="hook"\} 3/);
    expect(m).toMatch(/tagway_exports_outbox_full_total 2\n/);
    expect(m).toMatch(/tagway_exports_failed_attempts_total\{target="hook"\} [1-9]/);
  });
});
