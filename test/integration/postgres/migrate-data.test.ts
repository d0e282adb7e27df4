import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgLib from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditVerifyPostgres } from '../../../src/cli/audit-verify.js';
import { main } from '../../../src/cli/main.js';
import { runUserCommand } from '../../../src/cli/user-admin.js';
import { startTestCluster, type TestCluster } from '../../helpers/postgres.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';

/** `tagway migrate-data`: an installation populated through a real server on SQLite answers the same on PostgreSQL. */
const PROJECT = `
name: Migrated plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: M.Level, type: Float64, unit: m, connection: internal, initial: 1, history: { mode: onChange } }
  - { name: M.Big, type: Int64, connection: internal, history: { mode: onChange } }
  - { name: M.Text, type: String, connection: internal, history: { mode: onChange } }
  - { name: M.Fault, type: Bool, connection: internal, initial: false }
alarms:
  - { name: M.Fault, number: 1, class: Alarm, priority: 10, tag: M.Fault, text: "Fault" }
  - { name: M.High, number: 2, class: Warning, priority: 5, tag: M.Level, limit: { type: H, value: 80 }, text: "High {value}" }
groups:
  - name: operators
    permissions:
      - { permission: "tags:read" }
      - { permission: "tags:write" }
      - { permission: "alarms:read" }
      - { permission: "alarms:acknowledge" }
      - { permission: "history:read" }
users:
  - { username: operator, password: operator-password, groups: [operators] }
`;

const iso = (t: number) => new Date(t).toISOString();
const H0 = Date.UTC(2025, 2, 3, 22);

let cluster: TestCluster;
const dirs: string[] = [];
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('tagway migrate-data', () => {
  let lite: TestServer | undefined;
  let pg: TestServer | undefined;
  afterAll(async () => {
    await lite?.stop();
    await pg?.stop();
  });

  it('copies every store; the API answers the same and the audit chain verifies and goes on', async () => {
    const liteDir = mkdtempSync(join(tmpdir(), 'tagway-migrate-lite-'));
    const pgDir = mkdtempSync(join(tmpdir(), 'tagway-migrate-pg-'));
    dirs.push(liteDir, pgDir);
    lite = await startTestServer({ projectYaml: PROJECT, dataDir: liteDir, config: { sqliteSynchronous: 'NORMAL' } });
    const admin = await lite.login();
    const op = await lite.login('operator', 'operator-password');
    const put = async (name: string, value: unknown) =>
      expect((await lite!.request('PUT', `/tags/${name}/value`, { token: op, body: { value } })).status).toBe(200);
    // Alarms: one closed occurrence, one acknowledged but still active, one raised and open.
    await put('M.Fault', true);
    const [fault] = (await lite.request('GET', '/alarms/current', { token: op })).json.items;
    await lite.request('POST', `/alarms/${fault.id}/acknowledge`, { token: op });
    await put('M.Fault', false);
    await put('M.Level', 85);
    const high = await waitUntil(
      async () => (await lite!.request('GET', '/alarms/current', { token: op })).json.items.find((o: any) => o.alarm === 'M.High'),
      'M.High to be raised',
    );
    expect((await lite.request('POST', `/alarms/${high.id}/acknowledge`, { token: op })).status).toBe(200);
    await put('M.Fault', true);
    await put('M.Big', '-9007199254740993');
    await put('M.Text', 'migrated');
    expect(
      (
        await lite.request('POST', '/users', {
          token: admin,
          body: { username: 'mia', password: 'mi-a-Strong-Pass-9', groups: ['operators'] },
        })
      ).status,
    ).toBe(201);
    await lite.request('POST', '/groups', { token: admin, body: { name: 'readers', permissions: [{ permission: 'tags:read' }] } });
    // History: two days of one-minute samples (across midnight), plus what the historian logs live.
    const storage = lite.server.runtime.storage;
    const id = await storage.history.tagId('M.Level');
    const ts = Array.from({ length: 2 * 1440 }, (_, i) => H0 + i * 60_000);
    await storage.history.insertBatch({
      count: ts.length,
      tagIds: ts.map(() => id),
      ts,
      values: ts.map((_, i) => (i % 100) / 4),
      quality: ts.map((_, i) => (i % 50 === 0 ? 0x08 : 0xc0)),
    });
    await storage.outbox.enqueue([{ topic: 'erp', payload: { order: 1 } }], Date.now());
    await waitUntil(async () => {
      const r = await lite!.request('GET', `/tags/M.Text/history?from=${iso(Date.now() - 60_000)}&to=${iso(Date.now() + 1000)}`, {
        token: op,
      });
      return r.json.items?.some((i: any) => i.value === 'migrated');
    }, 'the historian to log M.Text');

    const queries = [
      '/tags',
      '/alarms/current',
      '/alarms/archive?limit=1000&order=asc',
      '/alarms/archive?limit=2',
      `/tags/M.Level/history?from=${iso(H0)}&to=${iso(H0 + 2 * 86_400_000)}&limit=5000`,
      `/tags/M.Level/history?from=${iso(H0)}&to=${iso(H0 + 2 * 86_400_000)}&interval=1h&aggregate=avg`,
      `/tags/M.Level/history?from=${iso(H0)}&to=${iso(H0 + 2 * 86_400_000)}&interval=6h&aggregate=max`,
      // Up to now: a restarted server logs each tag's state at start again (on either backend).
      `/tags/M.Text/history?from=${iso(Date.now() - 3_600_000)}&to=${iso(Date.now() + 1)}`,
      '/users',
      '/groups',
    ];
    const before = new Map<string, unknown>();
    for (const q of queries) before.set(q, (await lite.request('GET', q, { token: admin })).json);
    const auditBefore = (await lite.request('GET', '/audit?limit=10000&order=asc', { token: admin })).json.items;
    await lite.stop();
    lite = undefined;

    const url = await cluster.createDatabase();
    const projectFile = join(pgDir, 'project.yaml');
    writeFileSync(projectFile, PROJECT);
    // Refused while a server holds the data directory is covered by the lock; here the server is stopped.
    expect(await main(['migrate-data', '--from', liteDir, '--to', url])).toBe(0);
    // A second copy into the now populated database is refused, so nothing is ever mixed.
    expect(await main(['migrate-data', '--from', liteDir, '--to', url])).toBe(1);
    // The copy wrote roll-ups as it went; `migrate` then marks the stored history summarised, so that the first
    // start has nothing left to summarise.
    expect(await main(['migrate', '--database-url', url])).toBe(0);
    const check = new pgLib.Client({ connectionString: url });
    await check.connect();
    try {
      expect((await check.query('SELECT backfilled FROM history_rollup_state')).rows).toEqual([{ backfilled: true }]);
      expect(Number((await check.query('SELECT count(*) AS n FROM history_rollup')).rows[0].n)).toBeGreaterThan(0);
    } finally {
      await check.end();
    }

    // The key that encrypts the JWT signing keys stays outside the database: every node needs the same one.
    copyFileSync(join(liteDir, 'secret.key'), join(pgDir, 'secret.key'));
    pg = await startTestServer({ projectYaml: PROJECT, dataDir: pgDir, config: { databaseUrl: url } });
    expect(pg.server.runtime.storage.constructor.name).toBe('PostgresStorage');
    // The sessions came along: the tokens issued by the SQLite server still work.
    for (const q of queries) {
      const r = await pg.request('GET', q, { token: admin });
      expect(r.status, q).toBe(200);
      if (q === '/tags') {
        // Live values and their timestamps are the runtime's, not the store's: compare names, types and retained values.
        const pick = (x: any) => x.items.map((t: any) => [t.name, t.type, t.name === 'M.Fault' ? null : t.value]);
        expect(pick(r.json)).toEqual(pick(before.get(q)));
      } else if (q === '/users') {
        // Project users are written again from the project file at every start (on either backend).
        const strip = (x: any) => x.items.map((u: any) => (u.source === 'project' ? { ...u, updatedAt: undefined } : u));
        expect(strip(r.json)).toEqual(strip(before.get(q)));
      } else expect(r.json, q).toEqual(before.get(q));
    }
    const auditAfter = (await pg.request('GET', '/audit?limit=10000&order=asc', { token: admin })).json.items;
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(await pg.server.runtime.storage.outbox.list()).toMatchObject([{ topic: 'erp', payload: { order: 1 }, status: 'pending' }]);

    // Life goes on: new occurrence and event ids follow the copied ones, new audit rows chain onto the copied head.
    const op2 = await pg.login('operator', 'operator-password');
    await pg.request('PUT', '/tags/M.Fault/value', { token: op2, body: { value: false } });
    await pg.request('PUT', '/tags/M.Level/value', { token: op2, body: { value: 10 } });
    await pg.request('PUT', '/tags/M.Level/value', { token: op2, body: { value: 90 } });
    const old = (before.get('/alarms/archive?limit=1000&order=asc') as any).items;
    const fresh = await waitUntil(async () => {
      const archive = (await pg!.request('GET', '/alarms/archive?limit=1000&order=asc', { token: op2 })).json.items.slice(old.length);
      return archive.some((e: any) => e.event === 'RAISED') && archive;
    }, 'M.High to be raised again');
    expect(Math.min(...fresh.map((e: any) => e.eventId))).toBe(old.at(-1).eventId + 1);
    const newRaise = fresh.find((e: any) => e.event === 'RAISED');
    expect(newRaise.id).toBeGreaterThan(Math.max(...old.map((e: any) => e.id)));
    const lines: string[] = [];
    expect(await runAuditVerifyPostgres(url, { log: (l) => lines.push(l), error: (l) => lines.push(l) })).toBe(0);
    expect(Number(/OK, (\d+) rows/.exec(lines[0]!)![1])).toBeGreaterThan(auditBefore.length);
    // The command line reaches the same database: `tagway audit verify --database-url` and `tagway user … --database-url`.
    expect(await main(['audit', 'verify', '--database-url', url])).toBe(0);
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), readPassword: async () => 'ne-w-Strong-Pass-9' };
    expect(await runUserCommand(['disable', 'mia', '--database-url', url, '--project', projectFile], io, {})).toBe(0);
    expect(await runUserCommand(['list', '--project', projectFile], io, { TAGWAY_DATABASE_URL: url })).toBe(0);
    expect(out.find((l) => l.startsWith('mia'))).toMatch(/disabled/);
    // The running node sees the other process's change (the users' version row) and refuses the disabled user.
    await waitUntil(
      async () => (await pg!.request('POST', '/auth/login', { body: { username: 'mia', password: 'mi-a-Strong-Pass-9' } })).status === 401,
      'the node to see mia disabled',
    );
  });
});
