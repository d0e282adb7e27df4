import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPortFree, lockDataDir, PID_FILE, StartupError } from '../../../src/server/instance-lock.js';

const dirs: string[] = [];
const servers: Server[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tagway-lock-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** The PID of a process that has exited (so the kernel knows no such process, barring reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('data directory lock', () => {
  it('writes the PID file, refuses a second holder with its PID, and is free again after release', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(() => lockDataDir(dir)).toThrow(StartupError);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by another Tagway: PID ${process.pid}\\b`));
    lock.release();
    expect(existsSync(join(dir, PID_FILE))).toBe(false);
    lockDataDir(dir).release();
  });

  it('creates a missing data directory', () => {
    const dir = join(tempDir(), 'a', 'b');
    const lock = lockDataDir(dir);
    expect(existsSync(join(dir, PID_FILE))).toBe(true);
    lock.release();
  });

  it('takes over the lock of a process that no longer runs, and an unreadable one', () => {
    const dir = tempDir();
    writeFileSync(join(dir, PID_FILE), `${deadPid()}\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    writeFileSync(join(dir, PID_FILE), 'garbage');
    lockDataDir(dir).release();
  });

  it('respects the lock of another live process', () => {
    const dir = tempDir();
    // PID 1 always runs; it stands for another instance here.
    writeFileSync(join(dir, PID_FILE), '1\n');
    expect(() => lockDataDir(dir)).toThrow(/in use by another Tagway: PID 1\b/);
    expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe('1\n');
  });

  it('release does not remove a lock that a successor has taken over', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    writeFileSync(join(dir, PID_FILE), '1\n');
    lock.release();
    expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe('1\n');
  });
});

describe('port check', () => {
  it('passes for a free port and for port 0, and names the listener of a taken one', async () => {
    const s = createServer();
    servers.push(s);
    await new Promise<void>((r) => s.listen({ port: 0, host: '127.0.0.1' }, () => r()));
    const port = (s.address() as { port: number }).port;
    await expect(checkPortFree('127.0.0.1', 0)).resolves.toBeUndefined();
    await expect(checkPortFree('127.0.0.1', port)).rejects.toThrow(
      new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is already in use( by PID ${process.pid}\\b.*)?\\. Stop that process`),
    );
    await new Promise((r) => s.close(r));
    servers.pop();
    await expect(checkPortFree('127.0.0.1', port)).resolves.toBeUndefined();
  });
});
