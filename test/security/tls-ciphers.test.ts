import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Finding 19: TLS 1.2 offered CBC-SHA1 suites. Now TLS 1.2 is ECDHE with AEAD ciphers only; TLS 1.3 is preferred. */
describe('TLS cipher suites', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const handshake = (opts: ConnectionOptions) =>
    new Promise<{ ok: true; protocol: string | null; cipher: string } | { ok: false; error: string }>((resolve) => {
      const t: TLSSocket = connect(
        { host: '127.0.0.1', port: Number(new URL(s.url).port), ca: s.ca, servername: 'localhost', ...opts },
        () => {
          resolve({ ok: true, protocol: t.getProtocol(), cipher: t.getCipher().name });
          t.end();
        },
      );
      t.once('error', (err) => resolve({ ok: false, error: err.message }));
      t.setTimeout(5000, () => {
        t.destroy();
        resolve({ ok: false, error: 'timeout' });
      });
    });

  it('refuses a TLS 1.2 client that offers only CBC-SHA1 suites', async () => {
    const r = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA' });
    expect(r.ok).toBe(false);
  });

  it('refuses a TLS 1.2 client without forward secrecy (static RSA, AES-GCM)', async () => {
    const r = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' });
    expect(r.ok).toBe(false);
  });

  it('accepts a TLS 1.2 client offering ECDHE with AES-GCM', async () => {
    const r = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' });
    expect(r).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
  });

  it('a default client gets TLS 1.3', async () => {
    const r = await handshake({});
    expect(r).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
  });

  it('refuses TLS 1.1', async () => {
    const r = await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(r.ok).toBe(false);
  });
});
