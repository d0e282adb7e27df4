import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIAL_TAG as SPECIAL, startTestServer, type TestServer } from '../../helpers/server.js';

const enc = encodeURIComponent;

describe('GET /audit?tag= over HTTPS', () => {
  let s: TestServer;
  let admin: string;
  let operator: string;
  let viewer: string;
  /** Ids of the rows each write below left, in the order written. */
  const row = { single: 0, bulk: 0, operatorWrite: 0, refusedBulk: 0, refusedSingle: 0 };
  const audit = (query: string, token = admin) => s.request('GET', `/audit?${query}`, { token });
  const ids = async (query: string) => {
    const r = await audit(query);
    expect(r.status, r.text).toBe(200);
    return (r.json.items as Array<{ id: number }>).map((i) => i.id);
  };
  const lastWrite = async (user: string) => (await audit(`action=tag.write&user=${user}&limit=1`)).json.items[0].id as number;

  beforeAll(async () => {
    s = await startTestServer();
    [admin, operator, viewer] = await Promise.all([
      s.login(),
      s.login('operator', 'operator-password'),
      s.login('viewer', 'viewer-password'),
    ]);
    const put = async (token: string, name: string, value: unknown) =>
      s.request('PUT', `/tags/${enc(name)}/value`, { token, body: { value } });
    const bulk = async (token: string, items: Array<{ name: string; value: unknown }>) =>
      expect((await s.request('PUT', '/tags/values', { token, body: { items } })).status).toBe(200);

    expect((await put(admin, 'Line1.Setpoint', 11)).status).toBe(200);
    row.single = await lastWrite('admin');
    await bulk(admin, [
      { name: 'Line2.Setpoint', value: 21 },
      { name: SPECIAL, value: 2.5 },
      { name: 'T.Int8', value: 'not a number' },
    ]);
    row.bulk = await lastWrite('admin');
    // Line1.Setpoint is the operator's to write; Line2.Setpoint and SPECIAL are refused, in one row of their own.
    await bulk(operator, [
      { name: 'Line1.Setpoint', value: 12 },
      { name: 'Line2.Setpoint', value: 22 },
      { name: SPECIAL, value: 3.5 },
    ]);
    const operatorRows = (await audit('action=tag.write&user=operator&limit=2')).json.items as Array<{ id: number; result: string }>;
    row.refusedBulk = operatorRows.find((r) => r.result === 'FORBIDDEN')!.id;
    row.operatorWrite = operatorRows.find((r) => r.result === 'OK')!.id;
    expect((await put(viewer, SPECIAL, 4.5)).status).toBe(403);
    row.refusedSingle = await lastWrite('viewer');
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('finds single writes, bulk writes and refused writes about a tag; a URL-encoded name with a slash and spaces', async () => {
    expect(await ids(`tag=${enc(SPECIAL)}`)).toEqual([row.refusedSingle, row.refusedBulk, row.bulk]);
    expect(await ids(`tag=${enc(SPECIAL)}&order=asc`)).toEqual([row.bulk, row.refusedBulk, row.refusedSingle]);
    expect(await ids('tag=Line2.Setpoint')).toEqual([row.refusedBulk, row.bulk]);
    expect(await ids('tag=Line1.Setpoint')).toEqual([row.operatorWrite, row.single]);
    expect(await ids('tag=T.Int8')).toEqual([row.bulk]);
    // Exact and case-sensitive: no prefix, no other case, no wildcard.
    expect(await ids('tag=Line1.Setpoin')).toEqual([]);
    expect(await ids('tag=line1.setpoint')).toEqual([]);
    expect(await ids(`tag=${enc('Line1%')}`)).toEqual([]);
    expect(await ids(`tag=${enc('Line_.Setpoint')}`)).toEqual([]);
    const bulkRow = (await audit(`tag=T.Int8`)).json.items[0];
    expect(bulkRow).toMatchObject({ target: null, result: 'PARTIAL', details: { items: expect.any(Array) } });
  });

  it('combines with user, action, from/to, and pages with a cursor', async () => {
    expect(await ids(`tag=${enc(SPECIAL)}&user=operator`)).toEqual([row.refusedBulk]);
    expect(await ids(`tag=${enc(SPECIAL)}&action=auth.login`)).toEqual([]);
    const bulkAt = (await audit(`tag=T.Int8`)).json.items[0].at as string;
    expect(await ids(`tag=${enc(SPECIAL)}&from=${enc(bulkAt)}&to=${enc(bulkAt)}`)).toEqual([]);
    expect((await ids(`tag=${enc(SPECIAL)}&to=${enc(bulkAt)}`)).includes(row.bulk)).toBe(false);
    expect((await ids(`tag=${enc(SPECIAL)}&from=${enc(bulkAt)}`)).at(-1)).toBe(row.bulk);
    const seen: number[] = [];
    let page = await audit(`tag=${enc(SPECIAL)}&limit=1`);
    seen.push(...page.json.items.map((i: { id: number }) => i.id));
    while (page.json.next) {
      page = await audit(`tag=${enc(SPECIAL)}&limit=1&cursor=${page.json.next}`);
      seen.push(...page.json.items.map((i: { id: number }) => i.id));
    }
    expect(seen).toEqual([row.refusedSingle, row.refusedBulk, row.bulk]);
  });

  it('downloads the same rows as CSV, the next page in X-Next-Cursor', async () => {
    const r = await audit(`tag=${enc(SPECIAL)}&format=csv&limit=2`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/csv/);
    const lines = r.text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('id,at,action,user,clientAddress,target,details,result,hash');
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([row.refusedSingle, row.refusedBulk]);
    expect(lines[1]).toContain(`,${SPECIAL},`);
    const next = r.headers['x-next-cursor'] as string;
    expect(next).toEqual(expect.any(String));
    const rest = await audit(`tag=${enc(SPECIAL)}&format=csv&limit=2&cursor=${next}`);
    expect(
      rest.text
        .split('\r\n')
        .filter(Boolean)
        .slice(1)
        .map((l) => Number(l.split(',')[0])),
    ).toEqual([row.bulk]);
    expect(rest.headers['x-next-cursor']).toBeUndefined();
  });

  it('refuses an empty or over-long tag with 400; 1,024 characters are fine', async () => {
    for (const q of ['tag=', `tag=${'x'.repeat(1025)}`]) {
      const r = await audit(q);
      expect(r.status, q.slice(0, 10)).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(r.json.errors)).toContain('tag');
    }
    expect(await ids(`tag=${'x'.repeat(1024)}`)).toEqual([]);
  });

  it('needs audit:read, as without the filter', async () => {
    expect((await audit(`tag=${enc(SPECIAL)}`, operator)).status).toBe(403);
    expect((await audit(`tag=${enc(SPECIAL)}`, viewer)).status).toBe(403);
    expect((await s.request('GET', `/audit?tag=${enc(SPECIAL)}`)).status).toBe(401);
  });

  it('shows the parameter in the OpenAPI description', async () => {
    const r = await s.request('GET', '/openapi.json');
    const tag = r.json.paths['/audit'].get.parameters.find((p: { name: string }) => p.name === 'tag');
    expect(tag).toMatchObject({ in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 1024 } });
  });
});
