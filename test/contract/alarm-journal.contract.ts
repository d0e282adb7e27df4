import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmEventType, AlarmState } from '../../src/domain/alarms/state-machine.js';
import type { AlarmJournalRepository, AlarmSettingsRepository, NewAlarmEvent } from '../../src/storage/alarm-journal-repository.js';
import type { Fixture, FixtureFactory } from './fixture.js';

const T0 = Date.UTC(2026, 10, 1);

function ev(over: Partial<NewAlarmEvent> & { id: number; event: AlarmEventType; at: number }): NewAlarmEvent {
  const state: AlarmState =
    over.event === 'RAISED' ? 'RAISED' : over.event === 'CLEARED' ? 'RAISED_CLEARED' : 'RAISED_CLEARED_ACKNOWLEDGED';
  return {
    alarm: 'Tank1.High',
    number: 1,
    class: 'Alarm',
    priority: 10,
    state,
    text: 'Tank 1 high',
    tag: 'Tank1.Level',
    value: 91.5,
    user: null,
    stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT',
    closes: over.event === 'ACKNOWLEDGED',
    ...over,
  };
}

export function describeAlarmJournalRepositoryContract(name: string, factory: FixtureFactory<AlarmJournalRepository>): void {
  describe(`AlarmJournalRepository contract: ${name}`, () => {
    let f: Fixture<AlarmJournalRepository>;
    let j: AlarmJournalRepository;
    beforeEach(async () => {
      f = await factory();
      j = f.repo;
    });
    afterEach(() => f.close());

    /** n occurrences of alarm `Line1.A<i mod 5>`, each raised, cleared and acknowledged (closed), 1 s apart. */
    async function fill(n: number): Promise<void> {
      const events: NewAlarmEvent[] = [];
      for (let i = 0; i < n; i++) {
        const common = { id: j.nextOccurrenceId(), alarm: `Line1.A${i % 5}`, class: i % 2 ? 'Alarm' : 'Warning', priority: i % 17 };
        events.push(ev({ ...common, event: 'RAISED', at: T0 + i * 3000, text: `Alarm ${i} 50%_high` }));
        events.push(ev({ ...common, event: 'CLEARED', at: T0 + i * 3000 + 1000 }));
        events.push(ev({ ...common, event: 'ACKNOWLEDGED', at: T0 + i * 3000 + 2000, user: 'op' }));
      }
      await j.append(events);
    }

    it('records nothing under a fence it cannot check (fencing: the cluster leases are elsewhere)', async () => {
      // Fenced appends against real leases: test/integration/cluster/fencing.test.ts (PostgreSQL).
      if (j.fencing) return;
      const fence = { holder: 'node-a', leases: [{ connection: 'plc1', token: 1 }] };
      await expect(j.append([ev({ id: j.nextOccurrenceId(), event: 'RAISED', at: T0 })], fence)).rejects.toThrow(/fence/);
      expect(await j.count()).toBe(0);
    });

    it('is empty at first', async () => {
      expect(await j.count()).toBe(0);
      expect(await j.lastEventId()).toBe(0);
      expect(await j.loadOpen()).toEqual([]);
      expect(await j.since(0)).toEqual([]);
      expect(await j.query()).toEqual({ items: [], next: null });
      expect(await j.eventsOf(1)).toEqual([]);
      expect(await j.append([])).toEqual([]);
    });

    it('hands out occurrence ids that increase', () => {
      const a = j.nextOccurrenceId();
      const b = j.nextOccurrenceId();
      expect(b).toBeGreaterThan(a);
      expect(a).toBeGreaterThan(0);
    });

    it('appends in order with increasing event ids and ISO times; time never goes backwards', async () => {
      const id = j.nextOccurrenceId();
      const out = await j.append([ev({ id, event: 'RAISED', at: T0 + 5000 }), ev({ id, event: 'CLEARED', at: T0 + 1000 })]);
      expect(out.map((e) => e.event)).toEqual(['RAISED', 'CLEARED']);
      expect(out[1]!.eventId).toBeGreaterThan(out[0]!.eventId);
      expect(out[0]).toMatchObject({ id, alarm: 'Tank1.High', at: new Date(T0 + 5000).toISOString(), value: 91.5, tag: 'Tank1.Level' });
      // Stamped before the newest event (a clock stepped back): recorded at the newest time.
      expect(out[1]!.at).toBe(new Date(T0 + 5000).toISOString());
      expect(await j.eventsOf(id)).toEqual(out);
      expect(await j.lastEventId()).toBe(out[1]!.eventId);
      expect(await j.count()).toBe(2);
    });

    it('keeps open occurrences with all their events for the rebuild; a closing event removes one', async () => {
      const a = j.nextOccurrenceId();
      const b = j.nextOccurrenceId();
      await j.append([ev({ id: a, event: 'RAISED', at: T0 }), ev({ id: b, event: 'RAISED', at: T0 + 1, alarm: 'Other', value: null })]);
      await j.append([ev({ id: a, event: 'CLEARED', at: T0 + 2 })]);
      const open = await j.loadOpen();
      expect(open.map((o) => [o.id, o.alarm, o.stateMachine, o.events.map((e) => e.event)])).toEqual([
        [a, 'Tank1.High', 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', ['RAISED', 'CLEARED']],
        [b, 'Other', 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', ['RAISED']],
      ]);
      expect(open[1]!.events[0]!.value).toBeNull();
      await j.append([ev({ id: a, event: 'ACKNOWLEDGED', at: T0 + 3, user: 'op' })]);
      expect((await j.loadOpen()).map((o) => o.id)).toEqual([b]);
      expect((await j.eventsOf(a)).at(-1)).toMatchObject({ event: 'ACKNOWLEDGED', user: 'op' });
    });

    it('replays events after an id, ascending, at most `limit`', async () => {
      await fill(4);
      const all = await j.since(0, 100);
      expect(all).toHaveLength(12);
      expect(await j.since(all[2]!.eventId, 3)).toEqual(all.slice(3, 6));
      expect(await j.since(all[11]!.eventId)).toEqual([]);
    });

    it('pages the archive newest first by default, oldest first on request, stable while events arrive', async () => {
      await fill(10);
      const first = await j.query({ limit: 4 });
      expect(first.items.map((e) => e.eventId)).toEqual([30, 29, 28, 27].map((k) => first.items[0]!.eventId - 30 + k));
      await fill(2);
      const seen = [...first.items];
      let page = first;
      while (page.next) {
        page = await j.query({ limit: 4, cursor: page.next });
        seen.push(...page.items);
      }
      expect(seen).toHaveLength(30);
      const ids = seen.map((e) => e.eventId);
      expect(ids).toEqual([...ids].sort((x, y) => y - x));
      const asc = await j.query({ order: 'asc', limit: 1000 });
      expect(asc.items).toHaveLength(36);
      expect(asc.next).toBeNull();
      expect(asc.items[0]!.eventId).toBeLessThan(asc.items[1]!.eventId);
    });

    it('filters by time, alarm (name or glob), tag, class, priority, event and text (a plain substring)', async () => {
      await fill(10);
      const q = async (x: Parameters<AlarmJournalRepository['query']>[0]) => (await j.query({ limit: 1000, order: 'asc', ...x })).items;
      expect((await q({ from: T0 + 3000, to: T0 + 9000 })).map((e) => e.at)).toEqual(
        [3000, 4000, 5000, 6000, 7000, 8000].map((d) => new Date(T0 + d).toISOString()),
      );
      expect((await q({ alarm: 'Line1.A1' })).every((e) => e.alarm === 'Line1.A1')).toBe(true);
      expect(await q({ alarm: 'Line1.A1' })).toHaveLength(6);
      expect(await q({ alarm: 'Line1.*' })).toHaveLength(30);
      expect(await q({ alarm: 'Nothing.*' })).toEqual([]);
      expect(await q({ tag: 'Tank1.Level' })).toHaveLength(30);
      expect(await q({ tag: 'Other' })).toEqual([]);
      expect((await q({ class: 'Alarm' })).every((e) => e.class === 'Alarm')).toBe(true);
      expect((await q({ minPriority: 5, maxPriority: 6 })).map((e) => e.priority)).toEqual([5, 5, 5, 6, 6, 6]);
      expect((await q({ event: 'ACKNOWLEDGED' })).every((e) => e.event === 'ACKNOWLEDGED')).toBe(true);
      expect(await q({ event: ['RAISED', 'CLEARED'] })).toHaveLength(20);
      expect((await q({ text: 'alarm 3 50%_HIGH' })).map((e) => e.event)).toEqual(['RAISED']);
      expect(await q({ text: 'alarm 3 50%%' })).toEqual([]);
    });

    it('refuses a cursor that is not one, or one made for the other order, with VALIDATION_FAILED', async () => {
      await fill(3);
      const page = await j.query({ limit: 2, order: 'asc' });
      await expect(j.query({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(j.query({ cursor: page.next!, order: 'desc' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it('prunes old events in batches, never those of open occurrences', async () => {
      await fill(5);
      const open = j.nextOccurrenceId();
      await j.append([ev({ id: open, event: 'RAISED', at: T0 })]);
      const before = T0 + 100_000;
      expect(await j.pruneBatch(before, 4)).toBe(4);
      expect(await j.pruneBatch(before, 100)).toBe(11);
      expect(await j.pruneBatch(before, 100)).toBe(0);
      expect((await j.loadOpen()).map((o) => o.id)).toEqual([open]);
      expect(await j.count()).toBe(1);
      // Event ids are never reused, even after pruning.
      const next = await j.append([ev({ id: open, event: 'CLEARED', at: T0 + 200_000 })]);
      expect(next[0]!.eventId).toBe(17);
    });

    it('never reuses an occurrence id after a reopen', async () => {
      if (!f.reopen) return;
      const id = j.nextOccurrenceId();
      await j.append([ev({ id, event: 'RAISED', at: T0 })]);
      j = await f.reopen();
      expect(j.nextOccurrenceId()).toBeGreaterThan(id);
      expect((await j.loadOpen()).map((o) => o.id)).toEqual([id]);
    });
  });
}

export function describeAlarmSettingsRepositoryContract(name: string, factory: FixtureFactory<AlarmSettingsRepository>): void {
  describe(`AlarmSettingsRepository contract: ${name}`, () => {
    let f: Fixture<AlarmSettingsRepository>;
    beforeEach(async () => {
      f = await factory();
    });
    afterEach(() => f.close());

    it('saves, replaces and loads the overrides of each alarm', async () => {
      expect(await f.repo.load()).toEqual(new Map());
      await f.repo.save('A', { enabled: false, shelvedUntil: null });
      await f.repo.save('B', { enabled: true, shelvedUntil: 12345 });
      await f.repo.save('A', { enabled: true, shelvedUntil: 99 });
      expect(await f.repo.load()).toEqual(
        new Map([
          ['A', { enabled: true, shelvedUntil: 99 }],
          ['B', { enabled: true, shelvedUntil: 12345 }],
        ]),
      );
    });
  });
}
