import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { loadProjectFile } from '../../src/project/load.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { ADMIN_PASSWORD, FIXTURE_PROJECT } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { sqliteDatabaseForTests } from '../../src/storage/sqlite/open-sqlite.js';

/**
 * Finding 2 (server part): on a full disk every request answered 500 with a full stack logged per request, while
 * /health said `ok`. The full disk is simulated with `PRAGMA max_page_count` on the server's own database
 * connection, after filling the pages it has, so every write that needs a page fails with SQLITE_FULL.
 */
describe('a full disk', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagway-diskfull-'));
  const lines: Array<Record<string, unknown>> = [];
  let server: RunningServer;
  let agent: Agent;
  let url: string;

  const call = async (method: string, path: string, opts: { token?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const r = await request(url + path, {
      method: method as 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dispatcher: agent,
    });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, json: text ? JSON.parse(text) : undefined };
  };
  const login = async () => call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const config = { ...defaultConfig(), port: 0, host: '127.0.0.1', dataDir, logLevel: 'info', adminPassword: ADMIN_PASSWORD };
    server = await startServer(config, {
      project: loadProjectFile(FIXTURE_PROJECT),
      logger: createLogger('info', sink),
      print: () => undefined,
    });
    agent = new Agent({ connect: { ca: server.certificate }, pipelining: 0 });
    url = server.url.replace('localhost', '127.0.0.1');
  });
  afterAll(async () => {
    await server?.stop();
    await agent?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Fills the database's free space, then forbids it to grow: the disk is "full". */
  const fillDisk = () => {
    const db = sqliteDatabaseForTests(server.runtime.storage);
    db.exec('CREATE TABLE IF NOT EXISTS test_filler (x BLOB)');
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 2}`);
    const insert = db.prepare('INSERT INTO test_filler VALUES (zeroblob(?))');
    for (const size of [65_536, 4096, 512, 64, 8])
      for (let i = 0; i < 10_000; i++) {
        try {
          insert.run(size);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('SQLITE_FULL');
          break;
        }
      }
  };
  const freeDisk = () => {
    sqliteDatabaseForTests(server.runtime.storage).pragma('max_page_count = 1073741823');
  };

  it('reports the data directory free space and ok storage while there is room', async () => {
    const h = await call('GET', '/health');
    expect(h.status).toBe(200);
    expect(h.json.storage.status).toBe('ok');
    expect(h.json.storage.checks).toContainEqual({ name: 'database', ok: true });
    expect(h.json.storage.disk.freeBytes).toBeGreaterThan(0);
    expect(h.json.storage.disk.totalBytes).toBeGreaterThanOrEqual(h.json.storage.disk.freeBytes);
  });

  it('answers 503 STORAGE_UNAVAILABLE with Retry-After, reports degraded, logs one line, and recovers', { timeout: 30_000 }, async () => {
    const token = (await login()).json.token as string;
    fillDisk();
    const h = await call('GET', '/health');
    expect(h.json.status).toBe('degraded');
    expect(h.json.storage.status).toBe('degraded');
    expect(h.json.storage.checks.find((c: any) => c.name === 'database')).toMatchObject({ ok: false, reason: expect.any(String) });

    const before = lines.length;
    const statuses: number[] = [];
    // The tables' last pages still have some room: the first logins fit in it, then every one needs a page.
    for (let i = 0; i < 45; i++) {
      const r = await login();
      statuses.push(r.status);
      if (r.status === 503) {
        expect(r.json.code).toBe('STORAGE_UNAVAILABLE');
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      // A read by an existing session never gets a 500 (it is 200, or 503 if its session could not be touched).
      expect([200, 503]).toContain((await call('GET', '/tags/T.Int32/value', { token })).status);
    }
    expect(statuses).not.toContain(500);
    const first = statuses.indexOf(503);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(statuses.slice(first).every((s) => s === 503)).toBe(true);
    expect(statuses.length - first).toBeGreaterThan(10);
    const errorLines = lines.slice(before).filter((l) => (l.level as number) >= 50);
    // One line per error signature per minute, without a stack, instead of one stack per request.
    expect(errorLines.length).toBeGreaterThanOrEqual(1);
    expect(errorLines.length).toBeLessThanOrEqual(3);
    for (const l of errorLines) expect(JSON.stringify(l)).not.toMatch(/\n\s+at /);
    const degraded = await call('GET', '/health');
    expect(degraded.json.storage.checks.find((c: any) => c.name === 'database').reason).toMatch(/full|limit/);

    freeDisk();
    expect((await login()).status).toBe(200);
    await waitUntil(async () => (await call('GET', '/health')).json.storage.status === 'ok', 'storage ok again', 10_000);
  });
});
