/**
 * What a new user meets in the first hour with the `tagway` command: typo hints for flags and commands, the
 * `npm start` without `--` mistake explained, and a second instance (same port or same data dir) refused before
 * it leaves any trace. The real CLI runs as a child process from src/ as it is now (see helpers/cli.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, ROOT } from '../helpers/cli.js';

const SLOW = 60_000;
const SERVING = /Tagway serving project '[^']+' \(\d+ tags\) on https?:\/\/127\.0\.0\.1:(\d+)/;
let RUN: string;
let dir: string;

interface Child {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}
const children: Child[] = [];

function cli(args: string[], env: Record<string, string> = {}): Child {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('TAGWAY_') || k.startsWith('npm_')) delete e[k];
  const proc = spawn(process.execPath, [RUN, ...args], { cwd: dir, env: { ...e, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = {
    proc,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = child.stdout.match(re);
          if (m) resolve(m);
        };
        proc.stdout!.on('data', check);
        void child.exit.then(() => setImmediate(() => reject(new Error(`exited before ${re}: ${child.stdout}\n${child.stderr}`))));
      }),
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (child.stdout += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (child.stderr += d));
  children.push(child);
  return child;
}

/** A running Tagway on an ephemeral port with its own data dir. */
async function running(name: string): Promise<{ child: Child; port: number; data: string }> {
  const data = join(dir, name);
  const child = cli(['start', '--port', '0', '--host', '127.0.0.1', '--data-dir', data, '--http'], {
    TAGWAY_ADMIN_PASSWORD: 'first-hour-admin-secret',
  });
  const [, port] = await child.waitFor(SERVING);
  return { child, port: Number(port), data };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-first-hour-'));
  RUN = buildCli(join(dir, 'build'));
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exit));
  rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('a wrong command line gets a hint', () => {
  it('a misspelt flag names the nearest one and points at tagway help', { timeout: SLOW }, async () => {
    const c = cli(['start', '--prot', '9443']);
    expect(await c.exit).toBe(2);
    expect(c.stderr).toBe(
      "Configuration error: unknown option '--prot'; did you mean '--port'? Run 'tagway help' for the list of options.\n",
    );
  });

  it('`npm start --port 9443` (no `--`) explains that npm kept the flag', { timeout: SLOW }, async () => {
    // What npm runs for that line: the script with the bare value, and the flag in its own config variable.
    const c = cli(['start', '9443'], { npm_lifecycle_event: 'start', npm_config_port: 'true' });
    expect(await c.exit).toBe(2);
    expect(c.stderr).toBe(
      "Configuration error: unexpected argument '9443'. npm passes options to Tagway only after '--': write 'npm start -- --port 9443' (npm kept '--port' for itself).\n",
    );
  });

  it('a misspelt command names the nearest one', { timeout: SLOW }, async () => {
    const c = cli(['chek', 'projects/demo.yaml']);
    expect(await c.exit).toBe(2);
    expect(c.stderr).toMatch(/^unknown command 'chek'; did you mean 'check'\?\n/);
  });

  it('check names a driver typo once, with the nearest driver', { timeout: SLOW }, async () => {
    const demo = readFileSync(join(ROOT, 'projects', 'demo.yaml'), 'utf8');
    writeFileSync(join(dir, 'typo.yaml'), demo.replace('driver: simulator', 'driver: simulater'));
    const c = cli(['check', 'typo.yaml']);
    expect(await c.exit).toBe(1);
    expect(c.stderr).toBe(
      "typo.yaml:11:5: unknown driver 'simulater'; did you mean 'simulator'? (known drivers: internal, modbus-tcp, mqtt, opcua, s7, simulator) (at /connections/0/driver)\ntypo.yaml: 1 problem\n",
    );
  });
});

describe('a second instance is refused before any side effect', () => {
  it('on the same port: exits 1 naming the process that listens, creates no data dir, prints no password', { timeout: SLOW }, async () => {
    const first = await running('port-a');
    const data = join(dir, 'port-b');
    const second = cli(['start', '--port', String(first.port), '--host', '127.0.0.1', '--data-dir', data, '--http']);
    expect(await second.exit).toBe(1);
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    // The holder is named with its PID and command line (shortened when long).
    expect(second.stderr).toMatch(
      new RegExp(
        `^Tagway did not start: Port ${first.port} on 127\\.0\\.0\\.1 is already in use by PID ${first.child.proc.pid} \\(${esc(process.execPath)} ${esc(RUN)} start .*\\)\\. ` +
          `Stop that process, or choose another port with --port or TAGWAY_PORT\\.\\n$`,
      ),
    );
    expect(second.stdout).toBe('');
    expect(existsSync(data)).toBe(false); // no database, no admin, no certificate, no lock
    first.child.proc.kill('SIGTERM');
    expect(await first.child.exit).toBe(0);
  });

  it('on the same data dir: exits 1 naming the PID that holds it, and changes nothing there', { timeout: SLOW }, async () => {
    const first = await running('shared');
    const pidFile = join(first.data, 'tagway.pid');
    expect(readFileSync(pidFile, 'utf8')).toBe(`${first.child.proc.pid}\n`);
    // The first instance writes its project cache a moment after start; wait for it, so that the comparison
    // below sees only what the second instance might change.
    for (let i = 0; i < 100 && !existsSync(join(first.data, 'cache')); i++) await new Promise((r) => setTimeout(r, 100));
    const before = readdirSync(first.data).sort();
    // Without TAGWAY_ADMIN_PASSWORD a first start would create and print a random admin password.
    const second = cli(['start', '--port', '0', '--host', '127.0.0.1', '--data-dir', first.data, '--http']);
    expect(await second.exit).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^Tagway did not start: The data directory ${first.data} is in use by another Tagway: PID ${first.child.proc.pid} \\(.*\\) holds ${pidFile}\\. Stop it first, or give this instance its own --data-dir\\.\\n$`,
      ),
    );
    expect(second.stdout).toBe('');
    expect(readdirSync(first.data).sort()).toEqual(before);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${first.child.proc.pid}\n`);
    // The PID file is what operations.md signals: SIGHUP reloads this very instance.
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGHUP');
    await first.child.waitFor(/reloading the project file/);
    first.child.proc.kill('SIGTERM');
    expect(await first.child.exit).toBe(0);
    expect(existsSync(pidFile)).toBe(false); // removed on a clean stop
  });

  it('a stale lock of a dead process is taken over', { timeout: SLOW }, async () => {
    const data = join(dir, 'stale');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    expect(() => process.kill(deadPid, 0)).toThrow();
    rmSync(data, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', data]);
    writeFileSync(join(data, 'tagway.pid'), `${deadPid}\n`);
    const c = cli(['start', '--port', '0', '--host', '127.0.0.1', '--data-dir', data, '--http'], {
      TAGWAY_ADMIN_PASSWORD: 'first-hour-admin-secret',
    });
    await c.waitFor(SERVING);
    expect(readFileSync(join(data, 'tagway.pid'), 'utf8')).toBe(`${c.proc.pid}\n`);
    c.proc.kill('SIGTERM');
    expect(await c.exit).toBe(0);
  });
});
