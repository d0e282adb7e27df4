import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINCC_CLASSIC_ROUTES } from '../../../src/adapters/http/wincc-classic/plugin.js';
import type { RouteDef } from '../../../src/adapters/http/wincc-classic/router.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../helpers/server.js';
import { ADMIN, BASE, basic, call, expectJson, PROJECT, seedHistory } from './fixture.js';

/** A parameter value that makes each route succeed (structure types never do: Tagway has none). */
function concrete(route: RouteDef, literal: (s: string) => string = (s) => s): string {
  const byName: Record<string, string> = {
    archive: 'PlantArchive',
    filter: 'All',
    number: '1',
    type: 'Motor',
  };
  const special: Record<string, string> = {
    'tagManagement/Connection/:name': 'internal',
    'tagManagement/Group/:name': 'Line1',
    'tagLogging/Timer/:name': 'OnChange',
    'alarmLogging/MessageClass/:name': 'Alarm',
    'alarmLogging/RestFilter/:name': 'All',
    'alarmLogging/LimitValue/:tag': 'Line1.Temp',
  };
  return route.path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? encodeURIComponent(special[route.path] ?? byName[seg.slice(1)] ?? 'Line1.Speed') : literal(seg)))
    .join('/');
}

function bodyOf(route: RouteDef): unknown {
  if (route.method === 'GET') return undefined;
  if (route.path === 'tagManagement/Value/:name') return { value: 2.5 };
  if (route.path === 'tagManagement/Values' && route.method === 'PUT') return [{ variableName: 'Line1.Speed', value: 2 }];
  if (route.path.endsWith('StructureVariables')) return { typeNames: ['Motor'] };
  return { variableNames: ['Line1.Speed'] };
}

const NEVER_FOUND = new Set(['tagManagement/StructureType/:name', 'tagManagement/StructureVariable/:type']);

/** Every literal segment's case changed in a different way: upper, lower, and flipped first letter. */
const CASES: Array<(s: string) => string> = [
  (s) => s.toLowerCase(),
  (s) => s.toUpperCase(),
  (s) => (s[0] === s[0]!.toUpperCase() ? s[0]!.toLowerCase() : s[0]!.toUpperCase()) + s.slice(1),
];

describe('WinCC classic: the protocol (routing, JSON on every answer, authentication)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    seedHistory(s);
  });
  afterAll(() => s?.stop());

  it('walks EVERY route: success with a JSON body, and an unauthenticated failure in the error model', async () => {
    expect(WINCC_CLASSIC_ROUTES.length).toBeGreaterThanOrEqual(46);
    for (const route of WINCC_CLASSIC_ROUTES) {
      const path = `${BASE}/${concrete(route)}`;
      const body = bodyOf(route);
      const ok = await call(s, route.method, path, { body });
      expectJson(ok);
      if (NEVER_FOUND.has(route.path)) expect(ok.status, path).toBe(404);
      else expect(ok.status, `${route.method} ${path}: ${ok.text.slice(0, 200)}`).toBe(200);
      const anon = await call(s, route.method, path, { body, auth: '' });
      expectJson(anon);
      expect(anon.status, path).toBe(401);
      expect(anon.json).toMatchObject({ errorcode: 1, code: 'UNAUTHENTICATED' });
      expect(anon.headers['www-authenticate']).toMatch(/^Basic /);
    }
  });

  it('every path segment matches in any case, the base path included', async () => {
    for (const route of WINCC_CLASSIC_ROUTES) {
      const path = `${BASE}/${concrete(route)}`;
      const want = (await call(s, route.method, path, { body: bodyOf(route) })).status;
      for (const f of CASES) {
        const v = `${f(BASE)}/${concrete(route, f)}`;
        const r = await call(s, route.method, v, { body: bodyOf(route) });
        expectJson(r);
        expect(r.status, `${route.method} ${v}`).toBe(want);
      }
    }
    const r = await call(s, 'POST', '/WinccRestService/TagManagement/values', { body: { variableNames: ['Line1.Speed'] } });
    expect(r.status).toBe(200);
    expect(r.json[0].error).toBe('');
    // Only the whole segment: a longer first segment is not this profile (native 404, problem+json).
    const other = await call(s, 'GET', '/WinCCRestServiceX/tagManagement/variables');
    expect(other.status).toBe(404);
    expect(other.headers['content-type']).toMatch(/problem\+json/);
  });

  it('unknown routes, wrong methods and bad media types answer JSON with an errorcode', async () => {
    const none = await call(s, 'GET', `${BASE}/tagManagement/Nothing`);
    expect(none.status).toBe(404);
    expect(none.json).toMatchObject({ errorcode: 6, code: 'NOT_FOUND' });
    const root = await call(s, 'GET', BASE);
    expect(root.status).toBe(404);
    expectJson(root);
    const method = await call(s, 'DELETE', `${BASE}/tagManagement/Values`, { body: {} });
    expect(method.status).toBe(405);
    expect(method.json).toMatchObject({ errorcode: 7, code: 'METHOD_NOT_ALLOWED' });
    expect(method.headers.allow).toBe('POST, PUT');
    const text = await s.request('POST', `${BASE}/tagManagement/Values`, {
      headers: { authorization: ADMIN, 'content-type': 'text/plain' },
      rawBody: 'Line1.Speed',
    });
    expect(text.status).toBe(415);
    expect(text.json).toMatchObject({ errorcode: 8 });
  });

  it('Bearer: session tokens and JWTs work; a wrong password is a 401 in the error model', async () => {
    const token = await s.login();
    const r = await call(s, 'POST', `${BASE}/tagManagement/Values`, { auth: `Bearer ${token}`, body: { variableNames: ['Line1.Speed'] } });
    expect(r.json[0].error).toBe('');
    const bad = await call(s, 'GET', `${BASE}/tagManagement/variables`, { auth: basic('admin', 'wrong-password-here') });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ errorcode: 1 });
    const expired = await call(s, 'GET', `${BASE}/tagManagement/variables`, { auth: 'Bearer not-a-session' });
    expect(expired.status).toBe(401);
    // A JWT from the client-credentials grant of an API client.
    const client = await s.request('POST', '/clients', { token, body: { name: 'mes', groups: ['admins'] } });
    expect(client.status).toBe(201);
    const grant = await s.request('POST', '/auth/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: `grant_type=client_credentials&client_id=${encodeURIComponent(client.json.clientId)}&client_secret=${encodeURIComponent(client.json.clientSecret)}`,
    });
    expect(grant.status).toBe(200);
    const jwt = await call(s, 'GET', `${BASE}/tagManagement/Value/Line1.Speed`, { auth: `Bearer ${grant.json.access_token}` });
    expect(jwt.status).toBe(200);
    expect(jwt.json.error).toBe('');
  });

  it('writes are audited with the front end that made them', async () => {
    await call(s, 'PUT', `${BASE}/tagManagement/Value/Line1.Temp`, { body: { value: 22 } });
    const token = await s.login();
    const audit = await s.request('GET', '/audit?action=tag.write&user=admin', { token });
    expect(audit.status).toBe(200);
    expect(audit.json.items.some((i: { target: string }) => i.target === 'Line1.Temp')).toBe(true);
  });

  it('HTTP Basic over plain HTTP is refused off loopback (the native rule), in this profile’s error model', async () => {
    const auth = basic('admin', ADMIN_PASSWORD);
    const far = await s.server.app.inject({
      method: 'GET',
      url: `${BASE}/tagManagement/variables`,
      headers: { authorization: auth, accept: 'application/json', 'content-type': 'application/json' },
      remoteAddress: '192.0.2.77',
    });
    expect(far.statusCode).toBe(401);
    expect(far.headers['content-type']).toMatch(/^application\/json/);
    expect(far.json()).toMatchObject({ errorcode: 1, code: 'UNAUTHENTICATED' });
    expect(far.json().error).toMatch(/plain HTTP/);
    const near = await s.server.app.inject({
      method: 'GET',
      url: `${BASE}/tagManagement/variables`,
      headers: { authorization: auth },
      remoteAddress: '127.0.0.1',
    });
    expect(near.statusCode).toBe(200);
  });
});

describe('WinCC classic behind --base-path, on a second port, with Basic throttling', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT, config: { basePath: '/plant', winccClassicPort: 0 } });
  });
  afterAll(() => s?.stop());

  it('answers under the base path, in any case', async () => {
    const r = await call(s, 'POST', '/plant/winccrestservice/tagmanagement/values', { body: { variableNames: ['Line1.Speed'] } });
    expect(r.status).toBe(200);
    expect(r.json[0]).toMatchObject({ variableName: 'Line1.Speed', error: '' });
  });

  it('--wincc-classic-port: the same HTTPS API on a second port', async () => {
    const port = s.server.winccClassicPort!;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(s.server.port);
    const r = await request(`https://127.0.0.1:${port}/plant/WinCCRestService/tagManagement/Value/Line1.Speed`, {
      headers: { authorization: ADMIN, accept: 'application/json' },
      dispatcher: s.agent,
    });
    expect(r.statusCode).toBe(200);
    expect(((await r.body.json()) as { value: number }).value).toBe(1.5);
  });

  it('repeated wrong Basic passwords are throttled like the native API (429 with Retry-After, JSON)', async () => {
    let last = 0;
    let r: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 30 && last !== 429; i++) {
      r = await call(s, 'GET', '/plant/WinCCRestService/tagManagement/variables', { auth: basic('liner', `wrong-password-${i}`) });
      last = r.status;
      expectJson(r);
    }
    expect(last).toBe(429);
    expect(r!.json).toMatchObject({ errorcode: 15, code: 'TOO_MANY_REQUESTS' });
    expect(r!.headers['retry-after']).toBeDefined();
  });
});
