import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDynamics, FakeSap, FakeWebhook } from '../../helpers/fake-erp.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { exportsProject, SECRETS } from './project.js';

/**
 * A webhook with `inFlight: 4`: requests are pipelined, and the order guarantee is that entry k+1 is never marked
 * delivered before entry k unless k is dead. Entry k failing while k+1… are in flight: k is retried first, the
 * answers to k+1… are not kept, and they are sent again after k with the same keys, so the last booking of every
 * key at the receiver comes in period order.
 */
describe('exports with requests in flight', () => {
  const hook = new FakeWebhook(SECRETS.TAGWAY_TEST_HOOK_SECRET);
  const sap = new FakeSap(SECRETS.TAGWAY_TEST_SAP_USER, SECRETS.TAGWAY_TEST_SAP_PASSWORD);
  const d365 = new FakeDynamics(SECRETS.TAGWAY_TEST_D365_ID, SECRETS.TAGWAY_TEST_D365_SECRET);
  let s: TestServer;
  let token: string;
  let k = 0;
  const run = async (report: string) => {
    const from = Date.now() - 3_600_000 + ++k * 1000;
    const r = await s.request('POST', `/exports/reports/${report}/run`, {
      token,
      body: { from: new Date(from).toISOString(), to: new Date(from + 7_200_000).toISOString() },
    });
    expect(r.status, r.text).toBe(200);
    return r.json.entries[0] as { id: number; key: string };
  };
  const entry = async (id: number) => (await s.request('GET', `/exports/outbox/${id}`, { token })).json;

  beforeAll(async () => {
    await Promise.all([hook.start(), sap.start(), d365.start()]);
    s = await startTestServer({
      projectYaml: exportsProject({
        webhook: hook.url,
        sap: sap.url,
        dynamics: d365.url,
        ca: hook.caFile,
        timeoutMs: 5000,
        hookInFlight: 4,
      }),
    });
    token = await s.login();
  });
  afterAll(async () => {
    await s?.stop();
    await Promise.all([hook.stop(), sap.stop(), d365.stop()]);
  });

  it('a failure of entry k while k+1… are in flight: k first, then k+1… again; marks in order', async () => {
    await hook.stop();
    const entries: { id: number; key: string }[] = [];
    for (let i = 0; i < 7; i++) entries.push(await run('prod'));
    await waitUntil(async () => (await entry(entries[0]!.id)).attempts >= 2, 'the head retried while the target is down');
    // Behind a failing head nothing else was tried: one probe at a time.
    for (const e of entries.slice(1)) expect((await entry(e.id)).attempts).toBe(0);
    // Back: the head (alone) is booked, then 1–4 are sent together and 1 fails with a 500 while 2–4 are in flight.
    hook.script = ['ok', 500];
    await hook.start();
    const keys = entries.map((e) => e.key);
    await waitUntil(async () => (await entry(entries[6]!.id)).state === 'delivered', 'every entry delivered', 30_000);
    const posts = hook.posts.map((p) => p.key!).filter((x) => keys.includes(x));
    // On the wire: head, 1 (500), 2, 3, 4 (answered, not kept), 1 again, then 2… in order.
    expect(posts.slice(0, 6)).toEqual([keys[0], keys[1], keys[2], keys[3], keys[4], keys[1]]);
    expect(posts.slice(6)).toEqual(keys.slice(2));
    const details = await Promise.all(entries.map((e) => entry(e.id)));
    expect(details.map((d) => d.state)).toEqual(Array(7).fill('delivered'));
    // Only kept answers count: entry 1 has its 500 and its 200; 2–4 one 200 each, the one after 1's success.
    expect(details[1].attemptLog.map((a: { status: number }) => a.status)).toEqual([500, 200]);
    for (const d of details.slice(2)) expect(d.attemptLog.map((a: { status: number }) => a.status)).toEqual([200]);
    // Marked delivered in id order.
    const at = details.map((d) => Date.parse(d.deliveredAt));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(Date.parse(details[2].attemptLog[0].at)).toBeGreaterThanOrEqual(Date.parse(details[1].attemptLog[1].at));
    // The receiver's last booking of each key comes in period order.
    const last = keys.map((key) => hook.bookings.map((b) => b.key).lastIndexOf(key));
    expect([...last].sort((a, b) => a - b)).toEqual(last);
    expect(new Set(hook.posts.filter((p) => p.key === keys[3]).map((p) => JSON.stringify(p.body))).size).toBe(1);
  });
});
