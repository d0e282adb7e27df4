import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('the dashboard at / and GET /auth/session', () => {
  let s: TestServer;
  const web = mkdtempSync(join(tmpdir(), 'tagway-web-'));
  beforeAll(async () => {
    mkdirSync(join(web, 'assets'));
    writeFileSync(
      join(web, 'index.html'),
      '<!doctype html><html><head><script type="module" src="/assets/index-AbCdEf12.js"></script></head><body></body></html>',
    );
    writeFileSync(join(web, 'assets', 'index-AbCdEf12.js'), 'console.log(1)');
    writeFileSync(join(web, 'manifest.webmanifest'), '{"name":"Tagway"}');
    s = await startTestServer({ config: { webDir: web } });
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(web, { recursive: true, force: true });
  });

  it('serves index.html at / without caching and with a strict CSP that allows only our own scripts', async () => {
    const r = await s.request('GET', '/', { headers: HTML });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.headers['cache-control']).toBe('no-cache');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(r.text).toContain('/assets/index-AbCdEf12.js');
    expect(r.headers['strict-transport-security']).toBeDefined();
  });

  it('caches hashed assets for a year, immutable; unknown assets are 404 problem+json', async () => {
    const a = await s.request('GET', '/assets/index-AbCdEf12.js');
    expect(a.status).toBe(200);
    expect(a.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(a.headers['content-type']).toMatch(/javascript/);
    const missing = await s.request('GET', '/assets/nope-12345678.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
    expect((await s.request('GET', '/assets/..%2Findex.html')).status).toBe(404);
    expect((await s.request('GET', '/manifest.webmanifest')).status).toBe(200);
  });

  it('answers a browser navigating to an app path with the app, and API clients with problem+json', async () => {
    const page = await s.request('GET', '/app/tags?filter=x', { headers: HTML });
    expect(page.status).toBe(200);
    expect(page.text).toContain('index-AbCdEf12.js');
    const api = await s.request('GET', '/app/tags');
    expect(api.status).toBe(404);
    expect(api.json.code).toBe('NOT_FOUND');
    // An API route keeps answering JSON even to a browser.
    const tags = await s.request('GET', '/tags', { headers: HTML });
    expect(tags.status).toBe(401);
    expect(tags.headers['content-type']).toMatch(/problem\+json/);
    const post = await s.request('POST', '/app/tags', { headers: HTML, body: {} });
    expect(post.status).toBe(404);
  });

  it('GET /auth/session gives a cookie session its user, grants and CSRF token, which then works', async () => {
    const login = await s.request('POST', '/auth/login', { body: { username: 'operator', password: 'operator-password' } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const r = await s.request('GET', '/auth/session', { headers: { cookie } });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json.csrfToken).toBe(login.json.csrfToken);
    expect(r.json.user).toMatchObject({ username: 'operator', authMethod: 'session' });
    expect(r.json.user.grants).toContainEqual({ permission: 'tags:write', tags: 'Line1.**' });
    expect(typeof r.json.expiresAt).toBe('string');
    const w = await s.request('PUT', '/tags/Line1.Setpoint/value', {
      headers: { cookie, 'x-csrf-token': r.json.csrfToken },
      body: { value: 12 },
    });
    expect(w.status, w.text).toBe(200);
  });

  it('GET /auth/session: 401 without a session or after logout; Basic gets no CSRF token', async () => {
    expect((await s.request('GET', '/auth/session')).status).toBe(401);
    const basic = await s.request('GET', '/auth/session', {
      headers: { authorization: `Basic ${Buffer.from('viewer:viewer-password').toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    expect(basic.json.csrfToken).toBeUndefined();
    const token = await s.login('viewer', 'viewer-password');
    expect((await s.request('POST', '/auth/logout', { token })).status).toBe(204);
    expect((await s.request('GET', '/auth/session', { token })).status).toBe(401);
  });
});

describe('without a built dashboard', () => {
  it('the root leads to the API documentation', async () => {
    const s = await startTestServer({ config: { webDir: 'none' } });
    try {
      const r = await s.request('GET', '/', { headers: HTML });
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('/docs');
      expect((await s.request('GET', '/app/tags', { headers: HTML })).status).toBe(404);
    } finally {
      await s.stop();
    }
  });
});
