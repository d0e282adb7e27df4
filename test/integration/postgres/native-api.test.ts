import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditVerifyPostgres } from '../../../src/cli/audit-verify.js';
import type { StoredValue } from '../../../src/domain/history/series.js';
import type { Storage } from '../../../src/storage/open.js';
import { startTestCluster, type TestCluster } from '../../helpers/postgres.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';

/** The native API on PostgreSQL: one server on a fresh database, restarted once to prove what it stored. */
const PROJECT = `
name: PostgreSQL plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: P.Level, type: Float64, unit: m, connection: internal, initial: 1, history: { mode: onChange } }
  - { name: P.Count, type: UInt64, connection: internal }
  - { name: P.Text, type: String, connection: internal, history: { mode: onChange } }
  - { name: P.Fault, type: Bool, connection: internal, initial: false }
alarms:
  - { name: P.Fault, number: 1, class: Alarm, priority: 10, tag: P.Fault, text: "Pump fault" }
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

const GOOD = 0xc0;
const H0 = Date.UTC(2025, 5, 1, 10);
const iso = (t: number) => new Date(t).toISOString();

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

/** Known samples, written through the repository as the historian would (so both backends hold the same). */
async function seedHistory(storage: Storage): Promise<void> {
  const id = await storage.history.tagId('P.Level');
  const n = 2 * 3600;
  const ts: number[] = [];
  const values: StoredValue[] = [];
  const quality: number[] = [];
  for (let i = 0; i < n; i++) {
    ts.push(H0 + i * 1000 + (i % 7) * 10);
    values.push(Math.round(Math.sin(i / 300) * 1000) / 10);
    quality.push(i % 97 === 0 ? 0x08 : GOOD);
  }
  // Across midnight too (two day partitions), in one batch.
  ts.push(Date.UTC(2025, 5, 1, 23, 59, 59, 500), Date.UTC(2025, 5, 2, 0, 0, 0, 500));
  values.push(7, 8);
  quality.push(GOOD, GOOD);
  await storage.history.insertBatch({ count: ts.length, tagIds: ts.map(() => id), ts, values, quality });
}

describe('native API on PostgreSQL', () => {
  let s: TestServer;
  let sqlite: TestServer;
  let url: string;
  let admin: string;
  let op: string;

  beforeAll(async () => {
    url = await cluster.createDatabase();
    [s, sqlite] = await Promise.all([
      startTestServer({ projectYaml: PROJECT, databaseUrl: url }),
      startTestServer({ projectYaml: PROJECT, config: { sqliteSynchronous: 'NORMAL' } }),
    ]);
    // The server under test really is on PostgreSQL (and the baseline on SQLite).
    expect(s.server.runtime.storage.constructor.name).toBe('PostgresStorage');
    expect(sqlite.server.runtime.storage.constructor.name).toBe('SqliteStorage');
    admin = await s.login();
    op = await s.login('operator', 'operator-password');
  });
  afterAll(async () => {
    await s?.stop();
    await sqlite?.stop();
  });

  it('writes and reads tags; retained values of internal tags survive a restart', async () => {
    const w = await s.request('PUT', '/tags/values', {
      token: op,
      body: {
        items: [
          { name: 'P.Count', value: '18446744073709551615' },
          { name: 'P.Text', value: 'hello' },
          { name: 'P.Level', value: 4.25 },
        ],
      },
    });
    expect(w.status).toBe(200);
    const r = await s.request('GET', '/tags/P.Count/value', { token: op });
    expect(r.json).toMatchObject({ name: 'P.Count', value: '18446744073709551615', quality: 'GOOD' });
    expect((await s.request('PUT', '/tags/P.Level/value', { token: op, body: { value: 'x' } })).status).toBe(422);
  });

  it('raises, acknowledges and archives an alarm', async () => {
    expect((await s.request('PUT', '/tags/P.Fault/value', { token: op, body: { value: true } })).status).toBe(200);
    const [occ] = (await s.request('GET', '/alarms/current', { token: op })).json.items;
    expect(occ).toMatchObject({ alarm: 'P.Fault', state: 'RAISED', active: true });
    const ack = await s.request('POST', `/alarms/${occ.id}/acknowledge`, { token: op });
    expect(ack.json).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'operator' });
    expect((await s.request('PUT', '/tags/P.Fault/value', { token: op, body: { value: false } })).status).toBe(200);
    expect((await s.request('GET', '/alarms/current', { token: op })).json.items).toEqual([]);
    const arch = await s.request('GET', '/alarms/archive?alarm=P.*&order=asc', { token: op });
    expect(arch.json.items.map((e: any) => [e.id, e.event, e.user])).toEqual([
      [occ.id, 'RAISED', null],
      [occ.id, 'ACKNOWLEDGED', 'operator'],
      [occ.id, 'CLEARED', null],
    ]);
    // Raised again and left open: the restart below must rebuild it from the journal.
    await s.request('PUT', '/tags/P.Fault/value', { token: op, body: { value: true } });
  });

  it('logs history live and answers the same raw samples and aggregates as SQLite', async () => {
    await s.request('PUT', '/tags/P.Text/value', { token: op, body: { value: 'logged' } });
    await waitUntil(async () => {
      const r = await s.request('GET', `/tags/P.Text/history?from=${iso(Date.now() - 60_000)}&to=${iso(Date.now() + 1000)}`, { token: op });
      return r.json.items?.some((i: any) => i.value === 'logged');
    }, 'the historian to log P.Text');

    await seedHistory(s.server.runtime.storage);
    await seedHistory(sqlite.server.runtime.storage);
    const sqliteAdmin = await sqlite.login();
    const queries = [
      `from=${iso(H0)}&to=${iso(H0 + 3_600_000)}&limit=500`,
      `from=${iso(H0)}&to=${iso(H0 + 3_600_000)}&limit=300&order=desc`,
      `from=${iso(H0)}&to=${iso(H0 + 7_200_000)}&interval=1m&aggregate=avg`,
      `from=${iso(H0)}&to=${iso(H0 + 7_200_000)}&interval=10m&aggregate=min`,
      `from=${iso(H0)}&to=${iso(H0 + 7_200_000)}&interval=10m&aggregate=max`,
      `from=${iso(H0 + 1)}&to=${iso(Date.UTC(2025, 5, 2, 1))}&interval=1h&aggregate=count`,
      `from=${iso(Date.UTC(2025, 5, 1, 23))}&to=${iso(Date.UTC(2025, 5, 2, 1))}`,
    ];
    for (const q of queries) {
      const pg = await s.request('GET', `/tags/P.Level/history?${q}`, { token: admin });
      const lite = await sqlite.request('GET', `/tags/P.Level/history?${q}`, { token: sqliteAdmin });
      expect(pg.status, q).toBe(200);
      expect(pg.json, q).toEqual(lite.json);
      if (pg.json.next) {
        const next = `${q}&cursor=${encodeURIComponent(pg.json.next)}`;
        expect((await s.request('GET', `/tags/P.Level/history?${next}`, { token: admin })).json).toEqual(
          (await sqlite.request('GET', `/tags/P.Level/history?${next}`, { token: sqliteAdmin })).json,
        );
      }
    }
  });

  it('manages users; a session ends at logout', async () => {
    const c = await s.request('POST', '/users', {
      token: admin,
      body: { username: 'pgtina', password: 'pg-tina-Strong-Pass-9', groups: ['operators'] },
    });
    expect(c.status).toBe(201);
    const t = await s.login('pgtina', 'pg-tina-Strong-Pass-9');
    expect((await s.request('GET', '/users/current', { token: t })).json).toMatchObject({ username: 'pgtina' });
    expect((await s.request('GET', '/users', { token: admin })).json.items.map((u: any) => u.username)).toContain('pgtina');
    expect((await s.request('POST', '/auth/logout', { token: t })).status).toBeLessThan(300);
    expect((await s.request('GET', '/users/current', { token: t })).status).toBe(401);
  });

  it('after a restart: sessions, users, retained values, the open alarm and the archive are still there', async () => {
    await s.restart();
    expect((await s.request('GET', '/users/current', { token: op })).json).toMatchObject({ username: 'operator' });
    expect((await s.request('GET', '/tags/P.Count/value', { token: op })).json.value).toBe('18446744073709551615');
    const cur = (await s.request('GET', '/alarms/current', { token: op })).json.items;
    expect(cur.map((o: any) => [o.alarm, o.state])).toEqual([['P.Fault', 'RAISED']]);
    expect((await s.request('GET', '/alarms/archive?limit=100', { token: op })).json.items).toHaveLength(4);
    await s.login('pgtina', 'pg-tina-Strong-Pass-9');
  });

  it('keeps an audit trail that pages, filters and verifies with `tagway audit verify --database-url`', async () => {
    const page = await s.request('GET', '/audit?limit=1000&order=asc', { token: admin });
    expect(page.status).toBe(200);
    const actions = page.json.items.map((r: any) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.login', 'tag.write', 'alarm.acknowledge', 'user.create', 'auth.logout']));
    const writes = await s.request('GET', '/audit?action=tag.write&user=operator&limit=2', { token: admin });
    expect(writes.json.items).toHaveLength(2);
    expect(writes.json.items.every((r: any) => r.action === 'tag.write' && r.user === 'operator')).toBe(true);
    const next = await s.request('GET', `/audit?action=tag.write&user=operator&limit=2&cursor=${writes.json.next}`, { token: admin });
    expect(next.json.items[0].id).toBeLessThan(writes.json.items[1].id);
    // By tag: the single (refused) write and the bulk writes listing it (rows without a target), even when another
    // item's value holds a NUL, which PostgreSQL's JSON types refuse.
    const nul = await s.request('PUT', '/tags/values', {
      token: op,
      body: {
        items: [
          { name: 'P.Text', value: 'a\u0000b' },
          { name: 'P.Level', value: 1.5 },
        ],
      },
    });
    expect(nul.json.items.map((i: any) => i.status)).toEqual(['OK', 'OK']);
    const byTag = (await s.request('GET', '/audit?tag=P.Level', { token: admin })).json.items;
    expect(byTag.map((r: any) => [r.target, r.result, r.details.items?.map((i: any) => i.name)])).toEqual([
      [null, 'OK', ['P.Text', 'P.Level']],
      ['P.Level', 'FAILED', undefined],
      [null, 'OK', ['P.Count', 'P.Text', 'P.Level']],
    ]);
    expect(byTag[0].details.items[0].newValue).toBe('a\u0000b');
    const text = (await s.request('GET', '/audit?tag=P.Text&limit=3', { token: admin })).json.items;
    expect(text.map((r: any) => r.target)).toEqual([null, 'P.Text', null]);
    expect((await s.request('GET', '/audit?tag=P.Tex', { token: admin })).json.items).toEqual([]);
    const lines: string[] = [];
    const code = await runAuditVerifyPostgres(url, { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/audit verify: OK, \d+ rows/);
    expect(code).toBe(0);
  });
});

describe('two nodes on one PostgreSQL database', () => {
  it('share users (a user made on one logs in on the other), start on the same stored signing keys, and keep one audit chain', async () => {
    const url = await cluster.createDatabase();
    // The same secret key on both, as docs/postgresql.md asks (it encrypts the stored JWT signing keys).
    const secret = Buffer.alloc(32, 7).toString('base64');
    const prev = process.env.TAGWAY_SECRET_KEY;
    process.env.TAGWAY_SECRET_KEY = secret;
    const [a, b] = await Promise.all([
      startTestServer({ projectYaml: PROJECT, databaseUrl: url }),
      startTestServer({ projectYaml: PROJECT, databaseUrl: url }),
    ]);
    try {
      const adminA = await a.login();
      expect(
        (
          await a.request('POST', '/users', {
            token: adminA,
            body: { username: 'twin', password: 'tw-in-Strong-Pass-9', groups: ['operators'] },
          })
        ).status,
      ).toBe(201);
      // Node b learns of the new user from the users' version row within a fraction of a second. Polled as an
      // administrator: polling the login itself would count failed logins and end in the login throttle.
      const adminB = await b.login();
      await waitUntil(async () => {
        const r = await b.request('GET', '/users/twin', { token: adminB });
        return r.status === 200;
      }, 'node b to know the user made on node a');
      const login = await b.request('POST', '/auth/login', { body: { username: 'twin', password: 'tw-in-Strong-Pass-9' } });
      expect(login.status).toBe(200);
      const t = login.json.token as string;
      expect((await b.request('GET', '/users/current', { token: t })).json.username).toBe('twin');
      // Both nodes append to the one chain at once.
      await Promise.all(
        [a, b].flatMap((s) => [1, 2, 3].map(() => s.request('POST', '/auth/login', { body: { username: 'twin', password: 'wrong' } }))),
      );
      const lines: string[] = [];
      expect(await runAuditVerifyPostgres(url, { log: (l) => lines.push(l), error: (l) => lines.push(l) })).toBe(0);
      const failed = (await a.request('GET', '/audit?action=auth.login_failed&limit=100', { token: adminA })).json.items;
      expect(failed.length).toBeGreaterThanOrEqual(6);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      if (prev === undefined) delete process.env.TAGWAY_SECRET_KEY;
      else process.env.TAGWAY_SECRET_KEY = prev;
    }
  });
});
