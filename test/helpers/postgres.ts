import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Debian's PostgreSQL 15 binaries (package `postgresql`). */
export const PG_BIN = process.env.TAGWAY_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** The database name of a URL made by `createDatabase` (to use it as a template). */
export function databaseName(url: string): string {
  return new URL(url).pathname.slice(1);
}

export interface TestCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly adminUrl: string;
  readonly port: number;
  readonly dir: string;
  /** A fresh database (empty, or a copy of `template`, which must have no open connections); returns its URL. */
  createDatabase(prefix?: string, template?: string): Promise<string>;
  /** Fast shutdown (SIGINT to the postmaster by PID), then removes the temp dir. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function asPostgres(cmd: string): void {
  // initdb refuses to run as root; as root the cluster belongs to the `postgres` user the package created.
  const r =
    process.getuid?.() === 0
      ? spawnSync('su', ['postgres', '-c', cmd], { encoding: 'utf8' })
      : spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PostgreSQL test cluster: '${cmd}' failed (${r.status}): ${r.stderr}${r.stdout}`);
}

let dbCounter = 0;

/**
 * Starts a throw-away PostgreSQL cluster in a temp dir: trust auth, loopback only, an ephemeral port, fsync off
 * unless `durable` (tests need no durability against power loss; the kill -9 test only kills Tagway, not the
 * database).
 */
export async function startTestCluster(opts: { durable?: boolean } = {}): Promise<TestCluster> {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) {
    throw new Error(
      `PostgreSQL tests need Debian's 'postgresql' package (15): ${PG_BIN}/initdb not found. ` +
        `Install it as root with: apt-get install -y postgresql (or set TAGWAY_TEST_PG_BIN).`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'tagway-pg-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  const port = await freePort();
  const data = join(dir, 'data');
  asPostgres(`${PG_BIN}/initdb -D ${data} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 > ${dir}/initdb.log 2>&1`);
  const serverOpts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c max_connections=200${
    // Benchmarks measure durable commits, as in production; tests need no protection against power loss.
    opts.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off'
  }`;
  asPostgres(`${PG_BIN}/pg_ctl -D ${data} -o '${serverOpts}' -l ${dir}/server.log -w -t 60 start > ${dir}/pg_ctl.log 2>&1`);
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  // A test file that dies without reaching its afterAll must not leave a postmaster behind.
  const orphanGuard = () => {
    if (!stopped)
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* gone */
      }
  };
  process.once('exit', orphanGuard);
  return {
    adminUrl,
    port,
    dir,
    async createDatabase(prefix = 'tagway_test', template?: string) {
      const name = `${prefix}_${process.pid}_${++dbCounter}`;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''} STRATEGY FILE_COPY`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', orphanGuard);
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* already gone */
      }
      // Fast shutdown takes well under a second; the pid file disappears when the postmaster has exited.
      for (let i = 0; i < 200 && existsSync(join(data, 'postmaster.pid')); i++) await new Promise((r) => setTimeout(r, 50));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
