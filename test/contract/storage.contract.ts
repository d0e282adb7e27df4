import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageClosedError } from '../../src/storage/errors.js';
import type { Storage } from '../../src/storage/open.js';

/** The whole storage: units of work across repositories, health and close. */
export function describeStorageContract(name: string, open: () => Promise<{ storage: Storage; dispose(): Promise<void> }>): void {
  describe(`Storage contract: ${name}`, () => {
    let storage: Storage;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ storage, dispose } = await open());
    });
    afterEach(() => dispose());

    const raised = (id: number) => ({
      id,
      alarm: 'Tank1.High',
      number: 1,
      class: 'Alarm',
      priority: 10,
      event: 'RAISED' as const,
      at: Date.UTC(2026, 0, 1),
      state: 'RAISED' as const,
      text: 'high',
      tag: 'Tank1.Level',
      value: 90,
      user: null,
      stateMachine: 'RAISE_CLEAR' as const,
      closes: false,
    });

    it('commits an alarm event and its outbox entry together', async () => {
      const out = await storage.transaction(async (tx) => {
        const [e] = await tx.alarmJournal.append([raised(tx.alarmJournal.nextOccurrenceId())]);
        const [id] = await tx.outbox.enqueue([{ topic: 'erp', payload: { eventId: e!.eventId } }], 1);
        return { eventId: e!.eventId, outboxId: id! };
      });
      expect(await storage.alarmJournal.count()).toBe(1);
      expect((await storage.outbox.get(out.outboxId))!.payload).toEqual({ eventId: out.eventId });
    });

    it('rolls back every repository when the unit of work throws, and rethrows', async () => {
      await storage.users.upsert({ username: 'kept', displayName: 'k', passwordHash: '', groups: [], disabled: false, source: 'local' });
      const boom = new Error('boom');
      await expect(
        storage.transaction(async (tx) => {
          await tx.alarmJournal.append([raised(tx.alarmJournal.nextOccurrenceId())]);
          await tx.outbox.enqueue([{ topic: 'erp', payload: 1 }], 1);
          await tx.users.delete('kept');
          await tx.keyValues.set('ns', 'k', 1, 1);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await storage.alarmJournal.count()).toBe(0);
      expect(await storage.outbox.list()).toEqual([]);
      expect(await storage.users.get('kept')).toBeDefined();
      expect(await storage.keyValues.get('ns', 'k')).toBeUndefined();
      // The store works normally afterwards, and ids handed out in the rolled-back unit are not reused.
      const [e] = await storage.alarmJournal.append([raised(storage.alarmJournal.nextOccurrenceId())]);
      expect(e!.id).toBeGreaterThan(1);
      expect(await storage.alarmJournal.count()).toBe(1);
    });

    it('rolls back when a repository refuses inside the unit of work (a duplicate key)', async () => {
      await storage.apiClients.insert({ clientId: 'c1', name: 'x', secretHash: 'h', groups: [], createdAt: 'now', createdBy: null });
      await expect(
        storage.transaction(async (tx) => {
          await tx.groups.upsert({ name: 'g', permissions: [] });
          await tx.apiClients.insert({ clientId: 'c1', name: 'dup', secretHash: 'h', groups: [], createdAt: 'now', createdBy: null });
        }),
      ).rejects.toMatchObject({ name: 'DuplicateKeyError' });
      expect(await storage.groups.list()).toEqual([]);
    });

    it('makes other callers wait until the unit of work ended, so they neither see nor join it', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const tx = storage.transaction(async (t) => {
        await t.keyValues.set('ns', 'k', 'inside', 1);
        await gate;
        throw new Error('undo');
      });
      const outsideWrite = storage.keyValues.set('ns', 'other', 'outside', 2);
      const outsideRead = storage.keyValues.get('ns', 'k');
      let settled = false;
      void outsideWrite.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(settled).toBe(false);
      release();
      await expect(tx).rejects.toThrow('undo');
      await outsideWrite;
      expect(await outsideRead).toBeUndefined();
      expect((await storage.keyValues.get('ns', 'other'))!.value).toBe('outside');
    });

    it('runs units of work one after the other', async () => {
      const order: string[] = [];
      const a = storage.transaction(async (tx) => {
        order.push('a1');
        await new Promise((r) => setTimeout(r, 10));
        await tx.keyValues.set('ns', 'a', 1, 1);
        order.push('a2');
      });
      const b = storage.transaction(async (tx) => {
        order.push('b1');
        await tx.keyValues.set('ns', 'b', 1, 1);
        order.push('b2');
        return 'b';
      });
      expect(await Promise.all([a, b])).toEqual([undefined, 'b']);
      expect(order).toEqual(['a1', 'a2', 'b1', 'b2']);
    });

    it('a unit with deferred sync (group commit) commits, tells onCommit once before it resolves, and is visible', async () => {
      const seen: string[] = [];
      const out = await storage.transaction(
        async (tx) => {
          await tx.keyValues.setMany('internal', [{ key: 'A', value: 1.5, at: 1 }]);
          const rows = await tx.audit.appendMany([
            {
              at: '2026-01-01T00:00:00.000Z',
              action: 'tag.write',
              user: 'u',
              clientAddress: null,
              target: 'A',
              details: null,
              result: 'OK',
            },
          ]);
          seen.push('fn');
          return rows[0]!.id;
        },
        { deferSync: true, onCommit: () => seen.push('commit') },
      );
      seen.push('resolved');
      expect(seen).toEqual(['fn', 'commit', 'resolved']);
      expect(out).toBe(1);
      expect(await storage.keyValues.get('internal', 'A')).toMatchObject({ value: 1.5 });
      expect(await storage.audit.count()).toBe(1);
    });

    it('a unit synced later commits and tells onCommit; the next deferred unit makes both durable', async () => {
      let committed = 0;
      await storage.transaction((tx) => tx.keyValues.set('internal', 'L', 1, 1), {
        deferSync: true,
        syncLater: true,
        onCommit: () => committed++,
      });
      expect(committed).toBe(1);
      await storage.transaction((tx) => tx.keyValues.set('internal', 'M', 2, 2), { deferSync: true });
      expect((await storage.keyValues.list('internal')).map((e) => e.key)).toEqual(['L', 'M']);
    });

    it('a failing unit with deferred sync rolls back and never tells onCommit', async () => {
      let committed = 0;
      const boom = new Error('boom');
      await expect(
        storage.transaction(
          async (tx) => {
            await tx.keyValues.set('internal', 'B', 1, 1);
            throw boom;
          },
          { deferSync: true, onCommit: () => committed++ },
        ),
      ).rejects.toBe(boom);
      expect(committed).toBe(0);
      expect(await storage.keyValues.get('internal', 'B')).toBeUndefined();
    });

    it('concurrent units with deferred sync all commit, in the order they were started', async () => {
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          storage.transaction((tx) => tx.keyValues.set('internal', 'C', i, i), { deferSync: true, onCommit: () => order.push(i) }),
        ),
      );
      expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(await storage.keyValues.get('internal', 'C')).toMatchObject({ value: 19 });
    });

    it('reports health with the free bytes of its file system', async () => {
      const h = await storage.health();
      expect(h.status).toBe('ok');
      expect(h.freeBytes).toBeGreaterThan(0);
    });

    it('closes once; closing again is harmless', async () => {
      await storage.close();
      await storage.close();
      expect((await storage.health()).status).toBe('degraded');
      await expect(storage.users.list()).rejects.toBeInstanceOf(StorageClosedError);
      await expect(storage.transaction(async () => 1)).rejects.toBeInstanceOf(StorageClosedError);
    });
  });
}
