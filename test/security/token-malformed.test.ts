import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Issue 11, finding 16: malformed percent-encoding in Basic client credentials at POST /auth/token gave a 500. */
describe('POST /auth/token with malformed Basic credentials', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  const token = (user: string, pass: string) =>
    s.request('POST', '/auth/token', {
      rawBody: 'grant_type=client_credentials',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64'),
      },
    });

  it('answers 400 invalid_request (never 500) for bad escapes in the id or the secret', async () => {
    for (const [u, p] of [
      ['%zz', 'secret'],
      ['client', '%'],
      ['%E0%A4%A', 'x'],
      ['ok', '%C0%AF'],
    ] as const) {
      const r = await token(u, p);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/percent-encoding/) });
      expect(r.headers['cache-control']).toBe('no-store');
    }
    // A well-formed but unknown client is still a plain 401.
    expect((await token('nobody%20here', 'x')).status).toBe(401);
    expect((await s.request('GET', '/health')).status).toBe(200);
  });
});
