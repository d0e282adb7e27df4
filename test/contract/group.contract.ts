import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Group } from '../../src/domain/permissions.js';
import type { GroupRepository } from '../../src/storage/group-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const group = (name: string, over: Partial<Group> = {}): Group => ({
  name,
  description: `about ${name}`,
  permissions: [{ permission: 'tags:read', tags: 'Line1.*' }],
  ...over,
});

export function describeGroupRepositoryContract(name: string, factory: FixtureFactory<GroupRepository>): void {
  describe(`GroupRepository contract: ${name}`, () => {
    let f: Fixture<GroupRepository>;
    let groups: GroupRepository;
    beforeEach(async () => {
      f = await factory();
      groups = f.repo;
    });
    afterEach(() => f.close());

    it('answers undefined for an unknown group and an empty list', async () => {
      expect(await groups.get('none')).toBeUndefined();
      expect(await groups.list()).toEqual([]);
    });

    it('stores a group with its grants and lists ordered by name', async () => {
      await groups.upsert(group('shift-b'));
      await groups.upsert(group('shift-a', { description: undefined, permissions: [{ permission: 'alarms:read' }] }));
      expect(await groups.list()).toEqual([{ name: 'shift-a', permissions: [{ permission: 'alarms:read' }] }, group('shift-b')]);
      expect(await groups.get('shift-b')).toEqual(group('shift-b'));
    });

    it('replaces a group, including dropping its description', async () => {
      await groups.upsert(group('g'));
      await groups.upsert({ name: 'g', permissions: [] });
      expect(await groups.get('g')).toEqual({ name: 'g', permissions: [] });
      expect(await groups.list()).toHaveLength(1);
    });

    it('deletes, saying whether the group existed', async () => {
      await groups.upsert(group('g'));
      expect(await groups.delete('g')).toBe(true);
      expect(await groups.delete('g')).toBe(false);
      expect(await groups.list()).toEqual([]);
    });
  });
}
