import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';
import { CRASH_ADMIN_PASSWORD, CRASH_TAGS } from '../../fixtures/write-crash-child.js';

const dir = mkdtempSync(join(tmpdir(), 'tagway-write-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writers, each owning CRASH_TAGS / WRITERS tags: a bulk PUT of all of them, or (every third writer) single PUTs. */
const WRITERS = 8;
/** Write answers after which the server kills itself. */
const KILL_AFTER = 150;

let dead = false;

describe('client writes under kill -9 (group commit)', () => {
  it('loses no acknowledged value and no audit row of one, and the audit chain verifies', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/write-crash-child.ts', dir, String(KILL_AFTER)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => {
        dead = true;
        resolve(signal);
      }),
    );
    const info = await new Promise<{ url: string; ca: string }>((resolve, reject) => {
      let buf = '';
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { url: string; ca: string });
      });
    });
    const agent = new Agent({ connect: { ca: info.ca }, connections: WRITERS * 2 });
    const call = async (method: string, path: string, body: unknown, token?: string) => {
      const r = await request(info.url + path, {
        method: method as 'PUT',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: r.statusCode, json: (await r.body.json()) as any };
    };
    const token = (await call('POST', '/auth/login', { username: 'admin', password: CRASH_ADMIN_PASSWORD })).json.token as string;

    // Every acknowledged (tag, value); values grow per tag, each tag has one writer.
    const acked: Array<{ tag: string; value: number }> = [];
    const lastAcked = new Map<string, number>();
    let answered = 0;
    const writer = async (w: number): Promise<void> => {
      const tags = Array.from({ length: CRASH_TAGS / WRITERS }, (_, k) => `W.T${w * (CRASH_TAGS / WRITERS) + k}`);
      for (let seq = 1; !dead; seq++) {
        const value = seq + w / 100;
        try {
          if (w % 3 === 2) {
            const tag = tags[seq % tags.length]!;
            const r = await call('PUT', `/tags/${tag}/value`, { value }, token);
            if (r.status !== 200) throw new Error(`PUT ${tag}: ${r.status} ${JSON.stringify(r.json)}`);
            acked.push({ tag, value });
            lastAcked.set(tag, value);
          } else {
            const r = await call('PUT', '/tags/values', { items: tags.map((name) => ({ name, value })) }, token);
            if (r.status !== 200) throw new Error(`PUT /tags/values: ${r.status} ${JSON.stringify(r.json)}`);
            for (const item of r.json.items) expect(item).toEqual({ name: item.name, status: 'OK' });
            for (const tag of tags) {
              acked.push({ tag, value });
              lastAcked.set(tag, value);
            }
          }
        } catch (err) {
          // The answer the kill cut off: not acknowledged. (A socket error can arrive before the exit event.)
          const code = (err as { code?: string }).code ?? '';
          if (dead || code.startsWith('UND_ERR') || code.startsWith('ECONN')) return;
          throw err;
        }
        answered++;
      }
    };
    // A bound that only stops a hung test: the child kills itself long before.
    const backstop = setTimeout(() => child.kill('SIGKILL'), 40_000);
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    clearTimeout(backstop);
    expect(await exited).toBe('SIGKILL');
    await agent.close();
    expect(answered).toBeGreaterThanOrEqual(KILL_AFTER - WRITERS);

    const storage = openSqliteStorage({ dataDir: dir });
    try {
      // Every tag holds its last acknowledged value or a later one (a write in flight at the kill may have landed).
      const stored = new Map((await storage.keyValues.list('internal')).map((e) => [e.key, e.value as number]));
      const behind = [...lastAcked].filter(([tag, v]) => !((stored.get(tag) ?? -1) >= v));
      expect(behind).toEqual([]);
      // Every acknowledged write has its audit row, and the chain is intact.
      const audited = new Set<string>();
      let cursor: string | undefined;
      do {
        const page = await storage.audit.query({ action: 'tag.write', order: 'asc', limit: 10_000, cursor });
        for (const r of page.items) {
          const d = JSON.parse(r.details!) as { newValue?: unknown; items?: Array<{ name: string; newValue: unknown; error?: string }> };
          // A single write is a row on its tag; a bulk write one row listing its items.
          if (r.target !== null && r.result === 'OK') audited.add(`${r.target}=${d.newValue}`);
          for (const item of d.items ?? []) if (item.error === undefined) audited.add(`${item.name}=${item.newValue}`);
        }
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
      const unaudited = acked.filter((a) => !audited.has(`${a.tag}=${a.value}`));
      expect(unaudited).toEqual([]);
      expect(await storage.audit.verify()).toMatchObject({ firstBad: null });
    } finally {
      await storage.close();
    }
  });
});
