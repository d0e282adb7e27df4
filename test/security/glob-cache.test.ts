// Finding 4 (issue 11): a WebSocket `subscribe` (or `subscribeAlarms`) with a 1 MiB unique glob added ~15 MB to a
// process-wide cache of up to 10,000 entries, kept after the socket closed. Now every glob is at most 1,024
// characters at its root (compileGlob), subscriptions are budgeted, and the cache is bounded by bytes.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GLOB_CACHE_BYTES, globCacheStats, MAX_GLOB_LENGTH } from '../../src/domain/glob.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SseClient, until, WsClient } from '../integration/push/clients.js';

const PROJECT = `
name: Glob attack plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Line1.Speed, type: Float64, connection: internal }
  - { name: Line1.Level, type: Float64, connection: internal }
  - { name: Tank1.Level, type: Float64, connection: internal }
alarms:
  - { name: Tank1.LevelHigh, number: 1, class: Warning, priority: 6, tag: Tank1.Level, limit: { type: H, value: 50 }, text: "high" }
`;

// Measuring retained memory needs a full collection first; the flag can be set at run time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;
const settledRss = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().rss;
};

describe('glob cache and glob length budgets (issue 11, finding 4)', () => {
  let s: TestServer;
  let token: string;
  let wsUrl: string;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    token = await s.login();
    wsUrl = `${s.url.replace('https:', 'wss:')}/ws`;
  });
  afterAll(async () => {
    await s.stop();
  });

  /** Probes /health while `attack` runs; returns the slowest answer in ms. */
  async function probing(attack: () => Promise<void>): Promise<number> {
    let worst = 0;
    let done = false;
    const probe = (async () => {
      while (!done) {
        const t0 = Date.now();
        const r = await s.request('GET', '/health');
        expect(r.status).toBe(200);
        worst = Math.max(worst, Date.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await attack();
    } finally {
      done = true;
      await probe;
    }
    return worst;
  }

  it('60 WebSocket messages with 1 MiB unique globs are refused; RSS stays flat and nothing is kept after close', async () => {
    const before = await settledRss();
    const c = await WsClient.open(wsUrl, s.ca, { authorization: `Bearer ${token}` });
    await c.waitFor((m) => m.type === 'authenticated');
    // Just under the 1 MiB message limit, so that the glob itself is what is judged.
    const glob = (i: number) => `${i}.${'a'.repeat(MiB - 300)}.**.*`;
    const worst = await probing(async () => {
      for (let i = 0; i < 60; i++) {
        const id = `m${i}`;
        c.send(i % 3 === 2 ? { type: 'subscribeAlarms', id, alarm: glob(i) } : { type: 'subscribe', id, tags: [glob(i)] });
        const answer = await c.waitFor((m) => m.id === id, `answer to ${id}`);
        expect(answer).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
        expect(JSON.stringify(answer).length).toBeLessThan(2_000); // the glob is not echoed back
      }
    });
    expect(worst).toBeLessThan(2_000);
    expect(c.closed).toBeUndefined();
    expect(globCacheStats().bytes).toBeLessThanOrEqual(DEFAULT_GLOB_CACHE_BYTES);
    expect((await settledRss()) - before).toBeLessThan(50 * MiB);
    c.close();
    await until(() => s.server.engines.push.hub.currentStats().connections === 0 || undefined, 'the socket gone');
    expect((await settledRss()) - before).toBeLessThan(50 * MiB);
  });

  it('thousands of unique globs at the length limit keep the cache within its byte budget', async () => {
    const before = await settledRss();
    const c = await WsClient.open(wsUrl, s.ca, { authorization: `Bearer ${token}` });
    await c.waitFor((m) => m.type === 'authenticated');
    // 20 subscriptions × 100 unique globs of 1,024 characters: ~50 MB of compiled globs without a byte bound.
    const worst = await probing(async () => {
      for (let i = 0; i < 20; i++) {
        const tags = Array.from({ length: 100 }, (_, j) => `${i}-${j}.${'b'.repeat(MAX_GLOB_LENGTH - 20)}*`.slice(0, MAX_GLOB_LENGTH));
        c.send({ type: 'subscribe', id: `s${i}`, tags });
        expect(await c.waitFor((m) => m.id === `s${i}`, `answer s${i}`)).toMatchObject({ type: 'subscribed', count: 0 });
        c.send({ type: 'unsubscribe', id: `s${i}` });
      }
    });
    expect(worst).toBeLessThan(2_000);
    const st = globCacheStats();
    expect(st.bytes).toBeLessThanOrEqual(DEFAULT_GLOB_CACHE_BYTES);
    expect(st.entries).toBeLessThan(2_000);
    expect((await settledRss()) - before).toBeLessThan(50 * MiB);
    c.close();
  });

  it('the other entry points refuse an over-long glob with 400 VALIDATION_FAILED', async () => {
    const long = `Line1.${'c'.repeat(MAX_GLOB_LENGTH)}*`;
    const bearer = { authorization: `Bearer ${token}` };
    const sse = await SseClient.open(`${s.url}/events?tags=${long}`, s.agent, bearer);
    expect(sse).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const sseAlarm = await SseClient.open(`${s.url}/events?alarms=true&alarm=${long}`, s.agent, bearer);
    expect(sseAlarm).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await s.request('GET', `/tags?filter=${long}`, { token })).toMatchObject({ status: 400, json: { code: 'VALIDATION_FAILED' } });
    expect(await s.request('GET', `/alarms/current?alarm=${long}`, { token })).toMatchObject({ status: 400 });
    const group = await s.request('POST', '/groups', {
      token,
      body: { name: 'longglob', permissions: [{ permission: 'tags:read', tags: long }] },
    });
    expect(group.status).toBe(400);
  });
});
