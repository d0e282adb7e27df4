/**
 * The cluster link over TLS, for real: a throw-away private CA signs a certificate for 127.0.0.1, nats-server
 * requires TLS with it (and, in the mutual-TLS case, a client certificate of that CA), and Tagway node processes on
 * a real PostgreSQL join with --cluster-ca (and --cluster-cert/--cluster-key), or refuse to start and say why.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNatsCertificates, startTestNats, type TestNats, type TestNatsCertificates } from '../../helpers/nats.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  adminToken,
  call,
  clusterCheck,
  startClusterEnvironment,
  startNode,
  stopNodes,
  type ClusterEnvironment,
  type ClusterNode,
  type NodeOptions,
} from './nodes.js';

const LEASE_MS = 3000;
const LINES = ['line1', 'line2'];
const PROJECT = [
  'name: Cluster over TLS',
  'connections:',
  ...LINES.map((l) => `  - { name: ${l}, driver: internal }`),
  'tags:',
  ...LINES.map((l) => `  - { name: ${l}.Setpoint, type: Float64, connection: ${l}, initial: 0 }`),
].join('\n');

let env: ClusterEnvironment;
let certs: TestNatsCertificates;
/** A CA the servers know nothing of, with a client certificate it signed. */
let stranger: TestNatsCertificates;
const servers: TestNats[] = [];
const started: ClusterNode[] = [];

beforeAll(async () => {
  env = await startClusterEnvironment('tagway_nats_tls', PROJECT);
  [certs, stranger] = await Promise.all([createTestNatsCertificates(env.dir, 'nats'), createTestNatsCertificates(env.dir, 'stranger')]);
}, 60_000);

afterAll(async () => {
  await stopNodes(started);
  for (const s of servers) await s.stop();
  await env?.nats.stop();
  await env?.pgc.stop();
  if (env) rmSync(env.dir, { recursive: true, force: true });
});

async function tlsServer(verifyClients: boolean): Promise<TestNats> {
  const s = await startTestNats({
    tls: { cert: certs.serverCert, key: certs.serverKey, ...(verifyClients ? { verifyClients: certs.caCert } : {}) },
  });
  servers.push(s);
  return s;
}

async function nodeOptions(id: string, natsUrl: string, database: string, tls: NodeOptions['tls']): Promise<NodeOptions> {
  return {
    id,
    databaseUrl: database,
    natsUrl,
    projectFile: env.projectFile,
    secretKey: env.secretKey,
    leaseMs: LEASE_MS,
    dir: env.dir,
    logLevel: 'debug',
    tls,
  };
}

/** Starts a node that must not start; its error (the start-up failure with the node's output). */
async function refused(o: NodeOptions): Promise<Error & { output?: string }> {
  return startNode(o).then(
    (n) => {
      started.push(n);
      throw new Error(`node ${o.id} started`);
    },
    (err: Error & { output?: string }) => err,
  );
}

/** Two nodes that joined: both up in `/cluster` with one connection each, and a write on one crossing NATS to the other. */
async function provesJoined(x: ClusterNode, y: ClusterNode): Promise<void> {
  const token = await adminToken(x);
  const list = await waitUntil(
    async () => {
      const r = await call(x, 'GET', '/cluster', { token });
      const nodes = r.json?.nodes as Array<{ id: string; state: string; connections: string[] }> | undefined;
      const both = [x, y].every((n) => nodes?.find((m) => m.id === n.id && m.state === 'up' && m.connections.length === 1));
      return both ? nodes : undefined;
    },
    'both nodes up with a connection each',
    8 * LEASE_MS + 10_000,
  );
  const line = list!.find((m) => m.id === y.id)!.connections[0]!;
  // Forwarded to the owner by NATS request/reply, and the owner's new value published back on NATS.
  const w = await call(x, 'PUT', `/tags/${line}.Setpoint/value`, { token, body: { value: 4.25 } });
  expect(w.status, w.text).toBe(200);
  await waitUntil(
    async () => (await call(y, 'GET', `/tags/${line}.Setpoint/value`, { token })).json?.value === 4.25 || undefined,
    'the value on the owner',
  );
  await waitUntil(
    async () => (await call(x, 'GET', `/tags/${line}.Setpoint/value`, { token })).json?.value === 4.25 || undefined,
    'the value back on the writer',
  );
  for (const n of [x, y]) expect(await clusterCheck(n)).toEqual({ name: 'cluster', ok: true });
}

describe('the cluster link over TLS', () => {
  it('nodes with --cluster-ca join through a nats-server whose certificate a private CA signed; without it, or with another CA, a node refuses to start and says why', {
    timeout: 120_000,
  }, async () => {
    const nats = await tlsServer(false);
    expect(nats.url).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    const database = await env.pgc.createDatabase('tagway_tls_ca');

    const noCa = await refused(await nodeOptions('tls-no-ca', nats.url, database, undefined));
    expect(noCa.message).toMatch(/cannot reach NATS at tls:\/\/127\.0\.0\.1:\d+/);
    expect(noCa.message).toMatch(/certificate is not trusted: give the CA that signed it with --cluster-ca/);
    const otherCa = await refused(await nodeOptions('tls-other-ca', nats.url, database, { ca: stranger.caCert }));
    expect(otherCa.message).toMatch(/certificate was refused: is it signed by the CA in --cluster-ca/);

    const nodes = await Promise.all(
      ['tls-x', 'tls-y'].map(async (id) => startNode(await nodeOptions(id, nats.url, database, { ca: certs.caCert }))),
    );
    started.push(...nodes);
    await provesJoined(nodes[0]!, nodes[1]!);
  });

  it('mutual TLS: nodes with --cluster-cert/--cluster-key join; a node without a client certificate, or with one of another CA, is refused; no key in any log', {
    timeout: 150_000,
  }, async () => {
    const nats = await tlsServer(true);
    const database = await env.pgc.createDatabase('tagway_tls_mutual');

    const noCert = await refused(await nodeOptions('mtls-no-cert', nats.url, database, { ca: certs.caCert }));
    expect(noCert.message).toMatch(/cannot reach NATS at tls:\/\/127\.0\.0\.1:\d+/);
    expect(noCert.message).toMatch(/mutual TLS.*give --cluster-cert and --cluster-key/);
    expect(nats.output()).toMatch(/client didn't provide a certificate/);
    const foreign = await refused(
      await nodeOptions('mtls-foreign', nats.url, database, { ca: certs.caCert, cert: stranger.clientCert, key: stranger.clientKey }),
    );
    expect(foreign.message).toMatch(/does the NATS server trust the CA that signed --cluster-cert/);

    const tls = { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey };
    const nodes = await Promise.all(['mtls-x', 'mtls-y'].map(async (id) => startNode(await nodeOptions(id, nats.url, database, tls))));
    started.push(...nodes);
    await provesJoined(nodes[0]!, nodes[1]!);
    // The key's body (any line of its base64) appears in no output of a node, at debug level.
    const keyLines = [certs.clientKey, stranger.clientKey].flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.length > 20 && !l.startsWith('-----')),
    );
    for (const out of [...nodes.map((n) => n.output()), foreign.output ?? '', noCert.output ?? ''])
      for (const line of keyLines) expect(out).not.toContain(line);
  });

  it('a tls:// URL never falls back to plaintext: a nats-server without TLS is refused', { timeout: 60_000 }, async () => {
    const database = await env.pgc.createDatabase('tagway_tls_plain');
    const url = env.nats.url.replace(/^nats:/, 'tls:');
    const plain = await refused(await nodeOptions('tls-plain', url, database, undefined));
    expect(plain.message).toMatch(/this node requires TLS .* but the NATS server does not offer it/);
  });

  it('a CA file that is no PEM stops the node at start, before it connects, naming the option', { timeout: 60_000 }, async () => {
    const database = await env.pgc.createDatabase('tagway_tls_bad_pem');
    const damaged = join(env.dir, 'damaged-ca.crt');
    writeFileSync(damaged, '-----BEGIN CERTIFICATE-----\nnot base64 DER\n-----END CERTIFICATE-----\n');
    const err = await refused(await nodeOptions('tls-bad-pem', env.nats.url, database, { ca: damaged }));
    expect(err.message).toMatch(/--cluster-ca: certificate 1 in '.*damaged-ca\.crt' is not a valid certificate/);
    expect(err.message).not.toMatch(/cannot reach NATS/);
  });
});
