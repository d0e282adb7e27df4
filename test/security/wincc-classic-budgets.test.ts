import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { sqliteDatabaseForTests } from '../../src/storage/sqlite/open-sqlite.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { fillDatabase } from '../helpers/sqlite-full.js';
import { BASE, call, LINER, PROJECT } from '../integration/wincc-classic/fixture.js';

/**
 * The classic WinCC profile spends the same budgets as the native API: a principal's bulk slots, the history
 * samples of one request, and it reveals no more about tags outside a caller's scope than the native API does.
 */
describe('WinCC classic: budgets and scopes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT, config: { maxHistorySamples: 5000 } });
  });
  afterAll(() => s?.stop());

  const bigNames = Array.from({ length: 4000 }, (_, i) => `Line1.Speed-${String(i).padStart(12, '0')}`);

  it('a principal whose bulk slots are all held gets 429 with Retry-After before its body is read; the slots come back', async () => {
    const liner = { principal: { username: 'liner' } as Principal, clientAddress: '127.0.0.1', via: 'wincc-classic' as const };
    const held = Array.from({ length: s.server.runtime.config.maxConcurrentBulk }, () =>
      s.server.services.tags.admitBulk(liner, undefined),
    );
    try {
      const read = await call(s, 'POST', `${BASE}/tagManagement/Values`, { auth: LINER, body: { variableNames: bigNames } });
      expect(read.status).toBe(429);
      expect(read.json).toMatchObject({ errorcode: 15, code: 'TOO_MANY_REQUESTS' });
      expect(read.headers['retry-after']).toBe('1');
      const write = await call(s, 'PUT', `${BASE}/tagManagement/Values`, {
        auth: LINER,
        body: bigNames.map((variableName) => ({ variableName, value: 1 })),
      });
      expect(write.status).toBe(429);
      // Small requests (an HMI polling) never wait for the budget; another user is not affected.
      expect(
        (await call(s, 'POST', `${BASE}/tagManagement/Values`, { auth: LINER, body: { variableNames: ['Line1.Speed'] } })).status,
      ).toBe(200);
      expect((await call(s, 'POST', `${BASE}/tagManagement/Values`, { body: { variableNames: bigNames } })).status).toBe(200);
    } finally {
      for (const release of held) release();
    }
    const after = await call(s, 'POST', `${BASE}/tagManagement/Values`, { auth: LINER, body: { variableNames: bigNames } });
    expect(after.status).toBe(200);
    expect(after.json).toHaveLength(bigNames.length);
  });

  it('tagLogging: more values than --max-history-samples, or more than 1,000 variables, are refused before reading', async () => {
    const many = await call(s, 'POST', `${BASE}/tagLogging/Values?maxValues=3000`, {
      body: { variableNames: ['Line1.Speed', 'Line1.Count'] },
    });
    expect(many.status).toBe(413);
    expect(many.json).toMatchObject({ errorcode: 14, code: 'PAYLOAD_TOO_LARGE' });
    const form = await call(s, 'POST', `${BASE}/tagLogging/Values`, {
      body: {
        archives: [{ name: 'PlantArchive', variables: Array.from({ length: 1001 }, () => ({ name: 'Line1.Speed', maxValues: 1 })) }],
      },
    });
    expect(form.status).toBe(413);
    expect((await call(s, 'POST', `${BASE}/tagLogging/Values?maxValues=100001`, { body: { variableNames: ['Line1.Speed'] } })).status).toBe(
      400,
    );
  });

  it('a tag outside the scope answers exactly like one that does not exist (bulk and single, read and write)', async () => {
    const r = await call(s, 'POST', `${BASE}/tagManagement/Values`, {
      auth: LINER,
      body: { variableNames: ['Secret.Value', 'Secret.Nothing'] },
    });
    const shape = (i: { variableName: string; error: string }) => ({
      ...i,
      error: i.error.replace(i.variableName, 'X'),
      variableName: 'X',
    });
    expect(shape(r.json[0])).toEqual(shape(r.json[1]));
    const one = await call(s, 'GET', `${BASE}/tagManagement/Value/Secret.Value`, { auth: LINER });
    const none = await call(s, 'GET', `${BASE}/tagManagement/Value/Secret.Nothing`, { auth: LINER });
    expect(one.status).toBe(none.status);
    expect(one.json.code).toBe(none.json.code);
    const w1 = await call(s, 'PUT', `${BASE}/tagManagement/Value/Secret.Value`, { auth: LINER, body: { value: 1 } });
    const w2 = await call(s, 'PUT', `${BASE}/tagManagement/Value/Secret.Nothing`, { auth: LINER, body: { value: 1 } });
    expect([w1.json.errorcode, w1.json.code]).toEqual([w2.json.errorcode, w2.json.code]);
    expect((await call(s, 'GET', `${BASE}/tagManagement/Group/Secret`, { auth: LINER })).json.code).toBe('NOT_FOUND');
  });

  const ODD = 'Odd::Name. with space/x';

  it('a full disk: writes answer their errorcode or 503 in the error model, never a 500; reads go on', { timeout: 30_000 }, async () => {
    const disk = fillDatabase(sqliteDatabaseForTests(s.server.runtime.storage));
    try {
      const seen = new Set<number>();
      for (let i = 0; i < 20; i++) {
        // A longer text each time needs new pages, which the full disk refuses.
        const w = await call(s, 'PUT', `${BASE}/tagManagement/Value/${encodeURIComponent(ODD)}`, {
          body: { value: 'x'.repeat(3000 * (i + 1)) },
        });
        seen.add(w.status === 200 ? w.json.errorcode : w.json.errorcode + 1000 * w.status);
        expect(w.headers['content-type']).toMatch(/^application\/json/);
        if (w.status === 200) expect(typeof w.json.errorcode).toBe('number');
        else expect(w.json).toMatchObject({ errorcode: 19, code: 'STORAGE_UNAVAILABLE' });
        const r = await call(s, 'POST', `${BASE}/tagManagement/Values`, { body: { variableNames: ['Line1.Count'] } });
        expect(r.status).toBe(200);
      }
      // Refused as the storage's failure (503, errorcode 19), never as an internal error.
      expect(seen.has(503_019) || seen.has(19)).toBe(true);
      expect([...seen].filter((k) => k >= 500_000 && k !== 503_019)).toEqual([]);
    } finally {
      disk.free();
    }
    const after = await call(s, 'PUT', `${BASE}/tagManagement/Value/${encodeURIComponent(ODD)}`, { body: { value: 'y'.repeat(1000) } });
    expect(after.json.errorcode).toBe(0);
  });
});
