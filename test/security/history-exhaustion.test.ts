/**
 * Finding 1 (issue 11): one user with `history:read` on one tag sent that tag 300 times with `limit: 100000` over
 * a day of 1 s data; the server built the whole answer in memory (4 GB RSS, /health unanswered, then out of heap).
 * Now tags are de-duplicated, the samples a request could answer are budgeted before any work, answers are streamed,
 * and a user has at most two history queries in flight.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TAGS = 20;
const PROJECT = `
name: History exhaustion
connections:
  - { name: internal, driver: internal }
tags:
${Array.from({ length: TAGS }, (_, i) => `  - { name: P.T${i}, type: Float64, connection: internal, history: { mode: onChange } }`).join('\n')}
groups:
  - name: oneTag
    permissions: [{ permission: "history:read", tags: "P.T0" }]
users:
  - { username: mallory, password: mallory-password, groups: [oneTag] }
`;

const DAY = 86_400;
const T0 = Date.UTC(2025, 2, 3);
const iso = (t: number) => new Date(t).toISOString();
const MB = 1024 * 1024;

describe('POST /history/query cannot exhaust memory (finding 1)', () => {
  let s: TestServer;
  let mallory: string;

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    mallory = await s.login('mallory', 'mallory-password');
    // A day of 1 s data, written straight into the server's store (as the historian would have).
    const store = s.server.runtime.storage.history;
    const id = await store.tagId('P.T0');
    for (let h = 0; h < 24; h++) {
      const n = 3600;
      await store.insertBatch({
        count: n,
        tagIds: new Array(n).fill(id),
        ts: Array.from({ length: n }, (_, k) => T0 + (h * 3600 + k) * 1000),
        values: Array.from({ length: n }, (_, k) => Math.sin((h * 3600 + k) / 600)),
        quality: new Array(n).fill(0xc0),
      });
    }
  }, 30_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('the same tag 300 times with a large limit: one bounded, streamed answer; RSS and /health hold; extra parallel queries get 429', async () => {
    const body = { tags: Array(300).fill('P.T0'), from: iso(T0), to: iso(T0 + DAY * 1000), limit: 100_000 };
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let worstHealthMs = 0;
    let attacking = true;
    const probe = (async () => {
      while (attacking) {
        const t = performance.now();
        const h = await s.request('GET', '/health');
        worstHealthMs = Math.max(worstHealthMs, performance.now() - t);
        expect(h.status).toBe(200);
        peak = Math.max(peak, process.memoryUsage().rss);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const answers = await Promise.all(Array.from({ length: 4 }, () => s.request('POST', '/history/query', { token: mallory, body })));
    attacking = false;
    await probe;
    peak = Math.max(peak, process.memoryUsage().rss);

    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 429);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + busy.length).toBe(4);
    for (const b of busy) {
      expect(b.json.code).toBe('TOO_MANY_REQUESTS');
      expect(b.headers['retry-after']).toBe('1');
    }
    for (const a of ok) {
      expect(a.json.items).toHaveLength(1);
      expect(a.json.items[0].name).toBe('P.T0');
      expect(a.json.items[0].items).toHaveLength(DAY);
      expect(a.json.items[0].next).toBeNull();
      expect(a.text.length).toBeLessThan(20 * MB);
      // Streamed: written in chunks as rows are read, never measured (and so never held) whole.
      expect(a.headers['transfer-encoding']).toBe('chunked');
      expect(a.headers['content-length']).toBeUndefined();
    }
    // Holding the answers themselves here costs ~10 MB each; the server side must add little beyond that.
    expect((peak - rss0) / MB).toBeLessThan(200);
    expect(worstHealthMs).toBeLessThan(2000);
  }, 60_000);

  it('a client that goes away mid-answer frees its slot: the server stops reading for it', async () => {
    const body = JSON.stringify({ tags: ['P.T0'], from: iso(T0), to: iso(T0 + DAY * 1000), limit: 100_000 });
    for (let i = 0; i < 2; i++) {
      const ac = new AbortController();
      const r = await request(`${s.url}/history/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mallory}`, 'content-type': 'application/json' },
        body,
        dispatcher: s.agent,
        signal: ac.signal,
      });
      expect(r.statusCode).toBe(200);
      for await (const _ of r.body) break; // one chunk, then hang up
      ac.abort();
    }
    // Both slots come back: two parallel queries are answered again (within a bounded wait).
    const small = { tags: ['P.T0'], from: iso(T0), to: iso(T0 + 10_000) };
    const deadline = Date.now() + 5000;
    let statuses: number[] = [];
    while (Date.now() < deadline) {
      statuses = (await Promise.all([1, 2].map(() => s.request('POST', '/history/query', { token: mallory, body: small })))).map(
        (r) => r.status,
      );
      if (statuses.every((x) => x === 200)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(statuses).toEqual([200, 200]);
  });

  it('many distinct tags × a large limit are refused with 413 before any data is read', async () => {
    const tags = Array.from({ length: TAGS }, (_, i) => `P.T${i}`);
    const t = performance.now();
    const r = await s.request('POST', '/history/query', {
      token: mallory,
      body: { tags, from: iso(T0), to: iso(T0 + DAY * 1000), limit: 100_000 },
    });
    expect(r.status).toBe(413);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.json.detail).toMatch(/2000000 samples \(20 tags × 100000\); at most 1000000/);
    expect(performance.now() - t).toBeLessThan(2000);
    // Within the budget the other tags answer FORBIDDEN, each alone; nothing outside the user's rights is read.
    const fine = await s.request('POST', '/history/query', {
      token: mallory,
      body: { tags, from: iso(T0), to: iso(T0 + 60_000), limit: 10 },
    });
    expect(fine.status).toBe(200);
    expect(fine.json.items[0].items).toHaveLength(10);
    expect(fine.json.items.slice(1).every((i: any) => i.error?.code === 'FORBIDDEN')).toBe(true);
  });

  it('aggregates over the budget are refused too, and CSV is streamed with the same bounds', async () => {
    const r = await s.request('POST', '/history/query', {
      token: mallory,
      body: { tags: ['P.T0'], from: iso(T0 - 400 * DAY * 1000), to: iso(T0 + DAY * 1000), interval: '1s', aggregate: 'avg' },
    });
    expect(r.status).toBe(400);
    expect(r.json.errors[0].field).toBe('body.interval');
    const csv = await s.request('POST', '/history/query?format=csv', {
      token: mallory,
      body: { tags: Array(300).fill('P.T0'), from: iso(T0), to: iso(T0 + DAY * 1000), limit: 100_000 },
    });
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe('name,timestamp,value,quality,qualityCode');
    expect(lines).toHaveLength(DAY + 2);
  }, 30_000);
});
