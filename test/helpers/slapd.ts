import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away OpenLDAP server from Debian's `slapd` package: own config file and database in a temp dir,
 * listening on 127.0.0.1 and a free port, stopped by PID. Installs `slapd` and `ldap-utils` when missing and we
 * are root (as CI runs); otherwise fails with a message naming the packages.
 */
export const SLAPD = '/usr/sbin/slapd';
export const SUFFIX = 'dc=tagway,dc=test';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PW = 'admin-secret';

export function ensureSlapdInstalled(): void {
  const have = () => existsSync(SLAPD) && existsSync('/usr/bin/ldapadd');
  if (have()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The LDAP tests need the Debian packages "slapd" and "ldap-utils": run as root, or apt-get install -y slapd ldap-utils',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'slapd', 'ldap-utils'], { env, stdio: 'pipe' });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { env, stdio: 'pipe' });
    install();
  }
  if (!have()) throw new Error('apt-get did not install slapd/ldap-utils');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`slapd exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slapd did not listen on ${port}: ${log()}`);
}

export interface Slapd {
  url: string;
  port: number;
  dir: string;
  add(ldif: string): void;
  stop(): Promise<void>;
}

export async function startSlapd(): Promise<Slapd> {
  ensureSlapdInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'tagway-slapd-'));
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
database mdb
maxsize 16777216
suffix "${SUFFIX}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PW}
directory ${dir}/db
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
`,
  );
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let out = '';
  // -d 0 keeps slapd in the foreground (no fork), so the PID we hold is the server's own.
  const child = spawn(SLAPD, ['-f', conf, '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitForPort(port, child, () => out);
  return {
    url,
    port,
    dir,
    add(ldif: string) {
      const f = join(dir, `add-${Date.now()}.ldif`);
      writeFileSync(f, ldif);
      execFileSync('ldapadd', ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PW, '-f', f], { stdio: 'pipe' });
    },
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
