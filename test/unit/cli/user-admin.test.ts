import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../src/auth/passwords.js';
import { DATABASE_FILE, runAuditVerify } from '../../../src/cli/audit-verify.js';
import { runUserCommand } from '../../../src/cli/user-admin.js';
import { openDatabase } from '../../../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../../../src/storage/sqlite/sqlite-audit-repository.js';
import { SqliteSessionRepository } from '../../../src/storage/sqlite/sqlite-session-repository.js';
import { SqliteUserRepository } from '../../../src/storage/sqlite/sqlite-user-repository.js';

describe('tagway user …', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  let pw: string;
  const run = (...args: string[]) =>
    runUserCommand([...args, '--data-dir', dir], { out: (l) => out.push(l), err: (l) => err.push(l), readPassword: async () => pw }, {});
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-cli-'));
    out = [];
    err = [];
    pw = 'Cli-Strong-Pass-42';
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds, lists, changes the password, disables (ending sessions) and enables; all audited', async () => {
    expect(await run('add', 'erin', '--groups', 'operators,viewers')).toBe(0);
    pw = 'short';
    expect(await run('add', 'frank', '--groups', 'viewers')).toBe(1);
    expect(err.join()).toMatch(/at least 10/);
    expect(await run('list')).toBe(0);
    expect(out.join('\n')).toMatch(/erin\s+enabled\s+local\s+operators,viewers/);

    const db = openDatabase(join(dir, DATABASE_FILE));
    await new SqliteSessionRepository(db).insert({
      tokenHash: 'h1',
      username: 'erin',
      csrfToken: 'c',
      createdAt: 0,
      lastSeenAt: 0,
      absoluteExpiresAt: 1e15,
      clientAddress: '127.0.0.1',
    });
    pw = 'Another-Good-Pass-7';
    expect(await run('passwd', 'erin')).toBe(0);
    expect(await verifyPassword((await new SqliteUserRepository(db).get('erin'))!.passwordHash, 'Another-Good-Pass-7')).toBe(true);
    expect(await new SqliteSessionRepository(db).get('h1')).toBeUndefined();
    expect(await run('disable', 'erin')).toBe(0);
    expect((await new SqliteUserRepository(db).get('erin'))!.disabled).toBe(true);
    expect(await run('enable', 'erin')).toBe(0);
    expect((await new SqliteUserRepository(db).get('erin'))!.disabled).toBe(false);
    expect(await run('disable', 'nobody')).toBe(1);
    expect((await new SqliteAuditRepository(db).query({ order: 'asc' })).items.map((r) => r.action)).toEqual([
      'user.create',
      'user.password',
      'user.disable',
      'user.update',
    ]);
    db.close();
    expect(runAuditVerify(dir, { log: () => {}, error: () => {} })).toBe(0);
  });
});
