import type { FileHandle } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SqliteStorage } from '../../src/storage/sqlite/open-sqlite.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A failed sync of the WAL ("fsyncgate"), through the server: the client write whose sync failed is not answered as
 * stored, later writes are refused (503 STORAGE_UNAVAILABLE) although the disk syncs again, /health says why, the
 * log says it once, and reads go on. A failing disk cannot be made here without root, so the sync call of the
 * running storage's WalSync is replaced (the one fake).
 */
describe('a failed WAL sync (server)', () => {
  let s: TestServer;
  let token: string;
  let storage: SqliteStorage;
  let failing: boolean;
  beforeEach(async () => {
    s = await startTestServer({
      projectYaml: [
        'name: WalFail',
        'connections:',
        '  - { name: internal, driver: internal }',
        'tags:',
        '  - { name: W.Float, type: Float64, connection: internal }',
        '  - { name: W.Int, type: Int32, connection: internal }',
      ].join('\n'),
    });
    token = await s.login();
    storage = s.server.runtime.storage as SqliteStorage;
    failing = false;
    (storage.walSync as unknown as { datasync: (fh: FileHandle) => Promise<void> }).datasync = (fh) =>
      failing
        ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', syscall: 'fdatasync' }))
        : fh.datasync();
    const before = await writeBoth(1.5, 1);
    expect(before.json.items).toEqual([
      { name: 'W.Float', status: 'OK' },
      { name: 'W.Int', status: 'OK' },
    ]);
  });
  afterEach(() => s?.stop());

  const stored = async (key: string) => (await storage.keyValues.get('internal', key))?.value;

  /** After the failure, with a disk that syncs again: writes refused, reads served, health and log say why. */
  async function expectRefusingUntilRestart(logged: { mock: { calls: unknown[][] } }): Promise<void> {
    failing = false;
    const later = await s.request('PUT', '/tags/W.Float/value', { token, body: { value: 3.5 } });
    expect([later.status, later.json.code]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(later.headers['retry-after']).toBeDefined();
    const bulk = await s.request('PUT', '/tags/values', { token, body: { items: [{ name: 'W.Int', value: 4 }] } });
    // A bulk item refused by storage is answered as any storage fault of an item is (as on a full disk).
    expect(bulk.json.items).toEqual([{ name: 'W.Int', error: expect.objectContaining({ code: expect.any(String) }) }]);
    expect(await stored('W.Float')).not.toBe(3.5);
    expect(await stored('W.Int')).not.toBe(4);
    expect((await s.request('GET', '/tags/W.Float/value', { token })).status).toBe(200);
    // A login must store its session.
    const login = await s.request('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expect([login.status, login.json.code]).toEqual([503, 'STORAGE_UNAVAILABLE']);

    const health = await s.request('GET', '/health');
    expect(health.json.status).toBe('degraded');
    expect(JSON.stringify(health.json)).toMatch(/could not be made durable.*restarted/);
    const lines = logged.mock.calls.filter((c) => c[1] === 'storage: WAL sync failed, writes refused until restart');
    expect(lines).toHaveLength(1);
    expect(lines[0]![0]).toMatchObject({ code: 'SQLITE_IOERR_FSYNC', error: expect.stringMatching(/EIO.*restarted/) });
  }

  /** A bulk write of both test tags. */
  const writeBoth = (float: number, int: number) =>
    s.request('PUT', '/tags/values', {
      token,
      body: {
        items: [
          { name: 'W.Float', value: float },
          { name: 'W.Int', value: int },
        ],
      },
    });
  it('a single write whose sync fails is answered 503 STORAGE_UNAVAILABLE, not 200; every later write too', async () => {
    const logged = vi.spyOn(s.server.runtime.logger, 'error');
    failing = true;
    const first = await s.request('PUT', '/tags/W.Float/value', { token, body: { value: 2.5 } });
    expect([first.status, first.json.code]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    await expectRefusingUntilRestart(logged);
    logged.mockRestore();
  });

  it('a bulk write whose sync fails answers its items with an error, not OK; every later write is refused', async () => {
    const logged = vi.spyOn(s.server.runtime.logger, 'error');
    failing = true;
    const first = await writeBoth(2.5, 2);
    expect(first.json.items).toEqual([
      { name: 'W.Float', error: expect.objectContaining({ code: expect.any(String) }) },
      { name: 'W.Int', error: expect.objectContaining({ code: expect.any(String) }) },
    ]);
    await expectRefusingUntilRestart(logged);
    logged.mockRestore();
  });
});
