import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';

/** Where the OPC UA server keeps its PKI (own certificate and key, trusted/rejected/issuers) in the data dir. */
export function serverPkiDir(dataDir: string): string {
  return join(dataDir, 'opcua', 'pki');
}

/** The PKI of X.509 user certificates: a user certificate must be trusted here to log in. */
export function userPkiDir(dataDir: string): string {
  return join(dataDir, 'opcua', 'user-pki');
}

/** A certificate manager on one PKI folder; unknown client certificates are rejected (and kept in `rejected/`). */
export function certificateManager(rootFolder: string): OPCUACertificateManager {
  mkdirSync(rootFolder, { recursive: true });
  return new OPCUACertificateManager({ rootFolder, automaticallyAcceptUnknownCertificate: false });
}

/** SHA-1 thumbprint of a DER certificate, hex without separators (as UaExpert and node-opcua show it). */
export function thumbprintOf(der: Buffer): string {
  return new X509Certificate(der).fingerprint.replaceAll(':', '').toLowerCase();
}

/** A certificate file (PEM or DER) as DER. */
export function readCertificate(file: string): Buffer {
  const raw = readFileSync(file);
  const text = raw.toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) return Buffer.from(new X509Certificate(raw).raw);
  return Buffer.from(new X509Certificate(raw).raw);
}

/** The certificates of one PKI sub-folder (`rejected`, `trusted/certs`), with their thumbprints. */
export function listCertificates(rootFolder: string, sub: string): Array<{ file: string; thumbprint: string; subject: string }> {
  const dir = join(rootFolder, sub);
  if (!existsSync(dir)) return [];
  const out: Array<{ file: string; thumbprint: string; subject: string }> = [];
  for (const f of readdirSync(dir)) {
    if (!/\.(pem|der|crt|cer)$/i.test(f)) continue;
    try {
      const der = readCertificate(join(dir, f));
      out.push({ file: join(dir, f), thumbprint: thumbprintOf(der), subject: new X509Certificate(der).subject.replaceAll('\n', ', ') });
    } catch {
      // not a certificate: not ours to judge here
    }
  }
  return out;
}

/**
 * Trusts or rejects a client certificate given as a file or by the thumbprint of one the server has seen (and
 * rejected). Returns the thumbprint acted on; throws Error with a message for the CLI when there is none.
 */
export async function setCertificateTrust(
  rootFolder: string,
  what: string,
  action: 'trust' | 'reject',
): Promise<{ thumbprint: string; subject: string }> {
  let der: Buffer;
  if (existsSync(what)) der = readCertificate(what);
  else {
    const wanted = what.replaceAll(':', '').toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(wanted)) throw new Error(`'${what}' is neither a certificate file nor a SHA-1 thumbprint (40 hex digits)`);
    const found = [...listCertificates(rootFolder, 'rejected'), ...listCertificates(rootFolder, join('trusted', 'certs'))].find(
      (c) => c.thumbprint === wanted,
    );
    if (!found)
      throw new Error(`No certificate with thumbprint ${wanted} in ${rootFolder} (rejected or trusted); pass the certificate file`);
    der = readCertificate(found.file);
  }
  const cm = certificateManager(rootFolder);
  try {
    await cm.initialize();
    if (action === 'trust') await cm.trustCertificate(der);
    else await cm.rejectCertificate(der);
  } finally {
    await cm.dispose();
  }
  return { thumbprint: thumbprintOf(der), subject: new X509Certificate(der).subject.replaceAll('\n', ', ') };
}
