import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateKeyError } from '../../src/storage/errors.js';
import type { NewUser, UserRepository } from '../../src/storage/user-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const user = (username: string, over: Partial<NewUser> = {}): NewUser => ({
  username,
  displayName: username.toUpperCase(),
  passwordHash: `hash-${username}`,
  groups: ['viewers'],
  disabled: false,
  source: 'local',
  ...over,
});

export function describeUserRepositoryContract(name: string, factory: FixtureFactory<UserRepository>): void {
  describe(`UserRepository contract: ${name}`, () => {
    let f: Fixture<UserRepository>;
    let users: UserRepository;
    beforeEach(async () => {
      f = await factory();
      users = f.repo;
    });
    afterEach(() => f.close());

    it('answers undefined for an unknown user and an empty list', async () => {
      expect(await users.get('nobody')).toBeUndefined();
      expect(await users.list()).toEqual([]);
    });

    it('inserts with both times set; a taken name is a DuplicateKeyError and changes nothing', async () => {
      await users.insert(user('erin', { groups: ['operators', 'viewers'], disabled: true, source: 'project' }));
      const u = (await users.get('erin'))!;
      expect(u).toMatchObject({
        username: 'erin',
        displayName: 'ERIN',
        passwordHash: 'hash-erin',
        groups: ['operators', 'viewers'],
        disabled: true,
        source: 'project',
      });
      expect(Date.parse(u.createdAt)).not.toBeNaN();
      expect(u.updatedAt).toBe(u.createdAt);
      const err = await users.insert(user('erin', { displayName: 'other' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect(err).toMatchObject({ store: 'users', key: 'erin' });
      expect((await users.get('erin'))!.displayName).toBe('ERIN');
    });

    it('upserts: inserts a new user, then updates every field but createdAt', async () => {
      await users.upsert(user('dora'));
      const first = (await users.get('dora'))!;
      await new Promise((r) => setTimeout(r, 5));
      await users.upsert(user('dora', { displayName: 'Dora', passwordHash: 'new', groups: [], disabled: true, source: 'project' }));
      const second = (await users.get('dora'))!;
      expect(second).toMatchObject({ displayName: 'Dora', passwordHash: 'new', groups: [], disabled: true, source: 'project' });
      expect(second.createdAt).toBe(first.createdAt);
      expect(second.updatedAt > first.updatedAt).toBe(true);
    });

    it('lists ordered by username', async () => {
      for (const n of ['zoe', 'adam', 'mia']) await users.upsert(user(n));
      expect((await users.list()).map((u) => u.username)).toEqual(['adam', 'mia', 'zoe']);
    });

    it('deletes, saying whether the user existed', async () => {
      await users.upsert(user('x1'));
      expect(await users.delete('x1')).toBe(true);
      expect(await users.delete('x1')).toBe(false);
      expect(await users.get('x1')).toBeUndefined();
    });

    it('reports a stable external version while nobody else writes', async () => {
      const v = await users.externalVersion();
      expect(typeof v).toBe('number');
      expect(await users.externalVersion()).toBe(v);
    });

    it('keeps users across a reopen', async () => {
      if (!f.reopen) return;
      await users.upsert(user('kept'));
      users = await f.reopen();
      expect((await users.get('kept'))!.groups).toEqual(['viewers']);
    });
  });
}
