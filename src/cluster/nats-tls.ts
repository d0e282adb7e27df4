import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** The PEM files of the cluster link's TLS, as configured (--cluster-ca, --cluster-cert, --cluster-key). */
export interface NatsTlsFiles {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/**
 * The `tls` option of nats.js (node_modules/nats: TlsOptions, whose fields the Node transport hands to
 * `tls.connect`). Present, the client requires TLS and never falls back to plaintext. Holds the client's private key:
 * never logged (its toJSON says what is configured, not what it is).
 */
export interface NatsTls {
  ca?: string;
  cert?: string;
  key?: string;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  toJSON(): unknown;
}

/** A TLS setting of the cluster link that cannot work; the message names the option and the file. */
export class NatsTlsError extends Error {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (err as Error).message;
    throw new NatsTlsError(`${option}: cannot read '${file}' (${why})`);
  }
}

/** Every certificate of a PEM file, parsed; refused when there is none or one is damaged. */
function certificates(option: string, file: string, pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new NatsTlsError(`${option}: '${file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new NatsTlsError(`${option}: certificate ${i + 1} in '${file}' is not a valid certificate (${(err as Error).message})`);
    }
  });
}

/** Whether the cluster link must use TLS: a tls:// server in the URL, or any TLS file given. */
export function natsTlsRequired(url: string, files: NatsTlsFiles): boolean {
  return /(^|,)\s*tls:\/\//i.test(url) || files.ca !== undefined || files.cert !== undefined || files.key !== undefined;
}

/**
 * Reads and checks the cluster link's TLS files at start (a damaged PEM, a key of another certificate or an expired
 * client certificate stop the node there, not at its first connect), and builds the nats.js `tls` option; undefined
 * when the link does not use TLS. Throws NatsTlsError.
 *
 * With a CA file, only that CA is trusted for the NATS server (Node's `ca` replaces the public roots and
 * NODE_EXTRA_CA_CERTS for this connection): the operator's private CA, not any public one, vouches for it.
 */
export function loadNatsTls(url: string, files: NatsTlsFiles, now = new Date()): NatsTls | undefined {
  if (!natsTlsRequired(url, files)) return undefined;
  if ((files.cert === undefined) !== (files.key === undefined))
    throw new NatsTlsError('--cluster-cert and --cluster-key go together: give both or neither');
  const tls: Partial<NatsTls> = {};
  if (files.ca !== undefined) {
    const pem = readPem('--cluster-ca', files.ca);
    certificates('--cluster-ca', files.ca, pem);
    tls.ca = pem;
  }
  if (files.cert !== undefined && files.key !== undefined) {
    const certPem = readPem('--cluster-cert', files.cert);
    const [leaf] = certificates('--cluster-cert', files.cert, certPem);
    const keyPem = readPem('--cluster-key', files.key);
    // Node's own message for a damaged key says nothing of the key's content; the content is never put in one.
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem))
      throw new NatsTlsError(
        `--cluster-key: '${files.key}' is encrypted; give the key without a passphrase (readable by Tagway's user only)`,
      );
    let key;
    try {
      key = createPrivateKey(keyPem);
    } catch (err) {
      throw new NatsTlsError(`--cluster-key: '${files.key}' holds no usable PEM private key (${(err as Error).message})`);
    }
    if (!leaf!.checkPrivateKey(key))
      throw new NatsTlsError(`--cluster-key: '${files.key}' is not the key of the certificate in '${files.cert}' (--cluster-cert)`);
    if (new Date(leaf!.validTo).getTime() < now.getTime())
      throw new NatsTlsError(`--cluster-cert: the certificate in '${files.cert}' expired on ${new Date(leaf!.validTo).toISOString()}`);
    tls.cert = certPem;
    tls.key = keyPem;
  }
  const ipHosts = serverHosts(url).filter((h) => isIP(h) !== 0);
  tls.checkServerIdentity = (host, cert) => {
    const err = checkServerIdentity(host, cert);
    // nats.js gives Node no server name for a server written as an IP address (RFC 6066 forbids one), and Node then
    // checks the certificate against "localhost" (found by the TLS test: a certificate for 127.0.0.1, signed by the
    // given CA, was refused). Only then, and only for the addresses of the URL, the check is made against them.
    if (err === undefined || host !== 'localhost') return err;
    return ipHosts.some((ip) => checkServerIdentity(ip, cert) === undefined) ? undefined : err;
  };
  const described = { ca: files.ca, cert: files.cert, key: files.key === undefined ? undefined : '(not shown)' };
  tls.toJSON = () => described;
  return tls as NatsTls;
}

/** The host names and addresses of the servers of a cluster URL (nats://user:pass@host:port,tls://host2…). */
function serverHosts(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const hostPort = s
        .replace(/^[a-z]+:\/\//i, '')
        .replace(/^[^@/]*@/, '')
        .replace(/\/.*$/, '');
      const bracketed = /^\[([^\]]+)\]/.exec(hostPort);
      if (bracketed) return bracketed[1]!;
      return hostPort.split(':').length > 2 ? hostPort : hostPort.replace(/:\d+$/, '');
    });
}

/**
 * A clearer reason for a failed first connect over TLS: what the operator should check. The client's own message
 * stays in it.
 */
export function explainNatsTlsFailure(err: unknown, tls: NatsTls | undefined): string | undefined {
  if (tls === undefined) return undefined;
  const e = err as { code?: string; message?: string };
  const code = String(e.code ?? '');
  const message = String(e.message ?? '');
  if (/CERT|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SELF_SIGNED/.test(code) || /certificate|altnames/i.test(message))
    return tls.ca === undefined
      ? "the NATS server's certificate is not trusted: give the CA that signed it with --cluster-ca (TAGWAY_CLUSTER_CA)"
      : "the NATS server's certificate was refused: is it signed by the CA in --cluster-ca, and valid for the host of --cluster-url?";
  if (code === 'SERVER_OPT_NA' || message === 'tls')
    return 'this node requires TLS (a tls:// URL or --cluster-ca/--cluster-cert) but the NATS server does not offer it';
  // A server that verifies client certificates refuses one after the handshake (TLS 1.3), which nats.js reports as a
  // time-out of the connect rather than as the server's refusal (seen in the mutual-TLS test).
  if (code === 'TIMEOUT')
    return tls.cert === undefined
      ? 'no answer after the TLS handshake: a NATS server that verifies client certificates (mutual TLS) closes the connection of a node without one; give --cluster-cert and --cluster-key'
      : 'no answer after the TLS handshake: does the NATS server trust the CA that signed --cluster-cert (its --tlscacert)?';
  return undefined;
}
