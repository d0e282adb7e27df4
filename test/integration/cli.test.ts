/**
 * The real CLI as a child process: src/ as it is now, transpiled once per run into a temp dir (see buildCli),
 * started with plain `node …/src/cli/run.js` — the same entry as `node --import tsx src/cli/run.ts`, but without
 * a stale dist/ and without a TypeScript loader in every child. Servers listen on 127.0.0.1 with port 0; the
 * URL, with the port the kernel chose, is read from the start-up line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { verify } from '@node-rs/argon2';
import { generate } from 'selfsigned';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, type ProjectError } from '../../src/project/problems.js';
import { loadProjectFile } from '../../src/project/load.js';
import { buildCli, ROOT } from '../helpers/cli.js';

const SLOW = 60_000; // a child process that loads fastify on two busy cores
let RUN: string;

interface Child {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with stdout once it matches `re` (rejects if the process exits first). */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith('TAGWAY_') && !(opts.env && k in opts.env)) delete env[k];
  const proc = spawn(process.execPath, [RUN, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const child: Child = {
    proc,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal }))),
    waitFor(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = child.stdout.match(re);
          if (m) {
            proc.stdout!.off('data', check);
            resolve(m);
          }
        };
        proc.stdout!.on('data', check);
        check();
        void child.exit.then(() => setImmediate(() => reject(new Error(`exited before ${re}: ${child.stdout}\n${child.stderr}`))));
      });
    },
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    child.stdout += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    child.stderr += d;
  });
  if (opts.stdin !== undefined) proc.stdin!.end(opts.stdin);
  else proc.stdin!.end();
  return child;
}

const children: Child[] = [];
function track(c: Child): Child {
  children.push(c);
  return c;
}

const fingerprint = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('hex').toUpperCase().match(/../g)!.join(':');

/** SHA-256 fingerprint of the certificate a TLS server presents (colon-separated upper-case hex, as Node gives it). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

const SERVING = /Tagway serving project '[^']+' \(\d+ tags\) on (https?):\/\/127\.0\.0\.1:(\d+)/;

let dir: string;
const BAD = `name: Bad plant
connections:
  - { name: internal, driver: internal }
tags:
  - { name: A, type: Int16, connection: internal, initial: 40000 }
  - { name: B, type: Int16, connection: nowhere, colour: red }
`;
let expectedLines: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-cli-'));
  RUN = buildCli(join(dir, 'build'));
  writeFileSync(join(dir, 'bad.yaml'), BAD);
  // The lines the CLI must print are the loader's own problems, formatted with the path as given.
  try {
    loadProjectFile(join(dir, 'bad.yaml'));
  } catch (e) {
    expectedLines = (e as ProjectError).problems.map((p) => formatProblem({ ...p, file: 'bad.yaml' }));
  }
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exit));
  rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('tagway CLI', () => {
  it('check of the demo project exits 0', { timeout: SLOW }, async () => {
    const c = track(cli(['check', 'projects/demo.yaml']));
    expect(await c.exit).toEqual({ code: 0, signal: null });
    expect(c.stdout).toMatch(/^projects\/demo\.yaml: OK — project 'Demo bottling line', 2 connections, \d+ tags\n$/);
    expect(c.stderr).toBe('');
  });

  it('check of a bad project prints file:line:col: message lines and exits 1', { timeout: SLOW }, async () => {
    // A schema problem (unknown key) no longer hides the independent cross-check problems: one run shows all three.
    expect(expectedLines).toHaveLength(3);
    const c = track(cli(['check', 'bad.yaml'], { cwd: dir }));
    expect(await c.exit).toEqual({ code: 1, signal: null });
    expect(c.stderr).toBe(
      `bad.yaml:5:51: initial value: 40000 is outside the Int16 range -32768…32767 (at /tags/0/initial)\n` +
        `bad.yaml:6:29: no connection named 'nowhere' (at /tags/1/connection)\n` +
        `bad.yaml:6:50: unknown key 'colour' (at /tags/1/colour)\nbad.yaml: 3 problems\n`,
    );
    expect(c.stderr.split('\n').slice(0, 3)).toEqual(expectedLines);
    expect(c.stdout).toBe('');
  });

  it('check without a file is a usage error', { timeout: SLOW }, async () => {
    const c = track(cli(['check']));
    expect((await c.exit).code).toBe(2);
    expect(c.stderr).toMatch(/usage: tagway check FILE/);
  });

  it('start with an invalid project exits 1 with the same problem lines and never listens', { timeout: SLOW }, async () => {
    const data = join(dir, 'never');
    const c = track(cli(['start', '--project', 'bad.yaml', '--port', '0', '--host', '127.0.0.1', '--data-dir', data], { cwd: dir }));
    expect(await c.exit).toEqual({ code: 1, signal: null });
    expect(c.stderr).toBe(`The project file is invalid; Tagway did not start.\n${expectedLines.join('\n')}\n`);
    expect(c.stdout).not.toMatch(/serving/);
    // Nothing was opened or created: no database, no certificate.
    expect(existsSync(data)).toBe(false);
  });

  it('plain HTTP: warns, answers /health, stops gracefully on SIGTERM', { timeout: SLOW }, async () => {
    const data = join(dir, 'http');
    const c = track(
      cli(['start', '--http', '--port', '0', '--host', '127.0.0.1', '--data-dir', data], {
        env: { TAGWAY_ADMIN_PASSWORD: 'cli-test-admin-secret' },
      }),
    );
    const [, scheme, port] = await c.waitFor(SERVING);
    expect(scheme).toBe('http');
    expect(c.stdout).toContain('WARNING: serving plain HTTP; passwords and tokens cross the network unencrypted.');
    const r = await request(`http://127.0.0.1:${port}/health`);
    expect(r.statusCode).toBe(200);
    expect(await r.body.json()).toMatchObject({
      status: 'ok',
      tags: loadProjectFile(join(ROOT, 'projects', 'demo.yaml')).tags.length,
      connections: { total: 2, connected: 2 },
    });
    // No TLS material in plain-HTTP mode.
    expect(existsSync(join(data, 'tls'))).toBe(false);
    expect(existsSync(join(data, 'tagway.db'))).toBe(true);
    c.proc.kill('SIGTERM');
    expect(await c.exit).toEqual({ code: 0, signal: null });
    expect(c.stdout).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    // Secrets never reach the output.
    expect(c.stdout + c.stderr).not.toContain('cli-test-admin-secret');
  });

  it('first HTTPS start generates a certificate, prints its fingerprint, serves it, stops on SIGINT', { timeout: SLOW }, async () => {
    const data = join(dir, 'https');
    const c = track(cli(['start', '--port', '0', '--host', '127.0.0.1', '--data-dir', data]));
    const [, scheme, port] = await c.waitFor(SERVING);
    expect(scheme).toBe('https');
    const certFile = join(data, 'tls', 'server.crt');
    const keyFile = join(data, 'tls', 'server.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const cert = readFileSync(certFile, 'utf8');
    expect(c.stdout).toContain(`TLS certificate generated: ${certFile}\n  SHA-256 fingerprint ${fingerprint(cert)}\n`);
    expect(await servedFingerprint(Number(port))).toBe(fingerprint(cert));
    // The certificate is valid for 127.0.0.1: a client that trusts it connects without disabling verification.
    const agent = new Agent({ connect: { ca: cert } });
    const r = await request(`https://127.0.0.1:${port}/health`, { dispatcher: agent });
    expect(r.statusCode).toBe(200);
    await r.body.dump();
    await agent.close();
    // The first start without TAGWAY_ADMIN_PASSWORD creates 'admin' with a random password kept in the data dir.
    const pw = readFileSync(join(data, 'initial-admin-password'), 'utf8').trim();
    expect(pw.length).toBeGreaterThanOrEqual(16);
    expect(c.stdout).not.toContain(readFileSync(keyFile, 'utf8').split('\n')[1]!);
    c.proc.kill('SIGINT');
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  it('--tls-cert/--tls-key serve the given certificate', { timeout: SLOW }, async () => {
    const pems = await generate([{ name: 'commonName', value: 'cli-test' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const certFile = join(dir, 'given.crt');
    const keyFile = join(dir, 'given.key');
    writeFileSync(certFile, pems.cert);
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    const data = join(dir, 'given');
    const c = track(cli(['start', '--port', '0', '--host', '127.0.0.1', '--data-dir', data, '--tls-cert', certFile, '--tls-key', keyFile]));
    const [, , port] = await c.waitFor(SERVING);
    expect(c.stdout).toContain(`TLS certificate loaded: ${certFile}\n  SHA-256 fingerprint ${fingerprint(pems.cert)}\n`);
    expect(await servedFingerprint(Number(port))).toBe(fingerprint(pems.cert));
    expect(existsSync(join(data, 'tls'))).toBe(false);
    c.proc.kill('SIGTERM');
    expect((await c.exit).code).toBe(0);
  });

  it('hash-password reads stdin and prints an argon2id hash', { timeout: SLOW }, async () => {
    const c = track(cli(['hash-password'], { stdin: 'correct horse battery staple\n' }));
    expect(await c.exit).toEqual({ code: 0, signal: null });
    const hash = c.stdout.trim();
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await verify(hash, 'correct horse battery staple\n')).toBe(false);
  });

  it('an unknown command exits 2 with the help text', { timeout: SLOW }, async () => {
    const c = track(cli(['frobnicate']));
    expect(await c.exit).toEqual({ code: 2, signal: null });
    expect(c.stderr).toMatch(/^unknown command 'frobnicate'\n\nTagway — open plant-data server\n\nUsage:/);
    expect(c.stderr).toContain('tagway check FILE');
    expect(c.stderr).toContain('--tls-cert VALUE');
  });

  it('a configuration error exits 2', { timeout: SLOW }, async () => {
    const c = track(cli(['start', '--port', '70000']));
    expect(await c.exit).toEqual({ code: 2, signal: null });
    expect(c.stderr).toBe('Configuration error: --port / TAGWAY_PORT must be a port number 0…65535, got 70000\n');
  });
});
