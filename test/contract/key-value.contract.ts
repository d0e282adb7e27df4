import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyValueRepository } from '../../src/storage/key-value-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

export function describeKeyValueRepositoryContract(name: string, factory: FixtureFactory<KeyValueRepository>): void {
  describe(`KeyValueRepository contract: ${name}`, () => {
    let f: Fixture<KeyValueRepository>;
    let kv: KeyValueRepository;
    beforeEach(async () => {
      f = await factory();
      kv = f.repo;
    });
    afterEach(() => f.close());

    it('answers undefined for an unknown key and an empty list for an unknown namespace', async () => {
      expect(await kv.get('ns', 'nope')).toBeUndefined();
      expect(await kv.list('ns')).toEqual([]);
    });

    it('stores JSON values of every kind and replaces them with their new time', async () => {
      const values: unknown[] = ['text', 42.5, -7, true, null, { a: [1, { b: 'c' }] }, [], 'x'.repeat(10_000)];
      for (const [i, v] of values.entries()) await kv.set('ns', `k${i}`, v, 1000 + i);
      for (const [i, v] of values.entries()) expect(await kv.get('ns', `k${i}`)).toEqual({ key: `k${i}`, value: v, updatedAt: 1000 + i });
      await kv.set('ns', 'k0', 'again', 5000);
      expect(await kv.get('ns', 'k0')).toEqual({ key: 'k0', value: 'again', updatedAt: 5000 });
    });

    it('refuses a value without a JSON form', async () => {
      await expect(kv.set('ns', 'k', undefined, 1)).rejects.toThrow();
      expect(await kv.get('ns', 'k')).toBeUndefined();
    });

    it('lists a namespace ordered by key; namespaces never see each other', async () => {
      await kv.set('a', 'z', 1, 1);
      await kv.set('a', 'b', 2, 2);
      await kv.set('b', 'b', 3, 3);
      expect((await kv.list('a')).map((e) => [e.key, e.value])).toEqual([
        ['b', 2],
        ['z', 1],
      ]);
      expect((await kv.list('b')).map((e) => e.key)).toEqual(['b']);
      expect(await kv.get('b', 'z')).toBeUndefined();
    });

    it('writes many entries atomically: all or none', async () => {
      await kv.setMany('ns', [
        { key: 'x', value: 1, at: 10 },
        { key: 'y', value: 'two', at: 10 },
      ]);
      expect((await kv.list('ns')).map((e) => e.value)).toEqual([1, 'two']);
      await expect(
        kv.setMany('ns', [
          { key: 'x', value: 100, at: 20 },
          { key: 'z', value: undefined, at: 20 },
        ]),
      ).rejects.toThrow();
      expect((await kv.list('ns')).map((e) => [e.key, e.value])).toEqual([
        ['x', 1],
        ['y', 'two'],
      ]);
      await kv.setMany('ns', []);
    });

    it('writes a large batch in order: a key written twice keeps its later value', async () => {
      const entries = Array.from({ length: 150 }, (_, i) => ({ key: `k${i % 100}`, value: i, at: 1000 + i }));
      await kv.setMany('ns', entries);
      const list = await kv.list('ns');
      expect(list).toHaveLength(100);
      expect(list.find((e) => e.key === 'k7')).toEqual({ key: 'k7', value: 107, updatedAt: 1107 });
      expect(list.find((e) => e.key === 'k60')).toEqual({ key: 'k60', value: 60, updatedAt: 1060 });
    });

    it('deletes, saying whether the key existed', async () => {
      await kv.set('ns', 'k', 1, 1);
      expect(await kv.delete('ns', 'k')).toBe(true);
      expect(await kv.delete('ns', 'k')).toBe(false);
      expect(await kv.get('ns', 'k')).toBeUndefined();
    });

    it('keeps values across a reopen', async () => {
      if (!f.reopen) return;
      await kv.set('ns', 'k', { v: 1 }, 7);
      kv = await f.reopen();
      expect(await kv.get('ns', 'k')).toEqual({ key: 'k', value: { v: 1 }, updatedAt: 7 });
    });
  });
}
