import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../helpers/server.js';

const PROJECT = `
name: WinCC OA test
wincc: { systemName: System1 }
connections:
  - { name: internal, driver: internal }
tags:
  - { name: Tank1.Level, type: Float64, connection: internal, initial: 4.5, history: { mode: onChange } }
  - { name: Tank1.Pressure, type: Float64, connection: internal, initial: 1.25, history: { mode: onChange } }
  - { name: Secret.Value, type: Int32, connection: internal, initial: 7, history: { mode: onChange } }
groups:
  - name: tankReaders
    permissions: [{ permission: "tags:read", tags: "Tank1.**" }, { permission: "history:read", tags: "Tank1.**" }]
users:
  - { username: tanker, password: Tanker-Strong-Pass-9, groups: [tankReaders] }
`;

const GOOD = 0xc0;
const BAD = 0x00;
const H0 = Date.UTC(2025, 5, 1, 10, 0, 0);
const iso = (t: number) => new Date(t).toISOString();
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ADMIN = { authorization: basic('admin', ADMIN_PASSWORD) };
const TANKER = { authorization: basic('tanker', 'Tanker-Strong-Pass-9') };

// Tank1.Level history: two values before H0, three in [H0, H0+10s] (the last exactly at `to`), two after.
const LEVEL = [
  { ts: H0 - 60_000, value: 1, quality: GOOD },
  { ts: H0 - 30_000, value: 2, quality: GOOD },
  { ts: H0 + 1_000, value: 3, quality: GOOD },
  { ts: H0 + 2_000, value: 4, quality: BAD },
  { ts: H0 + 10_000, value: 5, quality: GOOD },
  { ts: H0 + 20_000, value: 6, quality: GOOD },
  { ts: H0 + 30_000, value: 7, quality: GOOD },
];

describe('WinCC OA REST Reporting API (/reporting)', () => {
  let s: TestServer;
  const get = (path: string, headers: Record<string, string> = ADMIN) => s.request('GET', path, { headers });

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT });
    const store = (s.server.runtime.storage as SqliteStorage).history.store;
    const put = (name: string, rows: typeof LEVEL) =>
      store.insertBatch({
        count: rows.length,
        tagIds: rows.map(() => store.tagId(name)),
        ts: rows.map((r) => r.ts),
        values: rows.map((r) => r.value),
        quality: rows.map((r) => r.quality),
      });
    put('Tank1.Level', LEVEL);
    put('Tank1.Pressure', [{ ts: H0 + 5_000, value: 9, quality: GOOD }]);
    put('Secret.Value', [{ ts: H0 + 5_000, value: 8, quality: GOOD }]);
  });
  afterAll(() => s?.stop());

  describe('GetVersion', () => {
    it('answers 2.0 with its version history, and {major:1,minor:1} for api-version 1.x', async () => {
      const r = await get('/reporting/GetVersion');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ major: 2, minor: 0 });
      expect(r.json.versionHistory.map((v: { version: string }) => v.version)).toEqual(['2.0', '1.1', '1.0']);
      expect(r.json.versionHistory[0].supportedEndpoints.map((e: { name: string }) => e.name)).toContain('Dps');
      expect((await get('/reporting/GetVersion?api-version=1.1')).json).toEqual({ major: 1, minor: 1 });
    });
  });

  describe('DpNames', () => {
    it('2.x: the structured object with every readable data point and its system name', async () => {
      const r = await get('/reporting/DpNames');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(r.json).toMatchObject({ formatVersionMajor: 2, formatVersionMinor: 0 });
      expect(r.json.generatedBy).toMatch(/^Tagway /);
      expect(r.json.dps).toEqual([{ DP: 'System1:Tank1.Level' }, { DP: 'System1:Tank1.Pressure' }, { DP: 'System1:Secret.Value' }]);
    });

    it('1.x: a flat array', async () => {
      for (const v of ['1.0', '1.1']) {
        const r = await get(`/reporting/DpNames?api-version=${v}`);
        expect(r.json).toEqual(['System1:Tank1.Level', 'System1:Tank1.Pressure', 'System1:Secret.Value']);
      }
    });

    it('jsonCompact=1 answers on one line; the default is indented', async () => {
      const pretty = await get('/reporting/DpNames');
      const compact = await get('/reporting/DpNames?jsonCompact=1');
      expect(pretty.text).toContain('\n  ');
      expect(compact.text).not.toContain('\n');
      expect(compact.json).toEqual(pretty.json);
    });

    it('a restricted user sees only the data points it may read', async () => {
      const r = await get('/reporting/DpNames?api-version=1.0', TANKER);
      expect(r.json).toEqual(['System1:Tank1.Level', 'System1:Tank1.Pressure']);
    });

    it('an unsupported api-version is refused with an errorText', async () => {
      const r = await get('/reporting/DpNames?api-version=3.0');
      expect(r.status).toBe(400);
      expect(r.json.errorText).toMatch(/api-version/);
    });
  });

  describe('Dp', () => {
    it('online: [value, time, status bits, user], with or without the trailing dot', async () => {
      const tag = s.server.runtime.tags.get('Tank1.Level')!;
      for (const name of ['System1:Tank1.Level.', 'System1:Tank1.Level']) {
        const r = await get(`/reporting/Dp?${name}`);
        expect(r.status).toBe(200);
        expect(r.json).toEqual([4.5, iso(tag.timestamp), expect.stringMatching(/^[01]{64}$/), 'internal']);
      }
      const [, , bits] = (await get('/reporting/Dp?System1:Tank1.Level.')).json;
      expect(bits.endsWith('1')).toBe(true); // _active
      expect(parseInt(bits.slice(0, 8), 2)).toBe(GOOD);
    });

    it('history: an array of rows in [from, to], `to` included, with its fixed count of 1 before and after', async () => {
      const r = await get(`/reporting/Dp?System1:Tank1.Level.&from=${iso(H0)}&to=${iso(H0 + 10_000)}&count=5`);
      expect(r.status).toBe(200);
      expect(r.json.map((row: unknown[]) => [row[0], row[1]])).toEqual([
        [2, iso(H0 - 30_000)],
        [3, iso(H0 + 1_000)],
        [4, iso(H0 + 2_000)],
        [5, iso(H0 + 10_000)],
        [6, iso(H0 + 20_000)],
      ]);
      const bad = r.json[2][2] as string;
      expect(bad[64 - 9]).toBe('1'); // bit 8: invalid
      expect(r.json[1][2][64 - 9]).toBe('0');
    });

    it('an unknown data point, another system, or one the caller may not read: 404 errorText', async () => {
      for (const [name, who] of [
        ['System1:Nope.', ADMIN],
        ['Other:Tank1.Level.', ADMIN],
        ['System1:Secret.Value.', TANKER],
      ] as const) {
        const r = await get(`/reporting/Dp?${name}`, who);
        expect(r.status).toBe(404);
        expect(r.json).toEqual({ errorText: 'data point does not exist' });
      }
      expect((await get('/reporting/Dp?System1:Secret.Value.')).status).toBe(200);
    });

    it('needs exactly one data point', async () => {
      expect((await get('/reporting/Dp')).status).toBe(400);
      expect((await get('/reporting/Dp?System1:Tank1.Level.&System1:Tank1.Pressure.')).status).toBe(400);
    });
  });

  describe('Dps', () => {
    it('online, 2.x: the structured object, names corrected to end in a dot', async () => {
      const r = await get('/reporting/Dps?System1:Tank1.Level&System1:Tank1.Pressure.');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ formatVersionMajor: 2, formatVersionMinor: 0 });
      expect(r.json.dps.map((d: { DP: string }) => d.DP)).toEqual(['System1:Tank1.Level.', 'System1:Tank1.Pressure.']);
      expect(r.json.dps[0].values).toHaveLength(1);
      expect(r.json.dps[0].values[0][0]).toBe(4.5);
      expect(r.json.dps[1].values[0][0]).toBe(1.25);
    });

    it('online, 1.x: a flat array of Dp answers', async () => {
      const r = await get('/reporting/Dps?System1:Tank1.Level.&System1:Tank1.Pressure.&api-version=1.1');
      expect(r.json.map((row: unknown[]) => row[0])).toEqual([4.5, 1.25]);
    });

    it('unknown data points: an errorText per data point, or the whole answer with verifyDpExistence', async () => {
      const r = await get('/reporting/Dps?System1:Tank1.Level.&System1:Nope.');
      expect(r.status).toBe(200);
      expect(r.json.dps[1]).toEqual({ DP: 'System1:Nope.', errorText: 'data point does not exist' });
      const v = await get('/reporting/Dps?System1:Tank1.Level.&System1:Nope.&verifyDpExistence=TRUE');
      expect(v.status).toBe(404);
      expect(Object.keys(v.json)).toEqual(['errorText']);
      expect(v.json.errorText).toContain('System1:Nope.');
      const ok = await get('/reporting/Dps?System1:Tank1.Level.&verifyDpExistence=1');
      expect(ok.status).toBe(200);
      const old = await get('/reporting/Dps?System1:Nope.&api-version=1.0');
      expect(old.json).toEqual([{ errorText: 'data point does not exist' }]);
    });

    it('history with count: that many values before `from` and after `to`', async () => {
      const range = `from=${iso(H0)}&to=${iso(H0 + 10_000)}`;
      const values = async (q: string) => {
        const r = await get(`/reporting/Dps?System1:Tank1.Level.&System1:Tank1.Pressure.&${q}`);
        expect(r.status).toBe(200);
        return r.json.dps.map((d: { values: unknown[][] }) => d.values.map((row) => row[0]));
      };
      expect(await values(range)).toEqual([[3, 4, 5], [9]]);
      expect(await values(`${range}&count=1`)).toEqual([[2, 3, 4, 5, 6], expect.arrayContaining([9])]);
      const two = await values(`${range}&count=2&jsonCompact=1`);
      expect(two[0]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('only `from`: `to` is now', async () => {
      const r = await get(`/reporting/Dps?System1:Tank1.Level.&from=${iso(H0 + 15_000)}`);
      const vals = r.json.dps[0].values.map((row: unknown[]) => row[0]);
      expect(vals.slice(0, 2)).toEqual([6, 7]);
      // and the historian's first point, logged when the server started
      expect(vals.at(-1)).toBe(4.5);
    });

    it('a restricted user: unreadable data points are answered like unknown ones, in history too', async () => {
      const q = `/reporting/Dps?System1:Tank1.Pressure.&System1:Secret.Value.&from=${iso(H0)}&to=${iso(H0 + 10_000)}`;
      const r = await get(q, TANKER);
      expect(r.json.dps).toEqual([
        { DP: 'System1:Tank1.Pressure.', values: [[9, iso(H0 + 5_000), expect.any(String), 'internal']] },
        { DP: 'System1:Secret.Value.', errorText: 'data point does not exist' },
      ]);
      expect((await get(`${q}&verifyDpExistence=true`, TANKER)).status).toBe(404);
      // the admin reads both
      expect((await get(q)).json.dps[1].values[0][0]).toBe(8);
    });

    it('bad parameters get an errorText', async () => {
      for (const q of ['System1:Tank1.Level.&from=yesterday', 'System1:Tank1.Level.&from=2025-06-01T10:00:00Z&count=-1', '']) {
        const r = await get(`/reporting/Dps?${q}`);
        expect(r.status).toBe(400);
        expect(typeof r.json.errorText).toBe('string');
      }
      // the history service's own limits apply: at most 100,000 values per page and data point
      const big = await get(`/reporting/Dps?System1:Tank1.Level.&from=${iso(H0)}&count=200000`);
      expect(big.status).toBe(400);
      expect(big.json.errorText).toMatch(/limit/);
    });
  });

  describe('authentication', () => {
    it('no credentials: 401 with a Basic challenge; wrong password: 401; a Bearer token works too', async () => {
      const none = await s.request('GET', '/reporting/DpNames');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Basic/);
      expect(typeof none.json.errorText).toBe('string');
      expect((await get('/reporting/DpNames', { authorization: basic('tanker', 'wrong') })).status).toBe(401);
      const token = await s.login('tanker', 'Tanker-Strong-Pass-9');
      const bearer = await s.request('GET', '/reporting/DpNames?api-version=1.0', { token });
      expect(bearer.json).toEqual(['System1:Tank1.Level', 'System1:Tank1.Pressure']);
    });

    it('Basic over plain HTTP is refused off loopback (the same rule as the native API)', async () => {
      // fastify's pipeline without TLS and with a peer address set: a real socket off loopback is not allowed in tests.
      const far = await s.server.app.inject({ method: 'GET', url: '/reporting/DpNames', headers: ADMIN, remoteAddress: '192.0.2.77' });
      expect(far.statusCode).toBe(401);
      expect(far.json().errorText).toMatch(/plain HTTP/);
      const near = await s.server.app.inject({ method: 'GET', url: '/reporting/DpNames', headers: ADMIN, remoteAddress: '127.0.0.1' });
      expect(near.statusCode).toBe(200);
    });
  });
});

describe('WinCC OA reporting under a small history budget', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT, config: { maxHistorySamples: 2 } });
    const store = (s.server.runtime.storage as SqliteStorage).history.store;
    store.insertBatch({
      count: LEVEL.length,
      tagIds: LEVEL.map(() => store.tagId('Tank1.Level')),
      ts: LEVEL.map((r) => r.ts),
      values: LEVEL.map((r) => r.value),
      quality: LEVEL.map((r) => r.quality),
    });
  });
  afterAll(() => s?.stop());

  it('a range with more values than --max-history-samples allows is refused with 413, not cut short', async () => {
    const range = `from=${iso(H0)}&to=${iso(H0 + 10_000)}`;
    const r = await s.request('GET', `/reporting/Dps?System1:Tank1.Level.&System1:Tank1.Pressure.&${range}`, { headers: ADMIN });
    expect(r.status).toBe(413);
    expect(r.json.errorText).toMatch(/shorter range/);
    const fits = await s.request('GET', `/reporting/Dps?System1:Tank1.Level.&from=${iso(H0)}&to=${iso(H0 + 1_500)}`, { headers: ADMIN });
    expect(fits.status).toBe(200);
    expect(fits.json.dps[0].values.map((row: unknown[]) => row[0])).toEqual([3]);
  });
});
