import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { Clock } from '../domain/clock.js';
import { JWT_ALG, type SigningKeys } from './signing-keys.js';

/**
 * JWT access tokens (RFC 9068 profile: header `typ: at+jwt`) for the client-credentials grant.
 * Verification accepts exactly one algorithm (EdDSA) and only keys from our own key set by `kid`, so `alg: none`,
 * HS256-signed-with-the-public-key and foreign keys are all refused before any claim is looked at.
 */
export interface JwtSettings {
  issuer: string;
  audience: string;
  /** Default 15 min (api.md). */
  lifetimeMs: number;
  /** Small: clocks on one site agree within seconds. */
  clockToleranceSec: number;
  /** Verified tokens remembered, so a verification costs one map lookup instead of ~150 µs of Ed25519 work. */
  cacheEntries: number;
}

export const DEFAULT_JWT: Omit<JwtSettings, 'issuer'> = {
  audience: 'tagway',
  lifetimeMs: 15 * 60_000,
  clockToleranceSec: 5,
  cacheEntries: 10_000,
};

export interface AccessClaims {
  sub: string;
  clientId: string;
  groups: string[];
  exp: number;
  iat: number;
  jti: string;
}

export class JwtError extends Error {
  constructor(
    readonly reason: 'malformed' | 'algorithm' | 'key' | 'signature' | 'expired' | 'claims',
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

export class JwtService {
  readonly settings: JwtSettings;
  private readonly cache = new Map<string, { claims: AccessClaims; kid: string }>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    settings: Partial<JwtSettings> & { issuer: string },
  ) {
    this.settings = { ...DEFAULT_JWT, ...settings };
  }

  async issue(p: { clientId: string; groups: readonly string[] }): Promise<{ token: string; expiresIn: number; expiresAt: number }> {
    const key = this.keys.active();
    const nowSec = Math.floor(this.clock.now() / 1000);
    const expiresIn = Math.floor(this.settings.lifetimeMs / 1000);
    const token = await new SignJWT({ client_id: p.clientId, groups: [...p.groups] })
      .setProtectedHeader({ alg: JWT_ALG, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(p.clientId)
      .setIssuedAt(nowSec)
      .setNotBefore(nowSec)
      .setExpirationTime(nowSec + expiresIn)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(key.privateKey);
    return { token, expiresIn, expiresAt: (nowSec + expiresIn) * 1000 };
  }

  /** True when the string has the shape of a JWS compact token (a session token never does). */
  static looksLikeJwt(token: string): boolean {
    return token.length > 20 && token.startsWith('eyJ') && token.split('.').length === 3;
  }

  /** Verified claims, or throws JwtError. */
  async verify(token: string): Promise<AccessClaims> {
    const nowSec = this.clock.now() / 1000;
    const hit = this.cache.get(token);
    if (hit) {
      // Keys can be pruned and tokens expire; both are re-checked on every hit.
      if (hit.claims.exp + this.settings.clockToleranceSec > nowSec && this.keys.verificationKey(hit.kid) !== undefined) return hit.claims;
      this.cache.delete(token);
    }
    const { claims, kid } = await this.verifyUncached(token);
    if (this.cache.size >= this.settings.cacheEntries) {
      const first = this.cache.keys().next();
      if (!first.done) this.cache.delete(first.value);
    }
    this.cache.set(token, { claims, kid });
    return claims;
  }

  private async verifyUncached(token: string): Promise<{ claims: AccessClaims; kid: string }> {
    let payload: JWTPayload;
    let kid = '';
    try {
      ({ payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          if (header.alg !== JWT_ALG) throw new JwtError('algorithm', `algorithm ${String(header.alg)} not accepted`);
          const k = header.kid === undefined ? undefined : this.keys.verificationKey(header.kid);
          if (!k) throw new JwtError('key', 'unknown signing key');
          kid = k.kid;
          return k.publicKey;
        },
        {
          algorithms: [JWT_ALG],
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          typ: 'at+jwt',
          clockTolerance: this.settings.clockToleranceSec,
          currentDate: new Date(this.clock.now()),
          requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        },
      ));
    } catch (e) {
      if (e instanceof JwtError) throw e;
      if (e instanceof joseErrors.JWTExpired) throw new JwtError('expired', 'token expired');
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw new JwtError('claims', `claim ${e.claim} invalid`);
      if (e instanceof joseErrors.JOSEAlgNotAllowed) throw new JwtError('algorithm', 'algorithm not accepted');
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new JwtError('signature', 'signature invalid');
      throw new JwtError('malformed', 'token malformed');
    }
    const groups = payload.groups;
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || !Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      throw new JwtError('claims', 'claims client_id/groups missing');
    }
    return {
      claims: { sub: payload.sub!, clientId, groups: groups as string[], exp: payload.exp!, iat: payload.iat!, jti: payload.jti! },
      kid,
    };
  }

  /** Forget verified tokens, e.g. after a key was withdrawn in an emergency. */
  clearCache(): void {
    this.cache.clear();
  }
}
