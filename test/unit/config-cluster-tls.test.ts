import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNatsTls } from '../../src/cluster/nats-tls.js';
import { configError, load } from '../helpers/config.js';
import { createTestNatsCertificates, type TestNatsCertificates } from '../helpers/nats.js';

const CLUSTER = ['--cluster-url', 'tls://127.0.0.1:4222', '--database-url', 'postgres://db/t'];

let dir: string;
let certs: TestNatsCertificates;
let other: TestNatsCertificates;
/** Files that must be refused, by what is wrong with them. */
const bad: Record<'text' | 'damagedCert' | 'damagedKey' | 'encryptedKey' | 'expiredCert' | 'expiredKey', string> = {} as never;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-cluster-tls-'));
  [certs, other] = await Promise.all([createTestNatsCertificates(dir, 'a'), createTestNatsCertificates(dir, 'b')]);
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  bad.text = write('notes.txt', 'not a certificate\n');
  bad.damagedCert = write('damaged.crt', '-----BEGIN CERTIFICATE-----\nAAAAnotDER\n-----END CERTIFICATE-----\n');
  bad.damagedKey = write('damaged.key', '-----BEGIN PRIVATE KEY-----\nAAAAnotDER\n-----END PRIVATE KEY-----\n');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  bad.encryptedKey = write(
    'encrypted.key',
    privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString(),
  );
  const expired = await generate([{ name: 'commonName', value: 'old node' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 3 * 86_400_000),
    notAfterDate: new Date(Date.now() - 86_400_000),
  });
  bad.expiredCert = write('expired.crt', expired.cert);
  bad.expiredKey = write('expired.key', expired.private);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--cluster-ca, --cluster-cert, --cluster-key', () => {
  it('are taken from flags or the environment (paths; the files are read and checked)', () => {
    const c = load([...CLUSTER, '--cluster-ca', certs.caCert], {
      TAGWAY_CLUSTER_CERT: certs.clientCert,
      TAGWAY_CLUSTER_KEY: certs.clientKey,
    });
    expect([c.clusterCa, c.clusterCert, c.clusterKey]).toEqual([certs.caCert, certs.clientCert, certs.clientKey]);
    expect(load(CLUSTER).clusterCa).toBeUndefined();
  });

  it('need --cluster-url, and certificate and key go together', () => {
    expect(configError(['--database-url', 'postgres://db/t', '--cluster-ca', certs.caCert])).toBe(
      '--cluster-ca is for the cluster link to NATS: give --cluster-url too',
    );
    expect(configError(['--cluster-cert', certs.clientCert, '--cluster-key', certs.clientKey])).toMatch(
      /^--cluster-cert, --cluster-key are for the cluster link to NATS: give --cluster-url too/,
    );
    expect(configError([...CLUSTER, '--cluster-cert', certs.clientCert])).toBe(
      '--cluster-cert and --cluster-key go together: give both or neither',
    );
    expect(configError([...CLUSTER], { TAGWAY_CLUSTER_KEY: certs.clientKey })).toMatch(/go together/);
  });

  it('refuse a file that is missing or a directory, naming the option and the file', () => {
    expect(configError([...CLUSTER, '--cluster-ca', join(dir, 'none.crt')])).toBe(
      `--cluster-ca: cannot read '${join(dir, 'none.crt')}' (no such file)`,
    );
    mkdirSync(join(dir, 'folder'));
    expect(configError([...CLUSTER, '--cluster-ca', join(dir, 'folder')])).toMatch(
      /^--cluster-ca: cannot read '.*folder' \(it is a directory\)$/,
    );
    expect(configError([...CLUSTER, '--cluster-cert', certs.clientCert, '--cluster-key', join(dir, 'none.key')])).toMatch(
      /^--cluster-key: cannot read .*\(no such file\)$/,
    );
  });

  it('refuse what is not PEM, a damaged certificate and a damaged or encrypted key', () => {
    expect(configError([...CLUSTER, '--cluster-ca', bad.text])).toMatch(/^--cluster-ca: '.*notes\.txt' holds no PEM certificate/);
    expect(configError([...CLUSTER, '--cluster-ca', bad.damagedCert])).toMatch(
      /^--cluster-ca: certificate 1 in '.*damaged\.crt' is not a valid certificate/,
    );
    expect(configError([...CLUSTER, '--cluster-cert', bad.damagedCert, '--cluster-key', certs.clientKey])).toMatch(
      /^--cluster-cert: certificate 1/,
    );
    expect(configError([...CLUSTER, '--cluster-cert', certs.clientCert, '--cluster-key', bad.damagedKey])).toMatch(
      /^--cluster-key: '.*damaged\.key' holds no usable PEM private key/,
    );
    expect(configError([...CLUSTER, '--cluster-cert', certs.clientCert, '--cluster-key', bad.encryptedKey])).toMatch(
      /^--cluster-key: '.*encrypted\.key' is encrypted; give the key without a passphrase/,
    );
  });

  it('refuse a key that is not the certificate’s, and an expired client certificate; no message holds key material', () => {
    const mismatch = configError([...CLUSTER, '--cluster-cert', certs.clientCert, '--cluster-key', other.clientKey]);
    expect(mismatch).toBe(
      `--cluster-key: '${other.clientKey}' is not the key of the certificate in '${certs.clientCert}' (--cluster-cert)`,
    );
    expect(configError([...CLUSTER, '--cluster-cert', bad.expiredCert, '--cluster-key', bad.expiredKey])).toMatch(
      /^--cluster-cert: the certificate in '.*expired\.crt' expired on \d{4}-/,
    );
    const keyLines = readFileSync(other.clientKey, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'));
    for (const line of keyLines) expect(mismatch).not.toContain(line);
  });
});

describe('loadNatsTls (the nats.js tls option)', () => {
  it('is off for nats:// without files, required (no plaintext) for tls:// or any file', () => {
    expect(loadNatsTls('nats://127.0.0.1:4222', {})).toBeUndefined();
    const bare = loadNatsTls('nats://h1:4222,tls://h2:4222', {})!;
    expect([bare.ca, bare.cert, bare.key]).toEqual([undefined, undefined, undefined]);
    const withCa = loadNatsTls('nats://127.0.0.1:4222', { ca: certs.caCert })!;
    expect(withCa.ca).toBe(readFileSync(certs.caCert, 'utf8'));
  });

  it('holds the client key but never shows it in JSON (logs)', () => {
    const tls = loadNatsTls('tls://127.0.0.1:4222', { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey })!;
    expect(tls.key).toBe(readFileSync(certs.clientKey, 'utf8'));
    expect(JSON.parse(JSON.stringify({ tls }))).toEqual({ tls: { ca: certs.caCert, cert: certs.clientCert, key: '(not shown)' } });
  });

  it('checks a server written as an IP address against that address (Node would check "localhost"), and only that one', () => {
    const forIp = (ip: string) => ({ subject: { CN: 'nats' }, subjectaltname: `IP Address:${ip}` }) as unknown as PeerCertificate;
    const forName = (name: string) => ({ subject: { CN: name }, subjectaltname: `DNS:${name}` }) as unknown as PeerCertificate;
    const check = loadNatsTls('tls://127.0.0.1:4222, tls://user:pw@[::1]:4223', {})!.checkServerIdentity;
    expect(check('localhost', forIp('127.0.0.1'))).toBeUndefined();
    expect(check('localhost', forIp('::1'))).toBeUndefined();
    expect(check('localhost', forIp('10.0.0.9'))).toBeInstanceOf(Error);
    // A host name is checked by Node's own rule, never widened.
    const named = loadNatsTls('tls://nats.example:4222,tls://10.0.0.5:4222', {})!.checkServerIdentity;
    expect(named('nats.example', forName('nats.example'))).toBeUndefined();
    expect(named('nats.example', forIp('10.0.0.5'))).toBeInstanceOf(Error);
    expect(named('localhost', forName('localhost'))).toBeUndefined();
  });
});
