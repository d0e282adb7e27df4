import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay, isLegal } from '../../../src/domain/alarms/state-machine.js';
import { openPostgresStorage } from '../../../src/storage/postgres/open-postgres.js';
import { startTestCluster, type TestCluster } from '../../helpers/postgres.js';
import { startTestServer } from '../../helpers/server.js';

const WRITERS = 6;
const PROJECT = `
name: Crash plant
connections:
  - { name: internal, driver: internal }
tags:
${Array.from({ length: WRITERS }, (_, i) => `  - { name: W${i}, type: Float64, connection: internal, initial: 0 }`).join('\n')}
  - { name: F, type: Bool, connection: internal, initial: false }
alarms:
  - { name: F, number: 1, class: Alarm, priority: 5, tag: F, text: "F {value}" }
`;

let cluster: TestCluster;
let child: ReturnType<typeof spawn> | undefined;
const dir = mkdtempSync(join(tmpdir(), 'tagway-pg-crash-'));
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 of a Tagway on PostgreSQL during writes', () => {
  it('loses no acknowledged tag write, no published alarm event and no published audit row', { timeout: 120_000 }, async () => {
    const url = await cluster.createDatabase();
    const projectFile = join(dir, 'crash.yaml');
    writeFileSync(projectFile, PROJECT);
    child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/pg-crash-child.ts', url, join(dir, 'data'), projectFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const events: number[] = [];
    let auditRows = 0;
    let ready!: (v: { port: number; ca: string }) => void;
    const started = new Promise<{ port: number; ca: string }>((r) => (ready = r));
    const exited = new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child!.on('error', reject);
      child!.on('exit', (_code, signal) => resolve(signal));
    });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [kind, a, b] = l.split(' ');
        if (kind === 'READY') ready({ port: Number(a), ca: Buffer.from(b!, 'base64').toString() });
        else if (kind === 'E') events.push(Number(a));
        else if (kind === 'A') auditRows++;
      }
    });
    const { port, ca } = await Promise.race([
      started,
      exited.then((s) => Promise.reject(new Error(`the server exited before it was ready (${s})`))),
    ]);
    const agent = new Agent({ connect: { ca }, pipelining: 0 });
    const base = `https://127.0.0.1:${port}`;
    const call = async (method: 'POST' | 'PUT', path: string, body: unknown, token?: string) => {
      const r = await request(base + path, {
        method,
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: r.statusCode, json: (await r.body.json()) as any };
    };
    const token = (await call('POST', '/auth/login', { username: 'admin', password: 'crash-admin-password' })).json.token as string;

    // Each writer counts up on its own tag; what it sent after its last acknowledged value may or may not have landed.
    const acked = new Array<number>(WRITERS).fill(0);
    const sent = new Array<number>(WRITERS).fill(0);
    let total = 0;
    let killed = false;
    const writer = async (w: number) => {
      for (let v = 1; !killed; v++) {
        sent[w] = v;
        try {
          const name = w === 0 && v % 2 === 0 ? 'F' : `W${w}`;
          const value = name === 'F' ? v % 4 === 0 : v;
          const r = await call('PUT', `/tags/${name}/value`, { value }, token);
          if (r.status !== 200) throw new Error(`write answered ${r.status}`);
          if (name !== 'F') acked[w] = v;
          total++;
        } catch (err) {
          if (killed) return;
          throw err;
        }
        if (total >= 150 && events.length >= 6 && !killed) {
          killed = true;
          child!.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    expect(await exited).toBe('SIGKILL');
    await agent.close();

    const storage = await openPostgresStorage({ databaseUrl: url, dataDir: dir });
    try {
      const kv = new Map((await storage.keyValues.list('internal')).map((e) => [e.key, e.value as number]));
      for (let w = 0; w < WRITERS; w++) {
        if (acked[w] === 0) continue;
        const stored = kv.get(`W${w}`)!;
        // The last acknowledged value, or one sent after it that was in flight at the kill.
        expect(stored, `W${w}`).toBeGreaterThanOrEqual(acked[w]!);
        expect(stored, `W${w}`).toBeLessThanOrEqual(sent[w]!);
      }
      const stored = new Set((await storage.alarmJournal.since(0, 1_000_000)).map((e) => e.eventId));
      expect(events.length).toBeGreaterThanOrEqual(6);
      expect(events.filter((id) => !stored.has(id))).toEqual([]);
      for (const o of await storage.alarmJournal.loadOpen()) {
        const st = replay(
          o.stateMachine,
          o.events.map((e) => e.event),
        )!;
        expect(isLegal(o.stateMachine, st)).toBe(true);
      }
      // Every row the server announced as committed is there (rows carry no id on the bus, so count them).
      expect(auditRows).toBeGreaterThan(0);
      expect(await storage.audit.count()).toBeGreaterThanOrEqual(auditRows);
      expect(await storage.audit.verify()).toMatchObject({ firstBad: null });
    } finally {
      await storage.close();
    }
  });
});

describe('a Tagway whose PostgreSQL goes away', () => {
  // Runs last in this file: it stops the cluster.
  it('answers 503 STORAGE_UNAVAILABLE with Retry-After and reports degraded health, instead of failing with 500', async () => {
    const s = await startTestServer({ projectYaml: PROJECT, config: { databaseUrl: await cluster.createDatabase() } });
    try {
      const token = await s.login();
      expect((await s.request('PUT', '/tags/W1/value', { token, body: { value: 1 } })).status).toBe(200);
      expect((await s.request('GET', '/health')).json.storage.status).toBe('ok');
      await cluster.stop();
      const w = await s.request('PUT', '/tags/W1/value', { token, body: { value: 2 } });
      expect(w.status).toBe(503);
      expect(w.json.code).toBe('STORAGE_UNAVAILABLE');
      expect(w.headers['retry-after']).toBeDefined();
      const h = await s.request('GET', '/health');
      expect(h.json.status).toBe('degraded');
      expect(h.json.storage.status).toBe('degraded');
    } finally {
      await s.stop();
    }
  });
});
