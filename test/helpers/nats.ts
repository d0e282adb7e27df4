import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** Debian's NATS server (package `nats-server`). */
export const NATS_SERVER = process.env.TAGWAY_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface TestNats {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
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

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Starts a throw-away nats-server on loopback and an ephemeral port; throws (never skips) when the binary is
 * missing, naming the Debian package. With `auth`, the server accepts only that user and password (`url` stays
 * without them: a client puts them in its own URL, nats://user:password@127.0.0.1:port).
 */
export async function startTestNats(opts: { auth?: { user: string; password: string } } = {}): Promise<TestNats> {
  if (!existsSync(NATS_SERVER)) {
    throw new Error(
      `Cluster tests need Debian's 'nats-server' package: ${NATS_SERVER} not found. ` +
        `Install it as root with: apt-get install -y nats-server (or set TAGWAY_TEST_NATS_SERVER).`,
    );
  }
  const port = await freePort();
  const auth = opts.auth ? ['--user', opts.auth.user, '--pass', opts.auth.password] : [];
  const proc: ChildProcess = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), ...auth], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => {
    if (log.length < 20_000) log += d.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited at start (${proc.exitCode}): ${log}`);
    if (await accepts(port)) break;
    if (i > 200) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server did not accept connections on port ${port} within 10 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}
