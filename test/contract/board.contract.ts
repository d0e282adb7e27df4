import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BoardRecord, BoardRepository } from '../../src/storage/board-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const board = (id: string, over: Partial<BoardRecord> = {}): BoardRecord => ({
  id,
  owner: 'olga',
  name: `Board ${id}`,
  widgets: [{ id: 'w1', kind: 'value', tags: ['Line1.Speed'], options: { digits: 2 } }],
  sharedWith: [],
  createdAt: 1000,
  updatedAt: 2000,
  ...over,
});

export function describeBoardRepositoryContract(name: string, factory: FixtureFactory<BoardRepository>): void {
  describe(`BoardRepository contract: ${name}`, () => {
    let f: Fixture<BoardRepository>;
    let repo: BoardRepository;
    beforeEach(async () => {
      f = await factory();
      repo = f.repo;
    });
    afterEach(() => f.close());

    it('answers undefined for an unknown id and nothing visible for a new user', async () => {
      expect(await repo.get('nope')).toBeUndefined();
      expect(await repo.listVisible('olga', ['operators'])).toEqual([]);
      expect(await repo.countOwned('olga')).toBe(0);
      expect(await repo.delete('nope')).toBe(false);
    });

    it('saves, reads back exactly and survives a reopen', async () => {
      const b = board('a', { sharedWith: ['viewers', 'operators'] });
      await repo.save(b);
      expect(await repo.get('a')).toEqual({ ...b, sharedWith: ['operators', 'viewers'] });
      if (!f.reopen) return;
      repo = await f.reopen();
      expect(await repo.get('a')).toEqual({ ...b, sharedWith: ['operators', 'viewers'] });
    });

    it('replaces a board with the same id, shares included', async () => {
      await repo.save(board('a', { sharedWith: ['viewers'] }));
      await repo.save(board('a', { name: 'Renamed', sharedWith: ['operators'], widgets: [], updatedAt: 3000 }));
      expect(await repo.get('a')).toMatchObject({ name: 'Renamed', sharedWith: ['operators'], widgets: [], updatedAt: 3000 });
      expect(await repo.countOwned('olga')).toBe(1);
    });

    it('lists own boards and boards shared with any of the groups, by name then id', async () => {
      await repo.save(board('1', { name: 'Zeta' }));
      await repo.save(board('2', { name: 'Alpha', owner: 'admin', sharedWith: ['operators'] }));
      await repo.save(board('3', { name: 'Beta', owner: 'admin', sharedWith: ['viewers'] }));
      await repo.save(board('4', { name: 'Alpha', owner: 'admin' }));
      expect((await repo.listVisible('olga', ['operators'])).map((b) => b.id)).toEqual(['2', '1']);
      expect((await repo.listVisible('olga', [])).map((b) => b.id)).toEqual(['1']);
      expect((await repo.listVisible('admin', [])).map((b) => b.id)).toEqual(['2', '4', '3']);
      expect((await repo.listVisible('victor', ['viewers', 'operators'])).map((b) => b.id)).toEqual(['2', '3']);
      expect(await repo.countOwned('admin')).toBe(3);
    });

    it('deletes a board and its shares', async () => {
      await repo.save(board('a', { sharedWith: ['viewers'] }));
      expect(await repo.delete('a')).toBe(true);
      expect(await repo.get('a')).toBeUndefined();
      expect(await repo.listVisible('victor', ['viewers'])).toEqual([]);
    });
  });
}
