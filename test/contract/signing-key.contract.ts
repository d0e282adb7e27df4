import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateKeyError } from '../../src/storage/errors.js';
import type { SigningKeyRecord, SigningKeyRepository } from '../../src/storage/signing-key-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const key = (kid: string, createdAt: number): Omit<SigningKeyRecord, 'retiredAt'> => ({
  kid,
  alg: 'EdDSA',
  publicJwk: `{"kty":"OKP","x":"${kid}"}`,
  privateEnc: `v1.${kid}`,
  createdAt,
});

export function describeSigningKeyRepositoryContract(name: string, factory: FixtureFactory<SigningKeyRepository>): void {
  describe(`SigningKeyRepository contract: ${name}`, () => {
    let f: Fixture<SigningKeyRepository>;
    let keys: SigningKeyRepository;
    beforeEach(async () => {
      f = await factory();
      keys = f.repo;
    });
    afterEach(() => f.close());

    it('rotating retires every active key at the new key’s time; list is oldest first', async () => {
      expect(await keys.list()).toEqual([]);
      await keys.rotate(key('k1', 100));
      expect(await keys.list()).toEqual([{ ...key('k1', 100), retiredAt: null }]);
      await keys.rotate(key('k2', 200));
      await keys.rotate(key('k3', 300));
      expect((await keys.list()).map((k) => [k.kid, k.retiredAt])).toEqual([
        ['k1', 200],
        ['k2', 300],
        ['k3', null],
      ]);
    });

    it('orders keys created at the same time by kid', async () => {
      await keys.rotate(key('b', 100));
      await keys.rotate(key('a', 100));
      expect((await keys.list()).map((k) => k.kid)).toEqual(['a', 'b']);
    });

    it('a taken kid is a DuplicateKeyError and retires nothing', async () => {
      await keys.rotate(key('k1', 100));
      const err = await keys.rotate(key('k1', 200)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect((await keys.list()).map((k) => [k.kid, k.retiredAt])).toEqual([['k1', null]]);
    });

    it('deletes keys retired at or before the cut-off, never the active one', async () => {
      await keys.rotate(key('k1', 100));
      await keys.rotate(key('k2', 200));
      await keys.rotate(key('k3', 300));
      expect(await keys.deleteRetired(199)).toBe(0);
      expect(await keys.deleteRetired(200)).toBe(1);
      expect(await keys.deleteRetired(10_000)).toBe(1);
      expect((await keys.list()).map((k) => k.kid)).toEqual(['k3']);
    });
  });
}
