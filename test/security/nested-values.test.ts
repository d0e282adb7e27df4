import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WsClient } from '../integration/push/clients.js';
import { ATTACK_PROJECT } from './tags-probe.js';

/**
 * Issue 11, finding 12: a deeply nested value in a refused write answered 500 (the audit redaction recursed until
 * the stack overflowed) and left no audit row; depth 1,000 was stored and then broke clients reading /audit.
 * Now every such write gets a clear 4xx, and the audit keeps only the value's size and hash.
 */
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const nestedArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const json = { 'content-type': 'application/json' };

describe('deeply nested values (finding 12)', () => {
  let s: TestServer;
  let admin: string;
  let mallory: string;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: ATTACK_PROJECT });
    [admin, mallory] = await Promise.all([s.login(), s.login('mallory', 'mallory-password')]);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const latestRow = async () => {
    const r = await s.request('GET', '/audit?action=tag.write&user=mallory&limit=1', { token: admin });
    expect(r.status).toBe(200);
    return r.json.items[0];
  };

  for (const [kind, make] of [
    ['array', nestedArray],
    ['object', nestedObject],
  ] as const) {
    for (const depth of [1_000, 100_000]) {
      it(`${kind} nested ${depth} deep: refused, hidden and wrong-typed writes answer 4xx; the audit keeps size and hash`, async () => {
        const value = make(depth);
        const summary = { truncated: true, bytes: value.length, sha256: sha(value) };
        const put = (tag: string) =>
          s.request('PUT', `/tags/${tag}/value`, { token: mallory, rawBody: `{"value":${value}}`, headers: json });

        const refused = await put('Tank1.Level');
        expect([refused.status, refused.json.code]).toEqual([403, 'FORBIDDEN']);
        expect(await latestRow()).toMatchObject({ target: 'Tank1.Level', result: 'FORBIDDEN', details: { newValue: summary } });

        const hidden = await put('Tank1.Secret');
        expect([hidden.status, hidden.json.code]).toEqual([404, 'TAG_NOT_FOUND']);
        expect(await latestRow()).toMatchObject({ target: 'Tank1.Secret', result: 'FORBIDDEN', details: { newValue: summary } });

        const wrongType = await put('Line1.Speed');
        expect([wrongType.status, wrongType.json.code]).toEqual([422, 'TYPE_MISMATCH']);
        expect(await latestRow()).toMatchObject({ target: 'Line1.Speed', result: 'FAILED', details: { newValue: null } });

        const bulk = await s.request('PUT', '/tags/values', {
          token: mallory,
          rawBody: `{"items":[{"name":"Tank1.Level","value":${value}},{"name":"Line1.Speed","value":[[1]]}]}`,
          headers: json,
        });
        expect(bulk.status).toBe(200);
        expect(bulk.json.items.map((i: { error: { code: string } }) => i.error.code)).toEqual(['FORBIDDEN', 'TYPE_MISMATCH']);
        const forbiddenRows = (await s.request('GET', '/audit?action=tag.write&user=mallory&limit=5', { token: admin })).json.items.filter(
          (r: { result: string }) => r.result === 'FORBIDDEN',
        );
        expect(forbiddenRows[0]).toMatchObject({ target: 'Tank1.Level', details: { newValue: summary } });

        // What reaches /audit is small and any client can parse it.
        const all = await s.request('GET', '/audit?user=mallory&limit=100', { token: admin });
        expect(all.status).toBe(200);
        expect(all.text.length).toBeLessThan(50_000);
        expect((await s.request('GET', '/health')).status).toBe(200);
      });
    }
  }

  it('the same over a WebSocket write message', async () => {
    const value = nestedArray(100_000);
    const ws = await WsClient.open(`${s.url.replace('https:', 'wss:')}/ws`, s.ca, { authorization: `Bearer ${mallory}` });
    await ws.waitFor((m) => m.type === 'authenticated');
    ws.send(`{"type":"write","id":"deep","items":[{"name":"Tank1.Level","value":${value}},{"name":"Line1.Speed","value":${value}}]}`);
    const written = await ws.waitFor((m) => m.type === 'written' || m.type === 'error');
    expect(written).toMatchObject({
      type: 'written',
      id: 'deep',
      items: [
        { name: 'Tank1.Level', error: { code: 'FORBIDDEN' } },
        { name: 'Line1.Speed', error: { code: 'TYPE_MISMATCH' } },
      ],
    });
    ws.close();
    const rows = (await s.request('GET', '/audit?action=tag.write&user=mallory&limit=5', { token: admin })).json.items;
    expect(rows.find((r: { result: string }) => r.result === 'FORBIDDEN')).toMatchObject({
      target: 'Tank1.Level',
      details: { newValue: { truncated: true, bytes: value.length, sha256: sha(value) } },
    });
  });
});
