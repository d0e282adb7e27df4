import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/https-server.js';

describe('optional lockout and the address throttle', () => {
  let t: TestServer;
  const clock = new ManualClock(Date.now());
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer({
      clock,
      config: (c) => {
        c.security.throttle = { lockoutAfter: 3, maxFailuresPerAddress: 8 };
      },
    });
    admin = (await t.call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).body.token;
    await t.call('POST', '/users', {
      headers: { authorization: `Bearer ${admin}` },
      body: { username: 'lou', password: 'lo-u-Strong-Pass-9', groups: ['viewers'] },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('disables a user after N consecutive failures; an admin re-enables it', async () => {
    for (let i = 0; i < 3; i++)
      expect((await t.call('POST', '/auth/login', { body: { username: 'lou', password: `bad-${i}` } })).status).toBe(401);
    expect((await t.call('POST', '/auth/login', { body: { username: 'lou', password: 'lo-u-Strong-Pass-9' } })).status).toBe(401);
    const u = await t.call('GET', '/users/lou', { headers: { authorization: `Bearer ${admin}` } });
    expect(u.body.disabled).toBe(true);
    const audit = await t.call('GET', '/audit?action=auth.lockout', { headers: { authorization: `Bearer ${admin}` } });
    expect(audit.body.items[0]).toMatchObject({ user: 'lou', target: 'lou' });
    await t.call('PATCH', '/users/lou', { headers: { authorization: `Bearer ${admin}` }, body: { disabled: false } });
    expect((await t.call('POST', '/auth/login', { body: { username: 'lou', password: 'lo-u-Strong-Pass-9' } })).status).toBe(200);
  });

  it('blocks a client address that tries many usernames, then lifts', async () => {
    // The first test's failures came from the same address and count too: the 8th failure from it blocks.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await t.call('POST', '/auth/login', { body: { username: `ghost${i}`, password: 'x' } })).status);
    expect(statuses).toContain(429);
    const r = await t.call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    clock.advance(Number(r.headers['retry-after']) * 1000);
    expect((await t.call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).status).toBe(200);
  });
});
