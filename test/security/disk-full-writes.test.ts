import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteDatabaseForTests } from '../../src/storage/sqlite/open-sqlite.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * Client writes on a full disk, through the group commit, behave as before it: a value that needs no new page
 * (updated in place) is still stored and answered, its audit row (which needs pages) is held in memory and committed
 * first once there is room; a value that needs pages is refused (503 STORAGE_UNAVAILABLE, or the items' errors). The full disk is simulated with
 * `PRAGMA max_page_count` on the server's own connection after filling the pages it has.
 */
describe('client writes on a full disk (group commit)', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await startTestServer({
      projectYaml: [
        'name: DiskFull',
        'connections:',
        '  - { name: internal, driver: internal }',
        'tags:',
        '  - { name: W.Float, type: Float64, connection: internal }',
        '  - { name: W.Text, type: String, connection: internal }',
      ].join('\n'),
    });
    token = await s.login();
  });
  afterAll(() => s?.stop());

  const fillDisk = () => {
    const db = sqliteDatabaseForTests(s.server.runtime.storage);
    db.exec('CREATE TABLE IF NOT EXISTS test_filler (x BLOB)');
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 2}`);
    const insert = db.prepare('INSERT INTO test_filler VALUES (zeroblob(?))');
    for (const size of [65_536, 4096, 512, 64, 8])
      for (let i = 0; i < 10_000; i++) {
        try {
          insert.run(size);
        } catch {
          break;
        }
      }
  };

  it('stores in-place values, holds their audit rows, refuses values that need room, and catches up once there is room', {
    timeout: 30_000,
  }, async () => {
    // Both tags have stored values already, so a later write of the same size updates their rows in place.
    expect(
      (
        await s.request('PUT', '/tags/values', {
          token,
          body: {
            items: [
              { name: 'W.Float', value: 1.5 },
              { name: 'W.Text', value: 'a' },
            ],
          },
        })
      ).status,
    ).toBe(200);
    const auditBefore = await s.server.runtime.storage.audit.count();
    fillDisk();

    // A single write's row rides with its value in one transaction; storage refuses the row but takes the value
    // alone, so the write is stored and answered and its row held, as for a bulk write.
    const singleInPlace = await s.request('PUT', '/tags/W.Float/value', { token, body: { value: 2.25 } });
    expect(singleInPlace.status).toBe(200);
    expect((await s.request('GET', '/tags/W.Float/value', { token })).json.value).toBe(2.25);
    const inPlace = await s.request('PUT', '/tags/values', { token, body: { items: [{ name: 'W.Float', value: 2.5 }] } });
    expect(inPlace.status).toBe(200);
    expect(inPlace.json.items).toEqual([{ name: 'W.Float', status: 'OK' }]);
    expect((await s.request('GET', '/tags/W.Float/value', { token })).json.value).toBe(2.5);
    const single = await s.request('PUT', '/tags/W.Text/value', { token, body: { value: 'y'.repeat(20_000) } });
    expect(single.status).toBe(503);
    expect(single.json.code).toBe('STORAGE_UNAVAILABLE');
    // A bulk write's internal values are stored together or not at all (one commit), as before grouping.
    const many = await s.request('PUT', '/tags/values', {
      token,
      body: {
        items: [
          { name: 'W.Float', value: 3.5 },
          { name: 'W.Text', value: 'x'.repeat(20_000) },
        ],
      },
    });
    expect(many.status).toBe(200);
    expect(many.json.items.map((i: { error?: unknown }) => i.error !== undefined)).toEqual([true, true]);
    expect((await s.request('GET', '/tags/W.Float/value', { token })).json.value).toBe(2.5);
    expect((await s.request('GET', '/tags/W.Text/value', { token })).json.value).toBe('a');
    const health = await s.request('GET', '/health');
    expect(health.json.status).toBe('degraded');

    sqliteDatabaseForTests(s.server.runtime.storage).pragma('max_page_count = 1073741823');
    await waitUntil(async () => (await s.request('GET', '/health')).json.status === 'ok' || undefined, 'health ok again', 15_000);
    const storage = s.server.runtime.storage;
    const rows = (await storage.audit.query({ order: 'asc', limit: 100 })).items.filter(
      (r) => r.id > auditBefore && r.action === 'tag.write',
    );
    // The held row of the stored value is there, in order, before any later row; the chain verifies.
    expect(rows.find((r) => r.target === 'W.Float' && r.result === 'OK' && JSON.parse(r.details!).newValue === 2.25)).toBeDefined();
    expect(rows.find((r) => r.target === 'W.Float' && r.result === 'OK' && JSON.parse(r.details!).newValue === 2.5)).toBeDefined();
    expect(await storage.audit.verify()).toMatchObject({ firstBad: null });
    expect((await storage.keyValues.get('internal', 'W.Float'))?.value).toBe(2.5);
  });
});
