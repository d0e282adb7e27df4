import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, chainRow, GENESIS_HASH, verifyChain, type AuditRow } from '../../../../src/domain/audit/chain.js';
import { DATABASE_FILE, runAuditVerify } from '../../../../src/cli/audit-verify.js';
import { AuditTrail } from '../../../../src/runtime/audit.js';
import { ManualClock } from '../../../../src/domain/clock.js';
import { openDatabase, type Database } from '../../../../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../../../../src/storage/sqlite/sqlite-audit-repository.js';

function rows(n: number): AuditRow[] {
  const out: AuditRow[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const r = chainRow(
      {
        id: i,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        action: 'tag.write',
        user: 'u',
        clientAddress: '127.0.0.1',
        target: `T${i}`,
        details: canonicalJson({ newValue: i }),
        result: 'OK',
      },
      prev,
    );
    out.push(r);
    prev = r.hash;
  }
  return out;
}

describe('hash chain (pure)', () => {
  it('an intact chain verifies', async () => {
    expect(verifyChain(rows(10))).toBeNull();
    expect(verifyChain([])).toBeNull();
  });
  it('names the first altered, removed or reordered row', async () => {
    const a = rows(10);
    a[4] = { ...a[4]!, details: canonicalJson({ newValue: 999 }) };
    expect(verifyChain(a)).toBe(5);
    const b = rows(10);
    b.splice(3, 1);
    expect(verifyChain(b)).toBe(5);
    // An attacker who re-hashes the altered row still breaks the link of the next one.
    const c = rows(10);
    c[6] = chainRow({ ...c[6]!, result: 'FAILED' }, c[6]!.prevHash);
    expect(verifyChain(c)).toBe(8);
  });
  it('canonical JSON does not depend on key order', async () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe(canonicalJson({ a: { c: [3, { e: 2, f: 1 }], d: 2 }, b: 1 }));
  });
});

describe('SQLite audit log', () => {
  let dir: string;
  let db: Database;
  let log: SqliteAuditRepository;
  let trail: AuditTrail;
  const clock = new ManualClock();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-audit-'));
    db = openDatabase(join(dir, DATABASE_FILE));
    log = new SqliteAuditRepository(db);
    trail = new AuditTrail(log, clock);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fill(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock.advance(1000);
      trail.record({
        action: i % 3 === 0 ? 'auth.login' : 'tag.write',
        user: i % 2 ? 'alice' : 'bob',
        clientAddress: '127.0.0.1',
        target: `T${i}`,
        details: { newValue: i, password: 'hunter2' },
        result: 'OK',
      });
    }
    await trail.flush();
  }

  it('refuses UPDATE and DELETE through SQL', async () => {
    await fill(3);
    expect(() => db.prepare("UPDATE audit_log SET result = 'X' WHERE id = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(await log.count()).toBe(3);
  });

  it('never stores secrets in details', async () => {
    await fill(1);
    expect((await log.query()).items[0]!.details).toBe('{"newValue":0,"password":"[redacted]"}');
  });

  it('verify passes, then names the row altered with raw SQL by someone with file access', async () => {
    await fill(20);
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
    expect(runAuditVerify(dir, out)).toBe(0);
    expect(lines.join('\n')).toMatch(/OK, 20 rows/);
    // The attacker drops the trigger first; the chain still gives them away.
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare('UPDATE audit_log SET details = \'{"newValue":1000}\' WHERE id = 13').run();
    lines.length = 0;
    expect(runAuditVerify(dir, out)).toBe(1);
    expect(lines.join('\n')).toMatch(/TAMPERED at row 13/);
  });

  it('verify reports a missing database with exit code 2', async () => {
    expect(runAuditVerify(join(dir, 'nope'), { log: () => {}, error: () => {} })).toBe(2);
  });

  it('filters by time, user and action with stable keyset pages', async () => {
    await fill(30);
    const all = (await log.query({ limit: 1000, order: 'asc' })).items;
    expect(all).toHaveLength(30);
    const from = all[5]!.at;
    const to = all[15]!.at;
    const byTime = (await log.query({ from, to, order: 'asc', limit: 1000 })).items;
    expect(byTime.map((r) => r.id)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect((await log.query({ user: 'alice', limit: 1000 })).items.every((r) => r.user === 'alice')).toBe(true);
    expect((await log.query({ action: 'auth.login', limit: 1000 })).items).toHaveLength(10);
    expect((await log.query({ action: ['auth.login', 'tag.write'], limit: 1000 })).items).toHaveLength(30);

    // Page through newest-first while new rows arrive: no row is seen twice or skipped.
    const seen: number[] = [];
    let page = await log.query({ limit: 7 });
    seen.push(...page.items.map((r) => r.id));
    await fill(5);
    while (page.next) {
      page = await log.query({ limit: 7, cursor: page.next });
      seen.push(...page.items.map((r) => r.id));
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    await expect(log.query({ cursor: 'garbage!' })).rejects.toThrow(RangeError);
  });

  it('keeps one chain across reopening the file', async () => {
    await fill(3);
    db.close();
    db = openDatabase(join(dir, DATABASE_FILE));
    log = new SqliteAuditRepository(db);
    trail = new AuditTrail(log, clock);
    await fill(3);
    expect(verifyChain(log.iterate())).toBeNull();
    expect(await log.count()).toBe(6);
  });
});
