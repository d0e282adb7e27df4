import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the certificate, colon-separated hex, for users to compare with their browser. */
  fingerprint: string;
  generated: boolean;
  certFile: string;
}

export function fingerprintOf(certPem: string): string {
  const der = new X509Certificate(certPem).raw;
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/**
 * Uses the given certificate, or the self-signed one in the data dir, generating it on first start
 * (EC P-256, valid for localhost, 127.0.0.1, ::1 and this host's name, for 825 days).
 */
export async function ensureTls(dataDir: string, certFile?: string, keyFile?: string): Promise<TlsMaterial> {
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw new Error('--tls-cert and --tls-key go together');
    const cert = readFileSync(certFile, 'utf8');
    return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: fingerprintOf(cert), generated: false, certFile };
  }
  const dir = join(dataDir, 'tls');
  const cf = join(dir, 'server.crt');
  const kf = join(dir, 'server.key');
  if (existsSync(cf) && existsSync(kf)) {
    const cert = readFileSync(cf, 'utf8');
    return { cert, key: readFileSync(kf, 'utf8'), fingerprint: fingerprintOf(cert), generated: false, certFile: cf };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const host = hostname();
  const notAfter = new Date(Date.now() + 825 * 86_400_000);
  // selfsigned is only needed on a first start; loading it costs ~150 ms at every start otherwise.
  const { generate } = await import('selfsigned');
  const pems = await generate(
    [
      { name: 'commonName', value: 'Tagway self-signed' },
      { name: 'organizationName', value: 'Tagway' },
    ],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: notAfter,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 2, value: host },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    },
  );
  writeFileSync(kf, pems.private, { mode: 0o600 });
  writeFileSync(cf, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, fingerprint: fingerprintOf(pems.cert), generated: true, certFile: cf };
}

/**
 * TLS 1.3 (its three AEAD suites) and, for older clients, TLS 1.2 with ECDHE key exchange and AEAD ciphers only:
 * no CBC-mode suites with SHA-1 MACs (Lucky13-style padding oracles), no static-RSA key exchange (no forward
 * secrecy). Every current browser and OPC/MQTT stack speaks one of these.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The HTTPS server's TLS options for a certificate and key. */
export function tlsServerOptions(cert: string, key: string, handshakeTimeoutMs: number) {
  return {
    cert,
    key,
    minVersion: 'TLSv1.2' as const,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    // A client that opens a socket and never finishes the handshake is not held for Node's default 120 s.
    handshakeTimeout: handshakeTimeoutMs,
  };
}
