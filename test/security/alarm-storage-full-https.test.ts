import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Quality } from '../../src/domain/quality.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { fillDatabase } from '../helpers/sqlite-full.js';
import { waitUntil } from '../helpers/wait.js';
import { sqliteDatabaseForTests } from '../../src/storage/sqlite/open-sqlite.js';

/**
 * Issue 11, finding 2 over HTTPS: the server's database fills up (max_page_count on its own connection), a device
 * reports a jam during the outage, space is freed: the jam is in /alarms/current within 1 s, with its original
 * raise time. The device values arrive as a driver delivers them (TagEngine.update).
 */
const PROJECT = `
name: Full disk plant
connections:
  - { name: plc, driver: internal }
tags:
  - { name: Line1.Jam, type: Bool, connection: plc, initial: false }
  - { name: Line1.Chatter, type: Bool, connection: plc, initial: false }
alarms:
  - { name: Line1.Jam, number: 1, class: Alarm, priority: 14, tag: Line1.Jam, text: "Jam on line 1" }
  - { name: Line1.Chatter, number: 2, class: Warning, priority: 1, tag: Line1.Chatter, text: "Chatter" }
`;

describe('alarms on a full disk, over HTTPS', () => {
  let s: TestServer;
  let admin: string;

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT, config: { sqliteSynchronous: 'NORMAL' } });
    admin = await s.login();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('raises the jam that happened during the outage within 1 s of space returning, with its original time', async () => {
    const runtime = s.server.runtime;
    const engine = s.server.engines.alarms;
    const device = (name: string, value: boolean): void => runtime.tags.update(runtime.tags.require(name).index, value, Quality.GOOD);
    const current = async (): Promise<any[]> => {
      const r = await s.request('GET', '/alarms/current', { token: admin });
      expect(r.status).toBe(200);
      return r.json.items;
    };

    const disk = fillDatabase(sqliteDatabaseForTests(runtime.storage));
    for (let i = 0; i < 5000 && engine.storageState().state === 'ok'; i++) {
      device('Line1.Chatter', i % 2 === 0);
      await new Promise((r) => setImmediate(r));
    }
    expect(engine.storageState()).toMatchObject({ state: 'degraded', reason: expect.stringMatching(/SQLITE_FULL/) });

    const before = Date.now();
    device('Line1.Jam', true);
    const after = Date.now();
    // Still full a while later: nothing shown that the journal does not hold, and the server answers.
    await new Promise((r) => setTimeout(r, 600));
    expect((await current()).some((o) => o.alarm === 'Line1.Jam')).toBe(false);

    disk.free();
    const freedAt = Date.now();
    const jam = await waitUntil(async () => (await current()).find((o) => o.alarm === 'Line1.Jam'), 'the jam in /alarms/current', 1000);
    expect(Date.now() - freedAt).toBeLessThan(1000);
    expect(jam).toMatchObject({ state: 'RAISED', active: true, text: 'Jam on line 1' });
    const raisedAt = Date.parse(jam.raisedAt);
    expect(raisedAt).toBeGreaterThanOrEqual(before);
    expect(raisedAt).toBeLessThanOrEqual(after);
    const arch = await s.request('GET', '/alarms/archive?alarm=Line1.Jam', { token: admin });
    expect(arch.json.items.map((e: any) => [e.event, e.at])).toEqual([['RAISED', jam.raisedAt]]);
    expect(engine.storageState().state).toBe('ok');
  });
});
