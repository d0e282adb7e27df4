import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, basicHeader, startTestServer, type TestServer } from '../helpers/https-server.js';

/**
 * Table-driven: user × route × tag, through two authentication methods, plus a sweep over every route in
 * the OpenAPI document proving that none but the public ones answers without credentials.
 */
const LINE1 = 'Line1.Filler.SpeedSetpoint'; // writable internal tag inside Line1.**
const TANK1 = 'Tank1.LevelSetpoint'; // writable internal tag outside Line1.**
const RO = 'Line1.Filler.SerialNumber'; // read-only tag inside Line1.**
const enc = encodeURIComponent;

const USERS = {
  admin: { password: ADMIN_PASSWORD, groups: ['admins'] },
  olga: { password: 'Op-Pass-Strong-11', groups: ['operators'] },
  victor: { password: 'View-Pass-Strong-11', groups: ['viewers'] },
  nemo: { password: 'Nobody-Pass-Strong-11', groups: [] },
} as const;
type User = keyof typeof USERS;

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  expect: Record<User, number | string>;
}

const value = (tag: string, v: unknown) => ({ method: 'PUT', path: `/tags/${enc(tag)}/value`, body: { value: v } });
const CASES: Case[] = [
  { name: 'read Line1 tag', method: 'GET', path: `/tags/${enc(LINE1)}/value`, expect: { admin: 200, olga: 200, victor: 200, nemo: 403 } },
  { name: 'read Tank1 tag', method: 'GET', path: `/tags/${enc(TANK1)}/value`, expect: { admin: 200, olga: 200, victor: 200, nemo: 403 } },
  { name: 'write Line1 tag', ...value(LINE1, 300), expect: { admin: 200, olga: 200, victor: 403, nemo: 403 } },
  { name: 'write Tank1 tag', ...value(TANK1, 60), expect: { admin: 200, olga: 403, victor: 403, nemo: 403 } },
  { name: 'write read-only tag', ...value(RO, 'X'), expect: { admin: 409, olga: 409, victor: 403, nemo: 403 } },
  {
    name: 'bulk read',
    method: 'POST',
    path: '/tags/values',
    body: { names: [LINE1, TANK1] },
    expect: { admin: 'OK,OK', olga: 'OK,OK', victor: 'OK,OK', nemo: 403 },
  },
  {
    name: 'bulk write',
    method: 'PUT',
    path: '/tags/values',
    body: {
      items: [
        { name: LINE1, value: 301 },
        { name: TANK1, value: 61 },
      ],
    },
    expect: { admin: 'OK,OK', olga: 'OK,FORBIDDEN', victor: 403, nemo: 403 },
  },
  { name: 'list users', method: 'GET', path: '/users', expect: { admin: 200, olga: 403, victor: 403, nemo: 403 } },
  { name: 'list clients', method: 'GET', path: '/clients', expect: { admin: 200, olga: 403, victor: 403, nemo: 403 } },
  { name: 'read audit', method: 'GET', path: '/audit?limit=1', expect: { admin: 200, olga: 403, victor: 403, nemo: 403 } },
  { name: 'who am I', method: 'GET', path: '/users/current', expect: { admin: 200, olga: 200, victor: 200, nemo: 200 } },
];

/** Compact outcome: the status, or for bulk answers each item's status/code. */
function outcome(status: number, body: { items?: Array<{ status?: string; error?: { code: string }; value?: unknown }> }): number | string {
  if (status !== 200 || !Array.isArray(body.items) || body.items.length !== 2) return status;
  return body.items.map((i) => i.error?.code ?? i.status ?? 'OK').join(',');
}

describe('permissions on every route', () => {
  let t: TestServer;
  const tokens = {} as Record<User, string>;
  beforeAll(async () => {
    t = await startTestServer();
    const admin = (await t.call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).body.token as string;
    for (const u of ['olga', 'victor', 'nemo'] as const) {
      const r = await t.call('POST', '/users', {
        headers: { authorization: `Bearer ${admin}` },
        body: { username: u, password: USERS[u].password, groups: USERS[u].groups },
      });
      expect(r.status, r.text).toBe(201);
    }
    for (const u of Object.keys(USERS) as User[])
      tokens[u] = (await t.call('POST', '/auth/login', { body: { username: u, password: USERS[u].password } })).body.token;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  for (const method of ['session', 'basic'] as const) {
    it(`user × route × tag by ${method}`, async () => {
      const got: Record<string, Record<string, number | string>> = {};
      const want: Record<string, Record<string, number | string>> = {};
      for (const c of CASES) {
        got[c.name] = {};
        want[c.name] = c.expect;
        for (const u of Object.keys(USERS) as User[]) {
          const authorization = method === 'session' ? `Bearer ${tokens[u]}` : basicHeader(u, USERS[u].password);
          const r = await t.call(c.method, c.path, { headers: { authorization }, body: c.body });
          got[c.name]![u] = outcome(r.status, r.body);
        }
      }
      expect(got).toEqual(want);
    });
  }

  it('no route but the public ones answers without credentials', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const PUBLIC = new Set(['POST /auth/login', 'POST /auth/token', 'GET /.well-known/jwks.json', 'GET /health']);
    const checked: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops)) {
        const key = `${m.toUpperCase()} ${path}`;
        if (PUBLIC.has(key) || path.startsWith('/health') || path.startsWith('/docs')) continue;
        const concrete = path.replace(/\{[^}]+\}/g, 'x');
        const r = await t.call(m.toUpperCase(), concrete, { body: ['POST', 'PUT', 'PATCH'].includes(m.toUpperCase()) ? {} : undefined });
        expect(r.status, key).toBe(401);
        checked.push(key);
      }
    }
    expect(checked.length).toBeGreaterThan(15);
  });
});
