import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Finding 9: a validation error must not be larger than a few KB, whatever the request. Before the fix a 0.98 MB
 * login body with 90,000 unknown fields got a 6.9 MB answer, an authenticated 0.9 MB body a 57 MB one, and five
 * clients sending them added 2 GB of RSS.
 */
describe('error amplification', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startTestServer();
    token = await s.login();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const loginBody = () => {
    const o: Record<string, unknown> = { username: 'admin' };
    for (let i = 0; i < 90_000; i++) o[`f${i}`] = 0;
    const text = JSON.stringify(o);
    expect(text.length).toBeGreaterThan(900_000);
    expect(text.length).toBeLessThan(1_048_576);
    return text;
  };
  // Every item wrong twice over (an unknown field and a missing value), and the array too long: ~200,000 errors.
  const writeBody = () => {
    const text = JSON.stringify({ items: Array.from({ length: 75_000 }, (_, i) => ({ n: i })) });
    expect(text.length).toBeGreaterThan(800_000);
    expect(text.length).toBeLessThan(1_048_576);
    return text;
  };

  it('answers an unauthenticated login with 90,000 unknown fields with a small 400', async () => {
    const r = await s.request('POST', '/auth/login', { rawBody: loginBody(), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('VALIDATION_FAILED');
    expect(r.text.length).toBeLessThan(8 * 1024);
    expect(r.json.errors).toHaveLength(20);
    expect(r.json.errors[0]).toEqual({ field: expect.stringMatching(/^body\./), message: expect.any(String) });
    expect(r.json.omittedErrors).toBeGreaterThan(89_000);
    expect(r.json.detail).toMatch(/and \d+ more$/);
  });

  it('answers an authenticated 0.9 MB body of bad items with a small 400', async () => {
    const r = await s.request('PUT', '/tags/values', { token, rawBody: writeBody(), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('VALIDATION_FAILED');
    expect(r.text.length).toBeLessThan(8 * 1024);
    expect(r.json.errors.length).toBeLessThanOrEqual(20);
    expect(r.json.omittedErrors).toBeGreaterThan(0);
  });

  it('cuts long field names and messages', async () => {
    const r = await s.request('POST', '/auth/login', {
      body: { username: 'admin', password: 'x', ['k'.repeat(500_000)]: 1 },
    });
    expect(r.status).toBe(400);
    expect(r.text.length).toBeLessThan(4 * 1024);
    expect(r.json.errors[0].field.length).toBeLessThanOrEqual(120);
    expect(r.json.omittedErrors).toBeUndefined();
  });

  it('keeps RSS flat and /health responsive with 5 clients sending them', { timeout: 60_000 }, async () => {
    const login = loginBody();
    const write = writeBody();
    const round = () =>
      Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          i % 2 === 0
            ? s.request('POST', '/auth/login', { rawBody: login, headers: { 'content-type': 'application/json' } })
            : s.request('PUT', '/tags/values', { token, rawBody: write, headers: { 'content-type': 'application/json' } }),
        ),
      );
    await round(); // warm up (JIT, buffers)
    global.gc?.();
    const before = process.memoryUsage().rss;
    let largest = 0;
    let slowestHealth = 0;
    for (let n = 0; n < 4; n++) {
      const t0 = performance.now();
      const [replies, health] = await Promise.all([
        round(),
        (async () => {
          const h0 = performance.now();
          const h = await s.request('GET', '/health');
          slowestHealth = Math.max(slowestHealth, performance.now() - h0);
          return h;
        })(),
      ]);
      expect(health.status).toBe(200);
      for (const r of replies) {
        expect(r.status).toBe(400);
        largest = Math.max(largest, r.text.length);
      }
      expect(performance.now() - t0).toBeLessThan(20_000);
    }
    const grown = process.memoryUsage().rss - before;
    expect(largest).toBeLessThan(8 * 1024);
    // 20 requests of ~1 MB each: before the fix this grew by gigabytes; allow for GC timing.
    expect(grown).toBeLessThan(300 * 1024 * 1024);
    expect(slowestHealth).toBeLessThan(5_000);
  });
});
