import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { defaultConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 11, finding 8: rotating user names and source addresses gave ~7,500 guesses/min; five wrong logins locked
 * the real admin out even with the right password; behind a reverse proxy (one peer address) 20 failures locked
 * out everyone. Now: per-(user, network) counters, per-network limits (IPv6 by /64), a global budget, trusted
 * proxies for X-Forwarded-For, and an admin unlock.
 */
const login = (s: TestServer, username: string, password: string, from?: string) =>
  s.request('POST', '/auth/login', { body: { username, password }, headers: from ? { 'x-forwarded-for': from } : {} });

describe('login budgets behind a trusted proxy', () => {
  let s: TestServer;
  let admin: string;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    const security = defaultConfig().security;
    security.throttle = { maxFailuresPerAddress: 8, maxFailuresGlobal: 1000 };
    s = await startTestServer({ clock, config: { trustedProxies: ['127.0.0.1', '::1'], security } });
    admin = await s.login();
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('failures from one address do not lock the owner out at another; the attacking address is refused even with the right password', async () => {
    for (let i = 0; i < 5; i++) expect((await login(s, 'viewer', `bad-${i}`, '198.51.100.7')).status).toBe(401);
    const attacker = await login(s, 'viewer', 'viewer-password', '198.51.100.7');
    expect(attacker.status).toBe(429);
    expect(Number(attacker.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(s, 'viewer', 'viewer-password', '203.0.113.9')).status).toBe(200);
  });

  it('counts IPv6 clients by /64: rotating addresses inside one /64 buys nothing', async () => {
    for (let i = 0; i < 8; i++) await login(s, `ghost${i}`, 'x', `2001:db8:1:2::${(i + 1).toString(16)}`);
    const r = await login(s, 'operator', 'operator-password', '2001:db8:1:2:aaaa::1');
    expect(r.status).toBe(429);
    expect((await login(s, 'operator', 'operator-password', '2001:db8:1:3::1')).status).toBe(200);
  });

  it('an admin unlocks a user at every address (audited); others may not', async () => {
    for (let i = 0; i < 5; i++) await login(s, 'operator', `bad-${i}`, '192.0.2.50');
    expect((await login(s, 'operator', 'operator-password', '192.0.2.50')).status).toBe(429);
    const viewer = (await login(s, 'viewer', 'viewer-password', '203.0.113.9')).json.token;
    expect((await s.request('POST', '/users/operator/unlock', { token: viewer })).status).toBe(403);
    expect((await s.request('POST', '/users/nobody-here/unlock', { token: admin })).status).toBe(404);
    const u = await s.request('POST', '/users/operator/unlock', { token: admin });
    expect(u.status).toBe(200);
    expect(u.json).toEqual({ username: 'operator', clearedCounters: 1, enabled: false });
    expect((await login(s, 'operator', 'operator-password', '192.0.2.50')).status).toBe(200);
    const audit = await s.request('GET', '/audit?action=user.unlock', { token: admin });
    expect(audit.json.items[0]).toMatchObject({ action: 'user.unlock', user: 'admin', target: 'operator', result: 'OK' });
  });

  it('request.ip comes from X-Forwarded-For only through a trusted proxy (audit rows show the client)', async () => {
    await login(s, 'outsider', 'wrong', '192.0.2.77');
    const rows = await s.request('GET', '/audit?action=auth.login_failed&user=outsider', { token: admin });
    expect(rows.json.items[0].clientAddress).toBe('192.0.2.77');
  });
});

describe('the global login budget', () => {
  let s: TestServer;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    const security = defaultConfig().security;
    security.throttle = { maxFailuresGlobal: 30 };
    s = await startTestServer({ clock, config: { trustedProxies: ['127.0.0.1'], security } });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('bounds guesses per minute across rotating user names and addresses, then recovers; known users still get in', async () => {
    // The owner logged in from home before the attack.
    expect((await login(s, 'viewer', 'viewer-password', '10.250.0.1')).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await login(s, `user${i}`, 'guess', `10.${i}.0.1`)).status);
    expect(statuses.filter((x) => x === 401)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual(Array(10).fill(429));
    const t0 = Date.now();
    expect((await s.request('GET', '/health')).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    // While the budget is spent, the owner at the network they logged in from before still gets in; others wait.
    expect((await login(s, 'viewer', 'viewer-password', '10.250.0.1')).status).toBe(200);
    expect((await login(s, 'viewer', 'viewer-password', '10.251.0.1')).status).toBe(429);
    clock.advance(61_000);
    expect((await login(s, 'viewer', 'viewer-password', '10.200.0.1')).status).toBe(200);
  }, 30_000);

  it('without a trusted proxy, X-Forwarded-For is ignored', async () => {
    const plain = await startTestServer({ clock });
    try {
      await login(plain, 'outsider', 'wrong', '192.0.2.99');
      const admin = await plain.login();
      const rows = await plain.request('GET', '/audit?action=auth.login_failed&user=outsider', { token: admin });
      expect(rows.json.items[0].clientAddress).toBe('127.0.0.1');
    } finally {
      await plain.stop();
    }
  }, 30_000);
});
