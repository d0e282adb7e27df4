import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { attackInWorker, probeDuring } from './tags-probe.js';

/**
 * Issue 11, finding 13: one viewer with 20 connections of 10,000-name bulk reads pushed /health to a 0.5–3 s median.
 * Now each principal has at most --max-concurrent-bulk (default 4) large bulk requests in flight; more get 429 with
 * Retry-After at once, before their body is read.
 */
describe('per-principal bulk budget (finding 13)', () => {
  let s: TestServer;
  let admin: string;
  let viewer: string;
  beforeAll(async () => {
    s = await startTestServer();
    [admin, viewer] = await Promise.all([s.login(), s.login('viewer', 'viewer-password')]);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const body = JSON.stringify({ names: Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 'T.Limited' : 'Sim.Sine')) });
  const bulkRead = (token: string) =>
    s.request('POST', '/tags/values', { token, rawBody: body, headers: { 'content-type': 'application/json' } });

  it('20 parallel 10,000-name reads of one viewer: some get 429 with Retry-After, /health and other users stay served', async () => {
    let otherUser = 0;
    const admins = async () => {
      // The budget is per principal: another user's bulk reads during the attack are not refused.
      for (let i = 0; i < 3; i++) {
        const r = await bulkRead(admin);
        expect(r.status).toBe(200);
        otherUser++;
      }
    };
    const attack = attackInWorker(s, { token: viewer, method: 'POST', path: '/tags/values', body, loops: 20, durationMs: 2_000 });
    const probe = await probeDuring(s, admin, 'T.Limited', Promise.all([attack, admins()]));
    const result = await attack;
    expect(probe.failures).toEqual([]);
    expect(probe.maxMs).toBeLessThan(2_000);
    expect(result.errors).toBe(0);
    expect(Object.keys(result.statuses).sort()).toEqual(['200', '429']);
    expect(JSON.parse(result.samples['429']!)).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
    expect(result.samples['200']).toMatch(/^\{"items":\[\{"name":"Sim\.Sine","value":/);
    expect(result.retryAfter).toEqual(['1']);
    expect(otherUser).toBe(3);
    // Every slot was given back: four parallel reads now all succeed.
    const after = await Promise.all(Array.from({ length: 4 }, () => bulkRead(viewer)));
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  }, 30_000);

  it('small bulk requests (an HMI polling in parallel) never wait for the budget', async () => {
    const small = Array.from({ length: 30 }, () =>
      s.request('POST', '/tags/values', { token: viewer, body: { names: ['T.Limited', 'Sim.Sine'] } }),
    );
    expect((await Promise.all(small)).map((r) => r.status)).toEqual(Array(30).fill(200));
  });

  it('bulk writes share the budget, and a refused one writes nothing', async () => {
    const bodyOf = (k: number) =>
      JSON.stringify({ items: Array.from({ length: 2_500 }, (_, i) => ({ name: 'T.Int32', value: k * 10_000 + i })) });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        s.request('PUT', '/tags/values', { token: admin, rawBody: bodyOf(k), headers: { 'content-type': 'application/json' } }),
      ),
    );
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c !== 200 && c !== 429)).toEqual([]);
    const written = codes.flatMap((c, k) => (c === 200 ? [k * 10_000 + 2_499] : []));
    expect(written.length).toBeGreaterThan(0);
    expect(written).toContain((await s.request('GET', '/tags/T.Int32/value', { token: admin })).json.value);
  }, 30_000);
});
