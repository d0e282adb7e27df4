import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClients } from '../../../src/auth/api-clients.js';
import { JwtError, JwtService } from '../../../src/auth/jwt.js';
import { loadOrCreateKek, SigningKeys } from '../../../src/auth/signing-keys.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { SqliteApiClientRepository } from '../../../src/storage/sqlite/sqlite-api-client-repository.js';
import { SqliteSigningKeyRepository } from '../../../src/storage/sqlite/sqlite-signing-key-repository.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('JWT access tokens', () => {
  let dir: string;
  let db: Database;
  let clock: ManualClock;
  let keys: SigningKeys;
  let jwt: JwtService;
  let kek: Buffer;
  const LIFETIME = 15 * 60_000;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-jwt-'));
    db = openDatabase(join(dir, 'tagway.db'));
    clock = new ManualClock(Date.now());
    kek = loadOrCreateKek(dir, {});
    keys = await SigningKeys.open(new SqliteSigningKeyRepository(db), { clock, kek, tokenLifetimeMs: LIFETIME });
    jwt = new JwtService(keys, clock, { issuer: 'https://tagway.test', lifetimeMs: LIFETIME });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reason(token: string): Promise<string> {
    try {
      await jwt.verify(token);
      return 'accepted';
    } catch (e) {
      return e instanceof JwtError ? e.reason : `other: ${String(e)}`;
    }
  }

  it('issues a token that verifies, with kid and typ at+jwt', async () => {
    const { token, expiresIn } = await jwt.issue({ clientId: 'plc-gw', groups: ['operators'] });
    expect(expiresIn).toBe(900);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, string>;
    expect(header).toEqual({ alg: 'EdDSA', kid: keys.active().kid, typ: 'at+jwt' });
    expect(await jwt.verify(token)).toMatchObject({ sub: 'plc-gw', clientId: 'plc-gw', groups: ['operators'] });
    expect(JwtService.looksLikeJwt(token)).toBe(true);
  });

  it('refuses forged tokens: wrong key, alg none, HS256 with the public key, tampered payload, expired, wrong audience or issuer', async () => {
    const { token } = await jwt.issue({ clientId: 'c', groups: ['operators'] });
    const [h, p] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const kid = keys.active().kid;

    const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' }).sign(foreign.privateKey);
    expect(await reason(wrongKey)).toBe('signature');

    const algNone = `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${p}.`;
    expect(await reason(algNone)).not.toBe('accepted');

    // The classic confusion attack: HMAC keyed with the (public) verification key.
    const pub = keys.jwks().keys[0]!;
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
      .sign(new Uint8Array(Buffer.from(pub.x!, 'base64url')));
    expect(await reason(hs)).toBe('algorithm');

    const escalated = `${h}.${b64({ ...claims, groups: ['admins'] })}.${token.split('.')[2]!}`;
    expect(await reason(escalated)).toBe('signature');

    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'nope', typ: 'at+jwt' }).sign(foreign.privateKey);
    expect(await reason(unknownKid)).toBe('key');

    const wrongAud = await new SignJWT({ ...claims, aud: 'someone-else' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(keys.active().privateKey);
    expect(await reason(wrongAud)).toBe('claims');
    const wrongIss = await new SignJWT({ ...claims, iss: 'https://evil' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(keys.active().privateKey);
    expect(await reason(wrongIss)).toBe('claims');
    const idToken = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' }).sign(keys.active().privateKey);
    expect(await reason(idToken)).toBe('claims');
    expect(await reason('not.a.jwt')).toBe('malformed');

    expect(await reason(token)).toBe('accepted');
    clock.advance(LIFETIME + 4_000); // within the 5 s tolerance
    expect(await reason(token)).toBe('accepted');
    clock.advance(2_000);
    expect(await reason(token)).toBe('expired');
  });

  it('rotates without downtime: old tokens verify until they expire, the JWKS holds both keys meanwhile', async () => {
    const old = await jwt.issue({ clientId: 'c', groups: [] });
    const oldKid = keys.active().kid;
    clock.advance(60_000);
    await keys.rotate();
    expect(keys.active().kid).not.toBe(oldKid);
    const fresh = await jwt.issue({ clientId: 'c', groups: [] });
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([oldKid, keys.active().kid]);
    expect(await reason(old.token)).toBe('accepted');
    expect(await reason(fresh.token)).toBe('accepted');
    clock.advance(LIFETIME + 5_000);
    expect(await keys.prune()).toBe(1);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([keys.active().kid]);
    expect(await reason(old.token)).not.toBe('accepted');
    expect(await reason((await jwt.issue({ clientId: 'c', groups: [] })).token)).toBe('accepted');
  });

  it('persists keys encrypted under a 0600 key file; a wrong key-encryption key cannot load them', async () => {
    const { token } = await jwt.issue({ clientId: 'c', groups: [] });
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    const row = db.prepare('SELECT * FROM signing_keys').get() as { private_enc: string; public_jwk: string };
    expect(row.private_enc.startsWith('v1.')).toBe(true);
    expect(row.public_jwk).not.toContain('"d"');
    expect(loadOrCreateKek(dir, {}).equals(kek)).toBe(true);
    // Restart: same keys, the token still verifies.
    const keys2 = await SigningKeys.open(new SqliteSigningKeyRepository(db), {
      clock,
      kek: loadOrCreateKek(dir, {}),
      tokenLifetimeMs: LIFETIME,
    });
    expect(await new JwtService(keys2, clock, { issuer: 'https://tagway.test' }).verify(token)).toMatchObject({ sub: 'c' });
    await expect(
      SigningKeys.open(new SqliteSigningKeyRepository(db), { clock, kek: Buffer.alloc(32, 7), tokenLifetimeMs: LIFETIME }),
    ).rejects.toThrow(/cannot decrypt/);
    expect(loadOrCreateKek(dir, { TAGWAY_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') })).toEqual(Buffer.alloc(32, 1));
    expect(readFileSync(join(dir, 'secret.key'), 'utf8').trim()).toBe(kek.toString('base64'));
  });
});

describe('API clients', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-clients-'));
    db = openDatabase(join(dir, 'tagway.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a client whose secret is shown once and stored only hashed; authenticates; deletes', async () => {
    const clock = new ManualClock();
    const clients = new ApiClients(new SqliteApiClientRepository(db), clock);
    await clients.load();
    const { client, clientSecret } = await clients.create({ name: 'historian', groups: ['viewers'], createdBy: 'admin' });
    expect(clientSecret.length).toBeGreaterThanOrEqual(43);
    const stored = JSON.stringify(db.prepare('SELECT * FROM api_clients').all());
    expect(stored).not.toContain(clientSecret);
    expect(stored).toContain('$argon2id$');
    expect(JSON.stringify(clients.list())).not.toContain('argon2');
    expect(await clients.authenticate(client.clientId, clientSecret)).toMatchObject({ name: 'historian', groups: ['viewers'] });
    expect(await clients.authenticate(client.clientId, clientSecret + 'x')).toBeNull();
    expect(await clients.authenticate('unknown', clientSecret)).toBeNull();

    // Survives a restart.
    const again = new ApiClients(new SqliteApiClientRepository(db), clock);
    await again.load();
    expect(again.get(client.clientId)).toMatchObject({ source: 'admin', createdBy: 'admin' });
    await again.delete(client.clientId);
    expect(again.get(client.clientId)).toBeUndefined();
    expect(await again.authenticate(client.clientId, clientSecret)).toBeNull();
    await expect(again.delete(client.clientId)).rejects.toThrow(/No client/);
  });

  it('serves project-file clients, which cannot be deleted through the API', async () => {
    const { hash } = await import('@node-rs/argon2');
    const clients = new ApiClients(new SqliteApiClientRepository(db), new ManualClock(), [
      { clientId: 'scada-bridge', secretHash: await hash('bridge-secret-123'), groups: ['operators'] },
    ]);
    expect(await clients.authenticate('scada-bridge', 'bridge-secret-123')).toMatchObject({ source: 'project', groups: ['operators'] });
    await expect(clients.delete('scada-bridge')).rejects.toThrow(/project file/);
  });
});
