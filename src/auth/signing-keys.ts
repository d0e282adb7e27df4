import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../domain/clock.js';
import type { SigningKeyRepository } from '../storage/signing-key-repository.js';

/**
 * Signing keys for the JWT access tokens of the client-credentials grant.
 *
 * Algorithm: EdDSA (Ed25519): small keys, deterministic signatures, no nonce to get wrong.
 * Storage: in the signing-key repository, private half encrypted with AES-256-GCM under a key-encryption key (KEK) that does *not*
 * live in the database: it comes from `TAGWAY_SECRET_KEY` (base64, 32 bytes) or from `<dataDir>/secret.key`,
 * created on first start with mode 0600. A copied database or backup alone therefore cannot mint tokens.
 * The key id is bound into the ciphertext (GCM additional data), so swapping encrypted blobs between rows fails.
 *
 * Rotation without downtime: `rotate()` makes a new key active for signing at once; the previous key stays in
 * the JWKS, and keeps verifying, until every token it signed has expired (retiredAt + token lifetime + clock
 * tolerance); `prune()` then deletes it.
 */
export const JWT_ALG = 'EdDSA';

export interface SigningKey {
  kid: string;
  alg: typeof JWT_ALG;
  createdAt: number;
  retiredAt: number | null;
  publicJwk: JWK;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface SigningKeyOptions {
  clock: Clock;
  /** 32 bytes; see `loadOrCreateKek`. */
  kek: Buffer;
  /** Longest lifetime of a token signed by any key; a retired key is published this long (plus tolerance). */
  tokenLifetimeMs: number;
  clockToleranceMs?: number;
}

/** Loads the KEK from the environment or the data directory, creating the file (0600) on first start. */
export function loadOrCreateKek(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.TAGWAY_SECRET_KEY;
  if (fromEnv) {
    const k = Buffer.from(fromEnv, 'base64');
    if (k.length !== 32) throw new Error('TAGWAY_SECRET_KEY must be 32 bytes, base64-encoded');
    return k;
  }
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'secret.key');
  try {
    // 'wx' fails when the file exists, so two processes starting together cannot each write a different key.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32).toString('base64') + '\n');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const k = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (k.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return k;
}

function encrypt(kek: Buffer, kid: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(kid));
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return 'v1.' + Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url');
}

function decrypt(kek: Buffer, kid: string, blob: string): string {
  if (!blob.startsWith('v1.')) throw new Error(`signing key ${kid}: unknown encryption format`);
  const raw = Buffer.from(blob.slice(3), 'base64url');
  const d = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
  d.setAAD(Buffer.from(kid));
  d.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    throw new Error(`signing key ${kid}: cannot decrypt (wrong TAGWAY_SECRET_KEY / secret.key?)`);
  }
}

export class SigningKeys {
  private keys: SigningKey[] = [];
  private readonly tolerance: number;

  private constructor(
    private readonly store: SigningKeyRepository,
    private readonly opts: SigningKeyOptions,
  ) {
    this.tolerance = opts.clockToleranceMs ?? 5_000;
  }

  static async open(store: SigningKeyRepository, opts: SigningKeyOptions): Promise<SigningKeys> {
    if (opts.kek.length !== 32) throw new Error('KEK must be 32 bytes');
    const s = new SigningKeys(store, opts);
    await s.reload();
    if (!s.keys.some((k) => k.retiredAt === null)) await s.rotate();
    return s;
  }

  /** Re-reads the table (another process sharing the database may have rotated). */
  async reload(): Promise<void> {
    const rows = await this.store.list();
    const out: SigningKey[] = [];
    for (const r of rows) {
      const publicJwk = JSON.parse(r.publicJwk) as JWK;
      const privateJwk = JSON.parse(decrypt(this.opts.kek, r.kid, r.privateEnc)) as JWK;
      out.push({
        kid: r.kid,
        alg: JWT_ALG,
        createdAt: r.createdAt,
        retiredAt: r.retiredAt,
        publicJwk,
        privateKey: (await importJWK(privateJwk, JWT_ALG)) as CryptoKey,
        publicKey: (await importJWK(publicJwk, JWT_ALG)) as CryptoKey,
      });
    }
    this.keys = out;
  }

  /** The key that signs new tokens: the newest one not retired. */
  active(): SigningKey {
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i]!.retiredAt === null) return this.keys[i]!;
    throw new Error('no active signing key');
  }

  /** A new key signs from now on; the old one stays published until its tokens have expired. */
  async rotate(): Promise<SigningKey> {
    const now = this.opts.clock.now();
    const { publicKey, privateKey } = await generateKeyPair(JWT_ALG, { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const kid = randomBytes(12).toString('base64url');
    const pub = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x };
    await this.store.rotate({
      kid,
      alg: JWT_ALG,
      publicJwk: JSON.stringify(pub),
      privateEnc: encrypt(this.opts.kek, kid, JSON.stringify(privateJwk)),
      createdAt: now,
    });
    await this.reload();
    return this.active();
  }

  private published(k: SigningKey, now: number): boolean {
    return k.retiredAt === null || k.retiredAt + this.opts.tokenLifetimeMs + this.tolerance > now;
  }

  /** Key for verifying a token with this kid, or undefined (unknown, or retired long enough ago). */
  verificationKey(kid: string): SigningKey | undefined {
    const now = this.opts.clock.now();
    return this.keys.find((k) => k.kid === kid && this.published(k, now));
  }

  /** The public JWK Set for /.well-known/jwks.json. */
  jwks(): { keys: JWK[] } {
    const now = this.opts.clock.now();
    return { keys: this.keys.filter((k) => this.published(k, now)).map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  }

  /** Deletes keys no token can still need. Returns how many. */
  async prune(): Promise<number> {
    const cutoff = this.opts.clock.now() - this.opts.tokenLifetimeMs - this.tolerance;
    const n = await this.store.deleteRetired(cutoff);
    if (n > 0) this.keys = this.keys.filter((k) => k.retiredAt === null || k.retiredAt > cutoff);
    return n;
  }
}
