import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIAL_TAG as SPECIAL, startTestServer, type TestServer } from '../../helpers/server.js';

const enc = encodeURIComponent;

describe('tags API over HTTPS', () => {
  let s: TestServer;
  let admin: string;
  let operator: string;
  let viewer: string;
  beforeAll(async () => {
    s = await startTestServer();
    [admin, operator, viewer] = await Promise.all([
      s.login(),
      s.login('operator', 'operator-password'),
      s.login('viewer', 'viewer-password'),
    ]);
  });
  afterAll(async () => {
    await s.stop();
  });

  describe('GET /tags', () => {
    it('lists every tag with type and link', async () => {
      const r = await s.request('GET', '/tags', { token: admin });
      expect(r.status).toBe(200);
      expect(r.json.total).toBe(20);
      const t = r.json.items.find((i: any) => i.name === 'T.Limited');
      expect(t).toMatchObject({
        type: 'Float64',
        unit: 'bar',
        access: 'readwrite',
        connection: 'internal',
        min: 0,
        max: 10,
        links: { value: '/tags/T.Limited/value' },
      });
      expect(r.json.items.find((i: any) => i.name === SPECIAL).links.value).toBe(`/tags/${enc(SPECIAL)}/value`);
      expect(r.json.items.find((i: any) => i.name === 'T.ReadOnly').access).toBe('read');
      expect(r.json.next).toBeUndefined();
    });
    it('filters by glob and type, pages with a cursor', async () => {
      const g = await s.request('GET', '/tags?filter=T.*', { token: admin });
      expect(g.json.items.map((i: any) => i.name)).toContain('T.Bool');
      expect(g.json.items.every((i: any) => i.name.startsWith('T.'))).toBe(true);
      const ty = await s.request('GET', '/tags?type=Int64', { token: admin });
      expect(ty.json.items.map((i: any) => i.name)).toEqual(['T.Int64']);
      const seen: string[] = [];
      let cursor: string | null | undefined;
      do {
        const p = await s.request('GET', `/tags?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
        expect(p.status).toBe(200);
        expect(p.json.total).toBe(20);
        seen.push(...p.json.items.map((i: any) => i.name));
        cursor = p.json.next;
      } while (cursor);
      expect(seen).toHaveLength(20);
      expect(new Set(seen).size).toBe(20);
    });
    it('refuses bad queries', async () => {
      expect((await s.request('GET', '/tags?type=Int17', { token: admin })).json.code).toBe('VALIDATION_FAILED');
      expect((await s.request('GET', '/tags?limit=0', { token: admin })).status).toBe(400);
      expect((await s.request('GET', '/tags?limit=2&cursor=garbage', { token: admin })).json.code).toBe('VALIDATION_FAILED');
      expect((await s.request('GET', '/tags?bogus=1', { token: admin })).status).toBe(400);
      const hostile = await s.request('GET', `/tags?filter=${encodeURIComponent('*a'.repeat(17))}`, { token: admin });
      expect(hostile.status).toBe(400);
      expect(hostile.json.code).toBe('VALIDATION_FAILED');
    });
    it('needs a session and tags:read', async () => {
      const r = await s.request('GET', '/tags');
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.json).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', type: 'https://tagway.dev/problems/unauthenticated' });
      expect(r.headers['www-authenticate']).toMatch(/Bearer/);
      const outsider = await s.login('outsider', 'outsider-password');
      expect((await s.request('GET', '/tags', { token: outsider })).json.code).toBe('FORBIDDEN');
    });
  });

  describe('GET/PUT /tags/{name}/value', () => {
    it('reads a value object', async () => {
      const r = await s.request('GET', '/tags/T.Limited/value', { token: viewer });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        name: 'T.Limited',
        value: 5,
        quality: 'GOOD',
        qualityCode: 192,
        subStatus: 'NON_SPECIFIC',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
    });
    it('answers a read, its HEAD, a single write and their errors with the security headers (written directly)', async () => {
      const security = {
        'strict-transport-security': 'max-age=31536000',
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-site',
      };
      const r = await s.request('GET', '/tags/T.Limited/value', { token: viewer });
      expect(r.headers).toMatchObject({ ...security, 'content-type': 'application/json; charset=utf-8' });
      expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
      const multiByte = await s.request('GET', `/tags/${enc(SPECIAL)}/value`, { token: admin });
      expect(Number(multiByte.headers['content-length'])).toBe(Buffer.byteLength(multiByte.text));
      const head = await s.request('HEAD', '/tags/T.Limited/value', { token: viewer });
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
      expect(head.headers).toMatchObject({ ...security, 'content-length': r.headers['content-length'] });
      for (const e of [
        await s.request('GET', '/tags/No.Such.Tag/value', { token: viewer }),
        await s.request('GET', '/tags/T.Limited/value'),
        await s.request('GET', `/tags/${'x'.repeat(300)}/value`, { token: viewer }),
      ]) {
        expect(e.status).toBeGreaterThanOrEqual(400);
        expect(e.headers).toMatchObject({ ...security, 'content-type': 'application/problem+json; charset=utf-8' });
        expect(e.headers['x-request-id']).toBe(e.json.requestId);
      }
      // A single write is answered the same way, its errors too (the body's validation, the value's, permission).
      const w = await s.request('PUT', `/tags/${enc(SPECIAL)}/value`, { token: admin, body: { value: 1.5 } });
      expect(w.status).toBe(200);
      expect(w.headers).toMatchObject({ ...security, 'content-type': 'application/json; charset=utf-8' });
      expect(Number(w.headers['content-length'])).toBe(Buffer.byteLength(w.text));
      for (const e of [
        await s.request('PUT', '/tags/T.Float64/value', { token: admin, body: { val: 1 } }),
        await s.request('PUT', '/tags/T.Float64/value', { token: admin, body: { value: 'x' } }),
        await s.request('PUT', '/tags/Line2.Setpoint/value', { token: operator, body: { value: 1 } }),
      ]) {
        expect(e.status).toBeGreaterThanOrEqual(400);
        expect(e.headers).toMatchObject({ ...security, 'content-type': 'application/problem+json; charset=utf-8' });
      }
    });
    it('handles a name with / . : [ ] # and a space, percent-encoded', async () => {
      const r = await s.request('GET', `/tags/${enc(SPECIAL)}/value`, { token: admin });
      expect(r.status).toBe(200);
      expect(r.json.name).toBe(SPECIAL);
      const w = await s.request('PUT', `/tags/${enc(SPECIAL)}/value`, { token: admin, body: { value: 2.25 } });
      expect(w.status).toBe(200);
      expect(w.json.value).toBe(2.25);
    });
    it('writes every type and reads it back', async () => {
      const cases: Array<[string, unknown, unknown]> = [
        ['T.Bool', true, true],
        ['T.Int8', -128, -128],
        ['T.UInt8', 255, 255],
        ['T.Int16', -32768, -32768],
        ['T.UInt16', 65535, 65535],
        ['T.Int32', -2147483648, -2147483648],
        ['T.UInt32', 4294967295, 4294967295],
        ['T.Int64', '-9223372036854775808', '-9223372036854775808'],
        ['T.UInt64', '18446744073709551615', '18446744073709551615'],
        ['T.Int64', 42, '42'],
        ['T.Float32', 1.5, 1.5],
        ['T.Float64', -0.1, -0.1],
        ['T.String', 'héllo wörld', 'héllo wörld'],
        ['T.DateTime', '2026-11-25T05:00:00+01:00', '2026-11-25T04:00:00.000Z'],
      ];
      for (const [name, value, expected] of cases) {
        const w = await s.request('PUT', `/tags/${name}/value`, { token: admin, body: { value } });
        expect(w.status, `${name} ${w.text}`).toBe(200);
        expect(w.json).toMatchObject({ name, value: expected, quality: 'GOOD' });
        expect((await s.request('GET', `/tags/${name}/value`, { token: admin })).json.value).toEqual(expected);
      }
    });
    it('refuses wrong types, out-of-range values and read-only tags, changing nothing', async () => {
      const before = (await s.request('GET', '/tags/T.Int16/value', { token: admin })).json;
      const bad: Array<[string, unknown, string, number]> = [
        ['T.Int16', '12', 'TYPE_MISMATCH', 422],
        ['T.Int16', 40000, 'OUT_OF_RANGE', 422],
        ['T.Int16', 1.5, 'TYPE_MISMATCH', 422],
        ['T.Int16', null, 'TYPE_MISMATCH', 422],
        ['T.Int16', [1], 'TYPE_MISMATCH', 422],
        ['T.Bool', 1, 'TYPE_MISMATCH', 422],
        ['T.Int64', 2 ** 60, 'TYPE_MISMATCH', 422],
        ['T.UInt64', '-1', 'OUT_OF_RANGE', 422],
        ['T.DateTime', '2026-02-30T00:00:00Z', 'TYPE_MISMATCH', 422],
        ['T.String', 'x'.repeat(21), 'OUT_OF_RANGE', 422],
        ['T.Limited', 10.5, 'OUT_OF_RANGE', 422],
        ['T.Limited', -1, 'OUT_OF_RANGE', 422],
        ['T.ReadOnly', 1, 'READ_ONLY', 409],
        ['Sim.Sine', 1, 'READ_ONLY', 409],
      ];
      for (const [name, value, code, status] of bad) {
        const r = await s.request('PUT', `/tags/${name}/value`, { token: admin, body: { value } });
        expect(r.status, `${name} ${JSON.stringify(value)}`).toBe(status);
        expect(r.json.code).toBe(code);
        expect(r.json.detail).toContain(name);
      }
      expect((await s.request('GET', '/tags/T.Int16/value', { token: admin })).json).toEqual(before);
      expect((await s.request('GET', '/tags/T.ReadOnly/value', { token: admin })).json.value).toBe(42);
    });
    it('answers 404 for an unknown tag', async () => {
      const r = await s.request('GET', '/tags/No.Such.Tag/value', { token: admin });
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ code: 'TAG_NOT_FOUND', detail: "No tag named 'No.Such.Tag'" });
      expect((await s.request('PUT', '/tags/No.Such.Tag/value', { token: admin, body: { value: 1 } })).json.code).toBe('TAG_NOT_FOUND');
    });
    it('refuses malformed JSON, bodies without value, unknown fields and wrong media types', async () => {
      const m = await s.request('PUT', '/tags/T.Int8/value', {
        token: admin,
        rawBody: '{"value": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(m.status).toBe(400);
      expect(m.json.code).toBe('VALIDATION_FAILED');
      const missing = await s.request('PUT', '/tags/T.Int8/value', { token: admin, body: {} });
      expect(missing.json).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body.value', message: 'is required' }] });
      const extra = await s.request('PUT', '/tags/T.Int8/value', { token: admin, body: { value: 1, unit: 'x' } });
      expect(extra.json.errors).toEqual([{ field: 'body.unit', message: 'unknown field' }]);
      const text = await s.request('PUT', '/tags/T.Int8/value', {
        token: admin,
        rawBody: 'value=1',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(415);
    });
    it('refuses an oversize body with 413', async () => {
      const r = await s.request('PUT', '/tags/T.String/value', { token: admin, body: { value: 'x'.repeat(1_100_000) } });
      expect(r.status).toBe(413);
      expect(r.json.code).toBe('PAYLOAD_TOO_LARGE');
    });
    it('enforces scoped write permissions', async () => {
      expect((await s.request('PUT', '/tags/Line1.Setpoint/value', { token: operator, body: { value: 11 } })).status).toBe(200);
      const r = await s.request('PUT', '/tags/Line2.Setpoint/value', { token: operator, body: { value: 21 } });
      expect(r.status).toBe(403);
      expect(r.json.code).toBe('FORBIDDEN');
      expect((await s.request('GET', '/tags/Line2.Setpoint/value', { token: admin })).json.value).toBe(20);
      expect((await s.request('PUT', '/tags/Line1.Setpoint/value', { token: viewer, body: { value: 12 } })).status).toBe(403);
    });
    it('serialises concurrent writes: the final value is one of those written and all succeed', async () => {
      const values = Array.from({ length: 50 }, (_, i) => i);
      const replies = await Promise.all(values.map((v) => s.request('PUT', '/tags/T.Int32/value', { token: admin, body: { value: v } })));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      const final = (await s.request('GET', '/tags/T.Int32/value', { token: admin })).json.value;
      expect(values).toContain(final);
    });
  });

  describe('POST /tags/values (bulk read)', () => {
    it('answers in request order with per-item errors', async () => {
      const r = await s.request('POST', '/tags/values', {
        token: viewer,
        body: { names: ['T.Limited', 'nope', SPECIAL, 'T.ReadOnly', 'T.Limited'] },
      });
      expect(r.status).toBe(200);
      expect(r.json.items.map((i: any) => i.name)).toEqual(['T.Limited', 'nope', SPECIAL, 'T.ReadOnly', 'T.Limited']);
      expect(r.json.items[1]).toEqual({ name: 'nope', error: { code: 'TAG_NOT_FOUND', message: "No tag named 'nope'" } });
      expect(r.json.items[3]).toMatchObject({ value: 42, quality: 'GOOD' });
    });
    it('keeps multi-byte UTF-8 intact in bulk answers', async () => {
      await s.request('PUT', '/tags/T.String/value', { token: admin, body: { value: 'Füllstand ✓ 水' } });
      const r = await s.request('POST', '/tags/values', { token: admin, body: { names: ['T.String', 'nöpe', 'T.String'] } });
      expect(r.status).toBe(200);
      expect(r.json.items.map((i: any) => i.value ?? i.error.code)).toEqual(['Füllstand ✓ 水', 'TAG_NOT_FOUND', 'Füllstand ✓ 水']);
      expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    });
    it('limits the names per request with 413 and validates the body', async () => {
      const names = Array.from({ length: 10_001 }, () => 'T.Bool');
      const r = await s.request('POST', '/tags/values', { token: admin, body: { names } });
      expect(r.status).toBe(413);
      expect(r.json.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await s.request('POST', '/tags/values', { token: admin, body: { names: 'T.Bool' } })).status).toBe(400);
      expect((await s.request('POST', '/tags/values', { token: admin, body: { names: [1] } })).status).toBe(400);
      expect((await s.request('POST', '/tags/values', { body: { names: ['T.Bool'] } })).status).toBe(401);
    });
    it('reads 10,000 names in one request', async () => {
      const names = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 'T.Limited' : 'Sim.Sine'));
      const r = await s.request('POST', '/tags/values', { token: admin, body: { names } });
      expect(r.status).toBe(200);
      expect(r.json.items).toHaveLength(10_000);
    });
  });

  describe('PUT /tags/values (bulk write)', () => {
    it('writes good items and reports bad ones, in order', async () => {
      const r = await s.request('PUT', '/tags/values', {
        token: operator,
        body: {
          items: [
            { name: 'Line1.Setpoint', value: 33 },
            { name: 'nope', value: 1 },
            { name: 'Line2.Setpoint', value: 1 },
            { name: 'Line1.Setpoint', value: 'x' },
            { name: `${SPECIAL}`, value: 9 },
          ],
        },
      });
      expect(r.status).toBe(200);
      expect(r.json.items).toEqual([
        { name: 'Line1.Setpoint', status: 'OK' },
        { name: 'nope', error: { code: 'TAG_NOT_FOUND', message: "No tag named 'nope'" } },
        { name: 'Line2.Setpoint', error: { code: 'FORBIDDEN', message: "You may not write tag 'Line2.Setpoint'" } },
        { name: 'Line1.Setpoint', error: { code: 'TYPE_MISMATCH', message: expect.stringContaining('Float64') } },
        { name: SPECIAL, error: { code: 'FORBIDDEN', message: expect.any(String) } },
      ]);
      expect((await s.request('GET', '/tags/Line1.Setpoint/value', { token: admin })).json.value).toBe(33);
      expect((await s.request('GET', '/tags/Line2.Setpoint/value', { token: admin })).json.value).toBe(20);
      // The audit trail: one row for the items the engine took (each with old and new value, or its error), one for
      // those refused for lack of permission; unknown names are not recorded.
      const audit = await s.request('GET', '/audit?action=tag.write&user=operator&limit=2', { token: admin });
      const rows = audit.json.items as Array<{ target: string | null; result: string; details: any }>;
      const written = rows.find((r) => r.result === 'PARTIAL')!;
      expect(written.target).toBeNull();
      expect(written.details.items).toEqual([
        { name: 'Line1.Setpoint', oldValue: expect.any(Number), newValue: 33 },
        { name: 'Line1.Setpoint', oldValue: expect.any(Number), newValue: null, error: expect.stringContaining('Float64') },
      ]);
      const refused = rows.find((r) => r.result === 'FORBIDDEN')!;
      expect(refused.details).toMatchObject({ refused: 2, items: [{ name: 'Line2.Setpoint' }, { name: SPECIAL }] });
    });
    it('writes nothing when the body as a whole is invalid', async () => {
      const r = await s.request('PUT', '/tags/values', {
        token: admin,
        body: {
          items: [
            { name: 'T.Int8', value: 7 },
            { nam: 'T.Int8', value: 8 },
          ],
        },
      });
      expect(r.status).toBe(400);
      expect((await s.request('GET', '/tags/T.Int8/value', { token: admin })).json.value).not.toBe(7);
      const big = await s.request('PUT', '/tags/values', {
        token: admin,
        body: { items: Array.from({ length: 10_001 }, () => ({ name: 'T.Int8', value: 1 })) },
      });
      expect(big.status).toBe(413);
    });
    it('writes 1,000 items in one request', async () => {
      const items = Array.from({ length: 1000 }, (_, i) => ({ name: i % 2 ? 'T.Float64' : 'T.Int32', value: i }));
      const r = await s.request('PUT', '/tags/values', { token: admin, body: { items } });
      expect(r.status).toBe(200);
      expect(r.json.items.every((i: any) => i.status === 'OK')).toBe(true);
      expect((await s.request('GET', '/tags/T.Float64/value', { token: admin })).json.value).toBe(999);
    });
  });

  it('keeps simulated values moving', async () => {
    const a = (await s.request('GET', '/tags/Sim.Counter/value', { token: admin })).json;
    await new Promise((r) => setTimeout(r, 350));
    const b = (await s.request('GET', '/tags/Sim.Counter/value', { token: admin })).json;
    expect(b.timestamp > a.timestamp).toBe(true);
    expect(b.value).toBeGreaterThanOrEqual(0);
    expect(b.value).toBeLessThanOrEqual(5);
  });
});
