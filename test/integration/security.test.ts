import { generateKeyPair, SignJWT } from 'jose';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE, runAuditVerify } from '../../src/cli/audit-verify.js';
import { ManualClock } from '../../src/domain/clock.js';
import { ADMIN_PASSWORD, basicHeader, startTestServer, type TestServer } from '../helpers/https-server.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const WRITABLE = 'Line1.Filler.SpeedSetpoint';
const enc = encodeURIComponent;

describe('security over real HTTPS', () => {
  let t: TestServer;
  const clock = new ManualClock(Date.now());
  let adminToken: string;
  const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` });
  const login = (username: string, password: string) => t.call('POST', '/auth/login', { body: { username, password } });

  beforeAll(async () => {
    t = await startTestServer({
      clock,
      config: (c) => {
        c.security.corsOrigins = ['https://hmi.example'];
      },
    });
    const r = await login('admin', ADMIN_PASSWORD);
    expect(r.status).toBe(200);
    adminToken = r.body.token;
    for (const [username, groups] of [
      ['olga', ['operators']],
      ['victor', ['viewers']],
    ] as const) {
      const c = await t.call('POST', '/users', {
        headers: bearer(adminToken),
        body: { username, password: `${username.slice(0, 2)}-${username.slice(2)}-Strong-Pass-9`, groups },
      });
      expect(c.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('session Bearer token works and identifies the method', async () => {
    const r = await login('olga', 'ol-ga-Strong-Pass-9');
    const me = await t.call('GET', '/users/current', { headers: bearer(r.body.token) });
    expect(me.body).toMatchObject({ username: 'olga', authMethod: 'session', groups: ['operators'] });
    expect((await t.call('GET', `/tags/${enc(WRITABLE)}/value`, { headers: bearer(r.body.token) })).status).toBe(200);
  });

  it('session cookie: reads work, writes need the CSRF token, a tampered cookie is refused', async () => {
    const r = await login('olga', 'ol-ga-Strong-Pass-9');
    const setCookie = String(r.headers['set-cookie']);
    expect(setCookie).toMatch(/tagway_session=[^;]+;.*HttpOnly/i);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = `tagway_session=${r.body.token}`;
    expect((await t.call('GET', '/users/current', { headers: { cookie } })).body.authMethod).toBe('session');
    const before = (await t.call('GET', `/tags/${enc(WRITABLE)}/value`, { headers: { cookie } })).body.value;
    const noCsrf = await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, { headers: { cookie }, body: { value: 123 } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.code).toBe('CSRF_FAILED');
    const wrongCsrf = await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, {
      headers: { cookie, 'x-csrf-token': (r.body.csrfToken.startsWith('x') ? 'y' : 'x') + r.body.csrfToken.slice(1) },
      body: { value: 123 },
    });
    expect(wrongCsrf.body.code).toBe('CSRF_FAILED');
    expect((await t.call('GET', `/tags/${enc(WRITABLE)}/value`, { headers: { cookie } })).body.value).toBe(before);
    const ok = await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, {
      headers: { cookie, 'x-csrf-token': r.body.csrfToken },
      body: { value: 123 },
    });
    expect(ok.status).toBe(200);
    const tampered = r.body.token.slice(0, -2) + (r.body.token.endsWith('AA') ? 'BB' : 'AA');
    const bad = await t.call('GET', '/users/current', { headers: { cookie: `tagway_session=${tampered}` } });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('UNAUTHENTICATED');
  });

  it('HTTP Basic over HTTPS works; a wrong password gets the same 401 as an unknown user', async () => {
    const me = await t.call('GET', '/users/current', { headers: { authorization: basicHeader('victor', 'vi-ctor-Strong-Pass-9') } });
    expect(me.body).toMatchObject({ username: 'victor', authMethod: 'basic' });
    const wrong = await t.call('GET', '/users/current', { headers: { authorization: basicHeader('victor', 'nope-nope-nope') } });
    const unknown = await t.call('GET', '/users/current', { headers: { authorization: basicHeader('nobody', 'nope-nope-nope') } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.detail).toBe(unknown.body.detail);
  });

  it('HTTP Basic over plain HTTP is refused from a non-loopback address and accepted from loopback', async () => {
    // fastify's own request pipeline on a non-TLS connection with the peer address set: the one case we
    // cannot produce with a real socket while staying on loopback.
    const auth = basicHeader('victor', 'vi-ctor-Strong-Pass-9');
    const far = await t.server.app.inject({
      method: 'GET',
      url: '/users/current',
      headers: { authorization: auth },
      remoteAddress: '192.0.2.77',
    });
    expect(far.statusCode).toBe(401);
    expect(far.json().detail).toMatch(/plain HTTP/);
    const near = await t.server.app.inject({
      method: 'GET',
      url: '/users/current',
      headers: { authorization: auth },
      remoteAddress: '127.0.0.1',
    });
    expect(near.statusCode).toBe(200);
  });

  describe('OAuth2 client credentials and JWTs', () => {
    let clientId: string;
    let clientSecret: string;
    beforeAll(async () => {
      const c = await t.call('POST', '/clients', { headers: bearer(adminToken), body: { name: 'historian', groups: ['operators'] } });
      expect(c.status).toBe(201);
      ({ clientId, clientSecret } = c.body);
      const list = await t.call('GET', '/clients', { headers: bearer(adminToken) });
      expect(list.text).not.toContain(clientSecret);
    });

    it('issues a JWT from form, JSON or Basic credentials; the JWT authenticates', async () => {
      const viaForm = await t.call('POST', '/auth/token', {
        form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
      });
      expect(viaForm.status).toBe(200);
      expect(viaForm.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
      expect(viaForm.headers['cache-control']).toBe('no-store');
      const viaJson = await t.call('POST', '/auth/token', {
        body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
      });
      const viaBasic = await t.call('POST', '/auth/token', {
        headers: { authorization: basicHeader(clientId, clientSecret) },
        form: { grant_type: 'client_credentials' },
      });
      expect([viaJson.status, viaBasic.status]).toEqual([200, 200]);
      const me = await t.call('GET', '/users/current', { headers: bearer(viaBasic.body.access_token) });
      expect(me.body).toMatchObject({ username: clientId, displayName: 'historian', authMethod: 'jwt', groups: ['operators'] });
      const jwks = await t.call('GET', '/.well-known/jwks.json');
      const kid = JSON.parse(Buffer.from(viaForm.body.access_token.split('.')[0], 'base64url').toString()).kid;
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(kid);
      expect(JSON.stringify(jwks.body)).not.toMatch(/"d"/);
    });

    it('answers RFC 6749 errors', async () => {
      const wrong = await t.call('POST', '/auth/token', {
        form: { grant_type: 'client_credentials', client_id: clientId, client_secret: 'wrong' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
      const grant = await t.call('POST', '/auth/token', {
        form: { grant_type: 'password', client_id: clientId, client_secret: clientSecret },
      });
      expect(grant.status).toBe(400);
      expect(grant.body.error).toBe('unsupported_grant_type');
      expect((await t.call('POST', '/auth/token', { form: {} })).body.error).toBe('invalid_request');
    });

    it('refuses forged JWTs: wrong key, alg none, expired, wrong audience', async () => {
      const good = (
        await t.call('POST', '/auth/token', {
          form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
        })
      ).body.access_token as string;
      const [h, p] = good.split('.') as [string, string];
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const sign = (c: Record<string, unknown>, hdr: Record<string, unknown> = {}) =>
        new SignJWT(c)
          .setProtectedHeader({ alg: 'EdDSA', kid: header.kid, typ: 'at+jwt', ...hdr } as { alg: string })
          .sign(foreign.privateKey);
      const forged = {
        wrongKey: await sign({ ...claims, groups: ['admins'] }),
        algNone: `${b64({ alg: 'none', typ: 'at+jwt', kid: header.kid })}.${b64({ ...claims, groups: ['admins'] })}.`,
        wrongAudience: await sign({ ...claims, aud: 'other-service' }),
      };
      for (const [name, tok] of Object.entries(forged)) {
        const r = await t.call('GET', '/users/current', { headers: bearer(tok) });
        expect(r.status, name).toBe(401);
      }
      expect((await t.call('GET', '/users/current', { headers: bearer(good) })).status).toBe(200);
      clock.advance(15 * 60_000 + 6_000);
      expect((await t.call('GET', '/users/current', { headers: bearer(good) })).status).toBe(401);
    });

    it('deleting a client ends its tokens at once', async () => {
      const c = await t.call('POST', '/clients', { headers: bearer(adminToken), body: { name: 'temp', groups: ['viewers'] } });
      const tok = (
        await t.call('POST', '/auth/token', {
          form: { grant_type: 'client_credentials', client_id: c.body.clientId, client_secret: c.body.clientSecret },
        })
      ).body.access_token;
      expect((await t.call('GET', '/users/current', { headers: bearer(tok) })).status).toBe(200);
      expect((await t.call('DELETE', `/clients/${c.body.clientId}`, { headers: bearer(adminToken) })).status).toBe(204);
      expect((await t.call('GET', '/users/current', { headers: bearer(tok) })).status).toBe(401);
    });
  });

  it('logout revokes at once; refresh replaces the token', async () => {
    const r = await login('victor', 'vi-ctor-Strong-Pass-9');
    const refreshed = await t.call('POST', '/auth/refresh', { headers: bearer(r.body.token) });
    expect(refreshed.status).toBe(200);
    expect((await t.call('GET', '/users/current', { headers: bearer(r.body.token) })).status).toBe(401);
    expect((await t.call('POST', '/auth/logout', { headers: bearer(refreshed.body.token) })).status).toBe(204);
    expect((await t.call('GET', '/users/current', { headers: bearer(refreshed.body.token) })).status).toBe(401);
  });

  it('throttles logins per user with 429 + Retry-After, even for the right password, and lifts after the cooling-off', async () => {
    await t.call('POST', '/users', {
      headers: bearer(adminToken),
      body: { username: 'tina', password: 'ti-na-Strong-Pass-9', groups: ['viewers'] },
    });
    for (let i = 0; i < 5; i++) expect((await login('tina', `wrong-${i}`)).status).toBe(401);
    const blocked = await login('tina', 'ti-na-Strong-Pass-9');
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('TOO_MANY_REQUESTS');
    expect(blocked.headers['retry-after']).toBe('60');
    // Basic is no way around it.
    expect((await t.call('GET', '/users/current', { headers: { authorization: basicHeader('tina', 'ti-na-Strong-Pass-9') } })).status).toBe(
      429,
    );
    clock.advance(60_000);
    expect((await login('tina', 'ti-na-Strong-Pass-9')).status).toBe(200);
  });

  it('disabling a user ends their sessions and their cached Basic credentials at once', async () => {
    await t.call('POST', '/users', {
      headers: bearer(adminToken),
      body: { username: 'dora', password: 'do-ra-Strong-Pass-9', groups: ['viewers'] },
    });
    const s = (await login('dora', 'do-ra-Strong-Pass-9')).body.token;
    const basic = { authorization: basicHeader('dora', 'do-ra-Strong-Pass-9') };
    expect((await t.call('GET', '/users/current', { headers: bearer(s) })).status).toBe(200);
    expect((await t.call('GET', '/users/current', { headers: basic })).status).toBe(200);
    const d = await t.call('PATCH', '/users/dora', { headers: bearer(adminToken), body: { disabled: true } });
    expect(d.body.disabled).toBe(true);
    expect((await t.call('GET', '/users/current', { headers: bearer(s) })).status).toBe(401);
    expect((await t.call('GET', '/users/current', { headers: basic })).status).toBe(401);
    expect((await login('dora', 'do-ra-Strong-Pass-9')).status).toBe(401);
  });

  it('user administration: password policy, own password change, no way to remove the last admin', async () => {
    const weak = await t.call('POST', '/users', {
      headers: bearer(adminToken),
      body: { username: 'weak', password: 'short', groups: ['viewers'] },
    });
    expect(weak.status).toBe(400);
    expect(weak.body.code).toBe('VALIDATION_FAILED');
    expect(
      (
        await t.call('POST', '/users', {
          headers: bearer(adminToken),
          body: { username: 'x', password: 'xx-Strong-Pass-9', groups: ['nope'] },
        })
      ).status,
    ).toBe(400);
    expect((await t.call('DELETE', '/users/admin', { headers: bearer(adminToken) })).status).toBe(409);
    const vs = (await login('victor', 'vi-ctor-Strong-Pass-9')).body.token;
    const other = (await login('victor', 'vi-ctor-Strong-Pass-9')).body.token;
    expect(
      (
        await t.call('POST', '/users/current/password', {
          headers: bearer(vs),
          body: { currentPassword: 'wrong', newPassword: 'vi-ctor-New-Pass-77' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await t.call('POST', '/users/current/password', {
          headers: bearer(vs),
          body: { currentPassword: 'vi-ctor-Strong-Pass-9', newPassword: 'vi-ctor-New-Pass-77' },
        })
      ).status,
    ).toBe(204);
    expect((await t.call('GET', '/users/current', { headers: bearer(vs) })).status).toBe(200);
    expect((await t.call('GET', '/users/current', { headers: bearer(other) })).status).toBe(401);
    expect((await login('victor', 'vi-ctor-New-Pass-77')).status).toBe(200);
    const list = await t.call('GET', '/users', { headers: bearer(adminToken) });
    expect(list.text).not.toMatch(/argon2|passwordHash/);
    expect((await t.call('GET', '/users', { headers: bearer(vs) })).status).toBe(403);
  });

  it('groups: admins create, change and delete their own; changes apply to the next request; project groups are read-only', async () => {
    const admin = bearer(adminToken);
    expect(
      (
        await t.call('POST', '/groups', {
          headers: admin,
          body: { name: 'tank-ops', permissions: [{ permission: 'tags:read' }, { permission: 'tags:write', tags: 'Tank1.**' }] },
        })
      ).status,
    ).toBe(201);
    await t.call('POST', '/users', { headers: admin, body: { username: 'tom', password: 'to-m-Strong-Pass-9', groups: ['tank-ops'] } });
    const tom = { authorization: basicHeader('tom', 'to-m-Strong-Pass-9') };
    expect((await t.call('PUT', '/tags/Tank1.LevelSetpoint/value', { headers: tom, body: { value: 50 } })).status).toBe(200);
    expect((await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, { headers: tom, body: { value: 50 } })).status).toBe(403);
    expect(
      (await t.call('PATCH', '/groups/tank-ops', { headers: admin, body: { permissions: [{ permission: 'tags:read' }] } })).status,
    ).toBe(200);
    expect((await t.call('PUT', '/tags/Tank1.LevelSetpoint/value', { headers: tom, body: { value: 51 } })).status).toBe(403);
    expect((await t.call('DELETE', '/groups/tank-ops', { headers: admin })).status).toBe(409);
    expect((await t.call('PATCH', '/groups/operators', { headers: admin, body: { permissions: [] } })).status).toBe(409);
    expect(
      (await t.call('POST', '/groups', { headers: admin, body: { name: 'bad', permissions: [{ permission: 'tags:fly' }] } })).status,
    ).toBe(400);
    await t.call('DELETE', '/users/tom', { headers: admin });
    expect((await t.call('DELETE', '/groups/tank-ops', { headers: admin })).status).toBe(204);
    const audit = await t.call('GET', '/audit?action=group.create,group.update,group.delete&order=asc', { headers: admin });
    expect(audit.body.items.map((i: { action: string }) => i.action)).toEqual(['group.create', 'group.update', 'group.delete']);
  });

  it('audits alarm acknowledgements with the user', async () => {
    const admin = bearer(adminToken);
    expect((await t.call('PUT', '/tags/Line1.EmergencyStop/value', { headers: admin, body: { value: true } })).status).toBe(200);
    const current = await t.call('GET', '/alarms/current?alarm=Line1.EmergencyStop', { headers: admin });
    const id = current.body.items[0].id as number;
    expect((await t.call('POST', `/alarms/${id}/acknowledge`, { headers: admin })).status).toBe(200);
    const a = await t.call('GET', '/audit?action=alarm.acknowledge', { headers: admin });
    expect(a.body.items[0]).toMatchObject({ user: 'admin', target: String(id), details: { alarm: 'Line1.EmergencyStop' } });
  });

  it('security headers, HSTS over HTTPS, CORS only for listed origins, request ids in error bodies', async () => {
    const r = await t.call('GET', '/users/current', { headers: { origin: 'https://hmi.example', 'x-request-id': 'req-abc-123' } });
    expect(r.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(r.headers['access-control-allow-origin']).toBe('https://hmi.example');
    expect(r.body.requestId).toBe('req-abc-123');
    expect(r.headers['x-request-id']).toBe('req-abc-123');
    // The tag read, written directly without CORS, takes fastify's path with it.
    const read = await t.call('GET', `/tags/${enc(WRITABLE)}/value`, { headers: { ...bearer(adminToken), origin: 'https://hmi.example' } });
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBe('https://hmi.example');
    expect(read.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(read.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    const evil = await t.call('GET', '/health', { headers: { origin: 'https://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await t.call('OPTIONS', '/tags', {
      headers: { origin: 'https://hmi.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-csrf-token' },
    });
    expect(pre.status).toBe(204);
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/X-CSRF-Token/i);
  });

  it('audits logins, failures and writes with old and new value; GET /audit filters, pages and exports CSV; the chain verifies, then fails after tampering', async () => {
    const olga = (await login('olga', 'ol-ga-Strong-Pass-9')).body.token;
    await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, { headers: bearer(olga), body: { value: 222 } });
    await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, { headers: bearer(olga), body: { value: 333 } });
    const writes = await t.call('GET', `/audit?action=tag.write&user=olga&limit=1`, { headers: bearer(adminToken) });
    expect(writes.status).toBe(200);
    expect(writes.body.items[0]).toMatchObject({
      action: 'tag.write',
      user: 'olga',
      target: WRITABLE,
      clientAddress: '127.0.0.1',
      result: 'OK',
      details: { oldValue: 222, newValue: 333 },
    });
    expect(writes.body.next).toEqual(expect.any(String));
    const page2 = await t.call('GET', `/audit?action=tag.write&user=olga&limit=1&cursor=${writes.body.next}`, {
      headers: bearer(adminToken),
    });
    expect(page2.body.items[0].details.newValue).toBe(222);
    const victor = (await login('victor', 'vi-ctor-New-Pass-77')).body.token;
    expect((await t.call('PUT', `/tags/${enc(WRITABLE)}/value`, { headers: bearer(victor), body: { value: 444 } })).status).toBe(403);
    const denied = await t.call('GET', '/audit?action=tag.write&user=victor', { headers: bearer(adminToken) });
    expect(denied.body.items[0]).toMatchObject({ target: WRITABLE, result: 'FORBIDDEN', details: { newValue: 444 } });
    const failed = await t.call('GET', '/audit?action=auth.login_failed,auth.login_throttled&user=tina', { headers: bearer(adminToken) });
    expect(failed.body.items.length).toBeGreaterThanOrEqual(5);
    const csv = await t.call('GET', '/audit?format=csv&action=user.create,user.disable', { headers: bearer(adminToken) });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('id,at,action,user,clientAddress,target,details,result,hash');
    expect(csv.text).toMatch(/user\.disable,admin,127\.0\.0\.1,dora/);
    expect((await t.call('GET', '/audit', { headers: bearer(olga) })).status).toBe(403);
    expect(JSON.stringify((await t.call('GET', '/audit?limit=10000', { headers: bearer(adminToken) })).body)).not.toMatch(
      /Strong-Pass|New-Pass/,
    );

    const out = {
      lines: [] as string[],
      log(l: string) {
        this.lines.push(l);
      },
      error(l: string) {
        this.lines.push(l);
      },
    };
    expect(runAuditVerify(t.dataDir, out)).toBe(0);
    // An attacker with file access: drop the trigger, rewrite a write's new value.
    const db = new BetterSqlite3(join(t.dataDir, DATABASE_FILE));
    const row = db.prepare("SELECT id FROM audit_log WHERE action = 'tag.write' ORDER BY id LIMIT 1").get() as { id: number };
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare('UPDATE audit_log SET user = ? WHERE id = ?').run('someone-else', row.id);
    db.close();
    expect(runAuditVerify(t.dataDir, out)).toBe(1);
    expect(out.lines.at(-2)).toContain(`TAMPERED at row ${row.id}`);
  });
});
