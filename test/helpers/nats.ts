import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** Debian's NATS server (package `nats-server`). */
export const NATS_SERVER = process.env.TAGWAY_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface TestNats {
  /** nats://127.0.0.1:<port> (tls://127.0.0.1:<port> for a TLS server) */
  readonly url: string;
  readonly port: number;
  /** What the server wrote to stderr (its log), bounded. */
  output(): string;
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

/** PEM files of a throw-away private CA and the certificates it signed (`*.key`: unencrypted private keys). */
export interface TestNatsCertificates {
  caCert: string;
  caKey: string;
  /** For the NATS server: valid for 127.0.0.1. */
  serverCert: string;
  serverKey: string;
  /** For a Tagway node (client authentication). */
  clientCert: string;
  clientKey: string;
}

/**
 * Writes a throw-away CA into `dir` (prefix `name`), with a server certificate for 127.0.0.1 and a client
 * certificate, both signed by it (EC P-256; selfsigned, as the HTTPS server's own certificate is made).
 */
export async function createTestNatsCertificates(dir: string, name = 'nats'): Promise<TestNatsCertificates> {
  const opts = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000) } as const;
  const ca = await generate([{ name: 'commonName', value: `${name} test CA` }], {
    ...opts,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const signer = { ca: { key: ca.private, cert: ca.cert } };
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    ...opts,
    ...signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const client = await generate([{ name: 'commonName', value: `${name} tagway node` }], {
    ...opts,
    ...signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const files: TestNatsCertificates = {
    caCert: join(dir, `${name}-ca.crt`),
    caKey: join(dir, `${name}-ca.key`),
    serverCert: join(dir, `${name}-server.crt`),
    serverKey: join(dir, `${name}-server.key`),
    clientCert: join(dir, `${name}-client.crt`),
    clientKey: join(dir, `${name}-client.key`),
  };
  writeFileSync(files.caCert, ca.cert);
  writeFileSync(files.caKey, ca.private, { mode: 0o600 });
  writeFileSync(files.serverCert, server.cert);
  writeFileSync(files.serverKey, server.private, { mode: 0o600 });
  writeFileSync(files.clientCert, client.cert);
  writeFileSync(files.clientKey, client.private, { mode: 0o600 });
  return files;
}

/**
 * Starts a throw-away nats-server on loopback and an ephemeral port; throws (never skips) when the binary is
 * missing, naming the Debian package. With `auth`, the server accepts only that user and password (`url` stays
 * without them: a client puts them in its own URL, nats://user:password@127.0.0.1:port). With `tls`, the server
 * requires TLS with that certificate (`url` is then tls://…), and with `tls.verifyClients` only clients whose
 * certificate that CA file signed (mutual TLS).
 */
export async function startTestNats(
  opts: { auth?: { user: string; password: string }; tls?: { cert: string; key: string; verifyClients?: string } } = {},
): Promise<TestNats> {
  if (!existsSync(NATS_SERVER)) {
    throw new Error(
      `Cluster tests need Debian's 'nats-server' package: ${NATS_SERVER} not found. ` +
        `Install it as root with: apt-get install -y nats-server (or set TAGWAY_TEST_NATS_SERVER).`,
    );
  }
  const port = await freePort();
  const auth = opts.auth ? ['--user', opts.auth.user, '--pass', opts.auth.password] : [];
  const t = opts.tls;
  const tls = t
    ? ['--tls', '--tlscert', t.cert, '--tlskey', t.key, ...(t.verifyClients ? ['--tlsverify', '--tlscacert', t.verifyClients] : [])]
    : [];
  const proc: ChildProcess = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), ...auth, ...tls], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => {
    if (log.length < 200_000) log += d.toString();
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
    url: `${t ? 'tls' : 'nats'}://127.0.0.1:${port}`,
    port,
    output: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}
