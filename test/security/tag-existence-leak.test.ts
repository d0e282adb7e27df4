import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WsClient } from '../integration/push/clients.js';
import { ATTACK_PROJECT } from './tags-probe.js';

/**
 * Issue 11, finding 14: 404 for a missing tag but 403 for an existing one outside the caller's scope told a scoped
 * user which tag names exist. Now a tag the caller may not read is answered exactly like a missing one, on every
 * tag operation; a caller holding the permission on no tag at all gets 403 for any name, existing or not.
 */
const HIDDEN = 'Tank1.Secret'; // exists, mallory may not read it
const MISSING = 'Tank1.Nothing'; // does not exist

describe('tag existence does not leak (finding 14)', () => {
  let s: TestServer;
  let admin: string;
  let mallory: string;
  let nobody: string;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: ATTACK_PROJECT });
    admin = await s.login();
    mallory = await s.login('mallory', 'mallory-password');
    nobody = await s.login('nemo', 'nemo-password');
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** The answer with the tag name and the request id masked: what must be identical for both names. */
  const shape = (r: { status: number; text: string }, name: string) => ({
    status: r.status,
    body: r.text.replaceAll(name, '<name>').replace(/"requestId":"[^"]*"/, '"requestId":"<id>"'),
  });

  const single = (method: 'GET' | 'PUT', token: string, name: string) =>
    s.request(method, `/tags/${name}/value`, { token, ...(method === 'PUT' ? { body: { value: 1 } } : {}) });

  for (const method of ['GET', 'PUT'] as const) {
    it(`${method} /tags/{name}/value: an unreadable tag answers like a missing one`, async () => {
      const hidden = shape(await single(method, mallory, HIDDEN), HIDDEN);
      const missing = shape(await single(method, mallory, MISSING), MISSING);
      expect(hidden).toEqual(missing);
      expect(hidden.status).toBe(404);
      expect(JSON.parse(hidden.body)).toMatchObject({ code: 'TAG_NOT_FOUND', detail: "No tag named '<name>'" });
    });

    it(`${method} /tags/{name}/value: a caller without the permission gets 403 for any name`, async () => {
      const existing = shape(await single(method, nobody, 'Line1.Speed'), 'Line1.Speed');
      const missing = shape(await single(method, nobody, MISSING), MISSING);
      expect(existing).toEqual(missing);
      expect(existing.status).toBe(403);
    });
  }

  it('a readable tag outside the write scope still answers 403 on write (its existence is no secret)', async () => {
    const r = await single('PUT', mallory, 'Tank1.Level');
    expect([r.status, r.json.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('bulk read and bulk write: per-item answers are identical for unreadable and missing tags', async () => {
    const read = await s.request('POST', '/tags/values', { token: mallory, body: { names: [HIDDEN, MISSING] } });
    expect(read.status).toBe(200);
    const [h, m] = read.json.items;
    expect(h).toEqual({ name: HIDDEN, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${HIDDEN}'` } });
    expect(m).toEqual({ name: MISSING, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${MISSING}'` } });

    const write = await s.request('PUT', '/tags/values', {
      token: mallory,
      body: {
        items: [
          { name: HIDDEN, value: 1 },
          { name: MISSING, value: 1 },
        ],
      },
    });
    expect(write.status).toBe(200);
    expect(write.json.items).toEqual([
      { name: HIDDEN, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${HIDDEN}'` } },
      { name: MISSING, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${MISSING}'` } },
    ]);
    expect((await s.request('GET', `/tags/${HIDDEN}/value`, { token: admin })).json.value).toBe(9);
  });

  it('the listing and the WebSocket write reveal nothing either; the attempt is audited for the administrator', async () => {
    const list = await s.request('GET', '/tags?filter=Tank1.*', { token: mallory });
    expect(list.json).toMatchObject({ total: 1, items: [{ name: 'Tank1.Level' }] });

    const ws = await WsClient.open(`${s.url.replace('https:', 'wss:')}/ws`, s.ca, { authorization: `Bearer ${mallory}` });
    await ws.waitFor((m) => m.type === 'authenticated');
    ws.send({
      type: 'write',
      id: 'probe',
      items: [
        { name: HIDDEN, value: 2 },
        { name: MISSING, value: 2 },
      ],
    });
    const written = await ws.waitFor((m) => m.type === 'written');
    ws.close();
    expect(written.items).toEqual([
      { name: HIDDEN, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${HIDDEN}'` } },
      { name: MISSING, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${MISSING}'` } },
    ]);
    // The trail records the truth: an attempt on an existing tag outside the user's rights.
    const rows = (await s.request('GET', '/audit?action=tag.write&user=mallory&limit=1', { token: admin })).json.items;
    expect(rows[0]).toMatchObject({ target: HIDDEN, result: 'FORBIDDEN', details: { newValue: 2 } });
  });
});
