import { statSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from '../../helpers/server.js';

function cookieOf(headers: Record<string, string | string[] | undefined>): string {
  const raw = headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const c = list.find((x) => x.startsWith('tagway_session='));
  if (!c) throw new Error('no session cookie');
  return c;
}

describe('authentication and sessions over HTTPS', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('logs in with a token, an HttpOnly Secure SameSite=Strict cookie and a CSRF token', async () => {
    const r = await s.request('POST', '/auth/login', { body: { username: 'operator', password: 'operator-password' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      tokenType: 'Bearer',
      token: expect.any(String),
      csrfToken: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(r.json.user).toMatchObject({ username: 'operator', groups: ['operators'], authMethod: 'session' });
    expect(r.json.user.permissions).toEqual(['tags:read', 'tags:write', 'alarms:read', 'alarms:acknowledge', 'history:read']);
    const c = cookieOf(r.headers);
    expect(c).toMatch(/HttpOnly/i);
    expect(c).toMatch(/Secure/i);
    expect(c).toMatch(/SameSite=Strict/i);
    expect(c).toMatch(/Path=\//);
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('gives the same answer for an unknown user and a wrong password', async () => {
    const a = await s.request('POST', '/auth/login', { body: { username: 'nobody-here', password: 'x' } });
    const b = await s.request('POST', '/auth/login', { body: { username: 'operator', password: 'wrong' } });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    const strip = (j: any) => ({ ...j, requestId: undefined });
    expect(strip(a.json)).toEqual(strip(b.json));
  });

  it('validates the login body', async () => {
    expect((await s.request('POST', '/auth/login', { body: { username: 'admin' } })).status).toBe(400);
    expect((await s.request('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD, extra: 1 } })).status).toBe(400);
    expect((await s.request('POST', '/auth/login', { body: { username: 1, password: ADMIN_PASSWORD } })).status).toBe(400);
    expect((await s.request('POST', '/auth/login', { rawBody: '{', headers: { 'content-type': 'application/json' } })).json.code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('GET /users/current describes the session user', async () => {
    const token = await s.login('viewer', 'viewer-password');
    const r = await s.request('GET', '/users/current', { token });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      username: 'viewer',
      displayName: 'viewer',
      groups: ['viewers'],
      permissions: ['tags:read', 'alarms:read', 'history:read'],
      authMethod: 'session',
    });
    expect(Date.parse(r.json.sessionExpiresAt)).toBeGreaterThan(Date.now());
    expect((await s.request('GET', '/users/current')).status).toBe(401);
    expect((await s.request('GET', '/users/current', { token: 'not-a-token' })).json.code).toBe('UNAUTHENTICATED');
  });

  it('GET /users/current and the login answer list each permission with its tag scope (grants)', async () => {
    const r = await s.request('POST', '/auth/login', { body: { username: 'operator', password: 'operator-password' } });
    const grants = [
      { permission: 'tags:read' },
      { permission: 'tags:write', tags: 'Line1.**' },
      { permission: 'alarms:read' },
      { permission: 'alarms:acknowledge' },
      { permission: 'history:read' },
    ];
    expect(r.json.user.grants).toEqual(grants);
    const me = await s.request('GET', '/users/current', { token: r.json.token });
    expect(me.json.grants).toEqual(grants);
    expect(me.json.permissions).toEqual(['tags:read', 'tags:write', 'alarms:read', 'alarms:acknowledge', 'history:read']);
  });

  it('logout revokes the token and the cookie at once', async () => {
    const login = await s.request('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    const token = login.json.token;
    expect((await s.request('GET', '/users/current', { token })).status).toBe(200);
    const out = await s.request('POST', '/auth/logout', { token });
    expect(out.status).toBe(204);
    expect((await s.request('GET', '/users/current', { token })).status).toBe(401);
    const cookie = cookieOf(login.headers).split(';')[0]!;
    expect((await s.request('GET', '/users/current', { headers: { cookie } })).status).toBe(401);
    expect((await s.request('POST', '/auth/logout', { token })).status).toBe(401);
  });

  it('accepts the cookie for reads and needs the CSRF token for writes', async () => {
    const login = await s.request('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    const cookie = cookieOf(login.headers).split(';')[0]!;
    expect((await s.request('GET', '/tags/T.Int8/value', { headers: { cookie } })).status).toBe(200);
    const before = (await s.request('GET', '/tags/T.Int8/value', { headers: { cookie } })).json.value;
    const noCsrf = await s.request('PUT', '/tags/T.Int8/value', { headers: { cookie }, body: { value: 99 } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.code).toBe('CSRF_FAILED');
    const wrong = await s.request('PUT', '/tags/T.Int8/value', { headers: { cookie, 'x-csrf-token': 'guess' }, body: { value: 99 } });
    expect(wrong.json.code).toBe('CSRF_FAILED');
    expect((await s.request('GET', '/tags/T.Int8/value', { headers: { cookie } })).json.value).toBe(before);
    const ok = await s.request('PUT', '/tags/T.Int8/value', {
      headers: { cookie, 'x-csrf-token': login.json.csrfToken },
      body: { value: 99 },
    });
    expect(ok.status).toBe(200);
    const tampered = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BB' : 'AA');
    expect((await s.request('GET', '/tags/T.Int8/value', { headers: { cookie: tampered } })).status).toBe(401);
  });

  it('refresh replaces the token; the old one stops working', async () => {
    const token = await s.login();
    const r = await s.request('POST', '/auth/refresh', { token });
    expect(r.status).toBe(200);
    expect(r.json.token).not.toBe(token);
    expect((await s.request('GET', '/users/current', { token })).status).toBe(401);
    expect((await s.request('GET', '/users/current', { token: r.json.token })).status).toBe(200);
  });

  it('public routes need no session; errors carry the request id', async () => {
    const h = await s.request('GET', '/health');
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ status: 'ok', tags: 20, connections: { total: 2, connected: 2 } });
    const o = await s.request('GET', '/openapi.json');
    expect(o.status).toBe(200);
    expect(o.json.openapi).toBe('3.1.0');
    for (const p of ['/auth/login', '/auth/logout', '/tags', '/tags/{name}/value', '/tags/values', '/users/current'])
      expect(Object.keys(o.json.paths)).toContain(p);
    const d = await s.request('GET', '/docs/');
    expect(d.status).toBe(200);
    expect(d.text).toMatch(/swagger/i);
    const e = await s.request('GET', '/tags', { headers: { 'x-request-id': 'abc-123' } });
    expect(e.headers['x-request-id']).toBe('abc-123');
    expect(e.json.requestId).toBe('abc-123');
    const nf = await s.request('GET', '/no/such/route', { token: await s.login() });
    expect(nf.status).toBe(404);
    expect(nf.json.code).toBe('NOT_FOUND');
  });

  it('created the first admin from TAGWAY_ADMIN_PASSWORD without a password file', () => {
    expect(existsSync(join(s.dataDir, 'initial-admin-password'))).toBe(false);
  });
});

describe('first start without TAGWAY_ADMIN_PASSWORD', () => {
  it('writes a random admin password to a 0600 file that logs in', async () => {
    const s = await startTestServer({ config: { adminPassword: undefined } });
    try {
      const file = join(s.dataDir, 'initial-admin-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(16);
      expect(await s.login('admin', password)).toEqual(expect.any(String));
    } finally {
      await s.stop();
    }
  });
});

describe('restart', () => {
  it('keeps internal values and sessions', async () => {
    const s = await startTestServer();
    try {
      const token = await s.login();
      await s.request('PUT', '/tags/values', {
        token,
        body: {
          items: [
            { name: 'T.UInt64', value: '18446744073709551615' },
            { name: 'T.String', value: 'kept' },
            { name: 'T.DateTime', value: '2030-01-01T00:00:00Z' },
          ],
        },
      });
      expect((await s.request('PUT', '/tags/T.Limited/value', { token, body: { value: 5 } })).status).toBe(200);
      const names = ['T.UInt64', 'T.String', 'T.DateTime', 'T.Limited'];
      const before = await s.request('POST', '/tags/values', { token, body: { names } });
      await s.restart();
      const r = await s.request('POST', '/tags/values', { token, body: { names } });
      expect(r.status).toBe(200);
      expect(r.json.items.map((i: any) => i.value)).toEqual(['18446744073709551615', 'kept', '2030-01-01T00:00:00.000Z', 5]);
      // A retained value comes back with the time it was published with (the time it was stored), so history and
      // clients see one change, not a second one at the restart.
      expect(r.json.items.map((i: any) => i.timestamp)).toEqual(before.json.items.map((i: any) => i.timestamp));
      expect(r.json.items.every((i: any) => i.quality === 'GOOD')).toBe(true);
    } finally {
      await s.stop();
    }
  });
});
