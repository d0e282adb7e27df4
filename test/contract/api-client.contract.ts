import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClientRecord, ApiClientRepository } from '../../src/storage/api-client-repository.js';
import { DuplicateKeyError } from '../../src/storage/errors.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const client = (clientId: string, name: string, over: Partial<ApiClientRecord> = {}): ApiClientRecord => ({
  clientId,
  name,
  secretHash: '$argon2id$v=19$m=1,t=1,p=1$abc$def',
  groups: ['viewers'],
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'admin',
  ...over,
});

export function describeApiClientRepositoryContract(name: string, factory: FixtureFactory<ApiClientRepository>): void {
  describe(`ApiClientRepository contract: ${name}`, () => {
    let f: Fixture<ApiClientRepository>;
    let clients: ApiClientRepository;
    beforeEach(async () => {
      f = await factory();
      clients = f.repo;
    });
    afterEach(() => f.close());

    it('inserts and gets; unknown is undefined; a taken id is a DuplicateKeyError', async () => {
      expect(await clients.get('tgw-1')).toBeUndefined();
      await clients.insert(client('tgw-1', 'historian', { createdBy: null, groups: ['a', 'b'] }));
      expect(await clients.get('tgw-1')).toEqual(client('tgw-1', 'historian', { createdBy: null, groups: ['a', 'b'] }));
      const err = await clients.insert(client('tgw-1', 'other')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect((await clients.get('tgw-1'))!.name).toBe('historian');
    });

    it('lists ordered by name, then id', async () => {
      await clients.insert(client('c3', 'b'));
      await clients.insert(client('c2', 'a'));
      await clients.insert(client('c1', 'b'));
      expect((await clients.list()).map((c) => c.clientId)).toEqual(['c2', 'c1', 'c3']);
    });

    it('deletes, saying whether the client existed', async () => {
      await clients.insert(client('c1', 'x'));
      expect(await clients.delete('c1')).toBe(true);
      expect(await clients.delete('c1')).toBe(false);
      expect(await clients.list()).toEqual([]);
    });
  });
}
