import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Issue 11, finding 11: POST /auth/refresh reset the 12 h absolute lifetime, so a token could live forever. */
describe('refresh keeps the absolute session lifetime', () => {
  let s: TestServer;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    s = await startTestServer({ clock, config: { sessions: { idleTimeoutMs: 30 * 60_000, absoluteLifetimeMs: 2 * 3_600_000 } } });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('refreshing every 20 minutes does not keep a session alive past the absolute limit of its login', async () => {
    const loginAt = clock.now();
    let token = await s.login('viewer', 'viewer-password');
    let refreshes = 0;
    for (;;) {
      clock.advance(20 * 60_000);
      const r = await s.request('POST', '/auth/refresh', { token });
      if (r.status !== 200) {
        expect(r.status).toBe(401);
        break;
      }
      refreshes++;
      token = r.json.token;
      // The answer never promises more than the absolute limit.
      expect(Date.parse(r.json.expiresAt)).toBeLessThanOrEqual(loginAt + 2 * 3_600_000);
      expect(refreshes).toBeLessThan(10);
    }
    // 2 h / 20 min: refreshes at 20, 40, …, 100 min work; at 120 min the session has ended.
    expect(refreshes).toBe(5);
    expect(clock.now() - loginAt).toBe(2 * 3_600_000);
    expect((await s.request('GET', '/users/current', { token })).status).toBe(401);
  }, 30_000);
});
