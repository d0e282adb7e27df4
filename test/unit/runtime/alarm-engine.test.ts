import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AlarmClass, AlarmDefinition } from '../../../src/domain/alarms/definition.js';
import type { AlarmEventRecord } from '../../../src/domain/alarms/records.js';
import { Quality } from '../../../src/domain/quality.js';
import { AlarmEngine } from '../../../src/runtime/alarms/engine.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';
import {
  SqliteAlarmJournalRepository,
  SqliteAlarmSettingsRepository,
} from '../../../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';

const TAGS: TagDefinition[] = [
  { name: 'Tank1.Level', type: 'Float64', unit: '%', access: 'readwrite', connection: 'plc1' },
  { name: 'Pump1.Fault', type: 'Bool', access: 'readwrite', connection: 'plc1' },
  { name: 'Pump1.Status', type: 'UInt16', access: 'readwrite', connection: 'plc1' },
  { name: 'Valve.Open', type: 'Bool', access: 'readwrite', connection: 'plc2' },
];
const base = { priority: 8, text: '' };
const DEFS: AlarmDefinition[] = [
  {
    ...base,
    name: 'Tank1.High',
    number: 1,
    class: 'Alarm',
    tag: 'Tank1.Level',
    kind: 'analog',
    limit: { type: 'H', value: 80 },
    hysteresis: 2,
    text: 'Tank 1 high: {value} {unit} > {limit}',
  },
  {
    ...base,
    name: 'Tank1.Low',
    number: 2,
    class: 'Warning',
    tag: 'Tank1.Level',
    kind: 'analog',
    limit: { type: 'L', value: 10 },
    onDelayMs: 1000,
    offDelayMs: 500,
  },
  { ...base, name: 'Pump1.Fault', number: 3, class: 'Fault', tag: 'Pump1.Fault', kind: 'discrete', priority: 14 },
  { ...base, name: 'Pump1.Overload', number: 4, class: 'Alarm', tag: 'Pump1.Status', kind: 'discrete', bit: 2 },
  { ...base, name: 'Valve.Open', number: 5, class: 'Info', tag: 'Valve.Open', kind: 'discrete' },
];
const CLASSES: AlarmClass[] = [
  { name: 'Fault', stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET' },
  { name: 'Info', stateMachine: 'RAISE_CLEAR_OPTIONAL_ACKNOWLEDGMENT' },
];

let db: Database;
let clock: ManualClock;
let tags: TagEngine;
let engine: AlarmEngine;
let events: AlarmEventRecord[];

function boot(): void {
  tags = new TagEngine(TAGS, clock);
  const journal = new SqliteAlarmJournalRepository(db);
  const settings = new SqliteAlarmSettingsRepository(journal.journal);
  engine = new AlarmEngine({ tags, journal, settings, clock, definitions: DEFS, classes: CLASSES });
  events = [];
  engine.onEvent((e) => events.push(e));
}
const idx = (name: string): number => tags.require(name).index;
function set(name: string, value: boolean | number, quality: number = Quality.GOOD): void {
  tags.update(idx(name), value, quality);
}
const kinds = (): string[] => events.map((e) => `${e.alarm}:${e.event}`);

beforeEach(async () => {
  db = openDatabase(':memory:');
  clock = new ManualClock();
  boot();
  await engine.start();
});
afterEach(async () => {
  await engine.stop();
  db.close();
});

describe('AlarmEngine', () => {
  it('raises and clears an analog alarm with hysteresis and fills the text', async () => {
    set('Tank1.Level', 85);
    await new Promise((resolve) => setImmediate(resolve)); // the end-of-burst commit, without an explicit flush
    expect(kinds()).toEqual(['Tank1.High:RAISED']);
    const [cur] = await engine.current();
    expect(cur).toMatchObject({
      alarm: 'Tank1.High',
      state: 'RAISED',
      status: '+',
      active: true,
      text: 'Tank 1 high: 85 % > 80',
      value: 85,
      tag: 'Tank1.Level',
      class: 'Alarm',
    });
    set('Tank1.Level', 79);
    await engine.flush();
    expect(kinds()).toHaveLength(1);
    set('Tank1.Level', 77.5);
    await engine.flush();
    expect(kinds()).toEqual(['Tank1.High:RAISED', 'Tank1.High:CLEARED']);
    expect((await engine.current())[0]).toMatchObject({
      state: 'RAISED_CLEARED',
      status: '-',
      active: false,
      clearedAt: new Date(clock.now()).toISOString(),
    });
  });

  it('publishes only events that are already committed', async () => {
    const checks: Promise<boolean>[] = [];
    // Asked from inside the listener: the journal must already hold the event then.
    engine.onEvent((e) => checks.push(engine.archive.eventsOf(e.id).then((evs) => evs.some((x) => x.eventId === e.eventId))));
    set('Pump1.Fault', true);
    set('Pump1.Status', 4);
    await engine.flush();
    expect(await Promise.all(checks)).toEqual([true, true]);
    expect(await engine.eventsSince(events[0]!.eventId, 10)).toEqual([events[1]]);
  });

  it('commits a burst of changes in one transaction, in order', async () => {
    set('Pump1.Fault', true);
    set('Pump1.Status', 4);
    set('Pump1.Status', 0);
    expect(events).toEqual([]);
    await engine.flush();
    expect(kinds()).toEqual(['Pump1.Fault:RAISED', 'Pump1.Overload:RAISED', 'Pump1.Overload:CLEARED']);
    expect(events.map((e) => e.eventId)).toEqual([...events.map((e) => e.eventId)].sort((a, b) => a - b));
  });

  it('honours on-delay and off-delay with the clock', async () => {
    set('Tank1.Level', 5);
    clock.advance(999);
    expect(await engine.current()).toEqual([]);
    set('Tank1.Level', 12);
    clock.advance(2000);
    expect(await engine.current()).toEqual([]);
    set('Tank1.Level', 5);
    clock.advance(1000);
    expect((await engine.current()).map((o) => o.alarm)).toEqual(['Tank1.Low']);
    set('Tank1.Level', 12);
    clock.advance(499);
    expect((await engine.current())[0]!.active).toBe(true);
    set('Tank1.Level', 4);
    clock.advance(1000);
    set('Tank1.Level', 20);
    clock.advance(500);
    await engine.flush();
    expect(kinds()).toEqual(['Tank1.Low:RAISED', 'Tank1.Low:CLEARED']);
    expect(await engine.current()).toEqual([]); // Warning = RAISE_CLEAR: gone once cleared
  });

  it('acknowledges once; a second acknowledgement writes nothing', async () => {
    set('Pump1.Status', 4);
    const id = (await engine.current())[0]!.id;
    const r = await engine.acknowledge(id, 'op');
    expect(r).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'op', status: '+*', userResponse: 'ACKNOWLEDGEMENT' });
    expect(await engine.acknowledge(id, 'other')).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'op' });
    set('Pump1.Status', 0);
    await engine.flush();
    expect(await engine.current()).toEqual([]);
    // Closed: still answered with its state, from the journal, and nothing written.
    expect(await engine.acknowledge(id, 'op')).toMatchObject({ state: 'RAISED_ACKNOWLEDGED_CLEARED' });
    expect(kinds()).toEqual(['Pump1.Overload:RAISED', 'Pump1.Overload:ACKNOWLEDGED', 'Pump1.Overload:CLEARED']);
    expect(events[1]!.user).toBe('op');
    await expect(engine.acknowledge(9999, 'op')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('needs a reset after clear and acknowledgement for a reset class', async () => {
    set('Pump1.Fault', true);
    const id = (await engine.current())[0]!.id;
    await expect(engine.reset(id, 'op')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await engine.acknowledge(id, 'op');
    set('Pump1.Fault', false);
    await engine.flush();
    expect((await engine.current())[0]).toMatchObject({ state: 'RAISED_ACKNOWLEDGED_CLEARED', status: '-*' });
    expect(await engine.reset(id, 'boss')).toMatchObject({ userResponse: 'RESET' });
    expect(await engine.current()).toEqual([]);
    expect(kinds()).toEqual(['Pump1.Fault:RAISED', 'Pump1.Fault:ACKNOWLEDGED', 'Pump1.Fault:CLEARED', 'Pump1.Fault:RESET']);
    await expect(engine.reset(id, 'boss')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    set('Pump1.Status', 4);
    await expect(engine.reset((await engine.current())[0]!.id, 'op')).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('acknowledges in bulk with per-item results in one transaction', async () => {
    set('Pump1.Status', 4);
    set('Valve.Open', true);
    set('Tank1.Level', 90);
    const ids = (await engine.current()).map((o) => o.id);
    const r = await engine.acknowledgeMany([...ids, 424242], 'op');
    expect(r.slice(0, 3).every((x) => 'state' in x && x.state === 'RAISED_ACKNOWLEDGED')).toBe(true);
    expect(r[3]).toEqual({ id: 424242, error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('a condition that returns while the old occurrence waits starts a new occurrence', async () => {
    set('Pump1.Status', 4);
    set('Pump1.Status', 0);
    set('Pump1.Status', 4);
    const cur = await engine.current();
    expect(cur.map((o) => o.state)).toEqual(['RAISED', 'RAISED_CLEARED']);
    expect(cur[0]!.id).not.toBe(cur[1]!.id);
  });

  it('raises one System alarm per connection on BAD quality and never judges stale values', async () => {
    set('Tank1.Level', 50);
    tags.setQuality(idx('Tank1.Level'), Quality.BAD_NOT_CONNECTED);
    tags.setQuality(idx('Pump1.Fault'), Quality.BAD_NOT_CONNECTED);
    // A BAD value must not raise Tank1.High.
    tags.update(idx('Tank1.Level'), 99, Quality.BAD_NO_COMMUNICATION);
    await engine.flush();
    expect((await engine.current()).map((o) => [o.alarm, o.class, o.text])).toEqual([
      ['System.ConnectionLost.plc1', 'System', 'Connection lost: plc1'],
    ]);
    set('Tank1.Level', 50);
    await engine.flush();
    expect((await engine.current())[0]!.active).toBe(true);
    set('Pump1.Fault', false);
    await engine.flush();
    expect((await engine.current())[0]).toMatchObject({ alarm: 'System.ConnectionLost.plc1', state: 'RAISED_CLEARED' });
    expect(kinds()).toEqual(['System.ConnectionLost.plc1:RAISED', 'System.ConnectionLost.plc1:CLEARED']);
  });

  it('disables, enables and shelves for a while', async () => {
    set('Pump1.Status', 4);
    expect(await engine.setEnabled('Pump1.Overload', false)).toMatchObject({ enabled: false });
    expect((await engine.current())[0]).toMatchObject({ active: false });
    set('Pump1.Status', 5);
    expect((await engine.current()).filter((o) => o.active)).toEqual([]);
    await engine.setEnabled('Pump1.Overload', true);
    expect((await engine.current()).filter((o) => o.active)).toHaveLength(1);
    const v = await engine.shelve('Pump1.Overload', 60_000);
    expect(v.shelvedUntil).toBe(new Date(clock.now() + 60_000).toISOString());
    expect((await engine.current()).filter((o) => o.active)).toEqual([]);
    clock.advance(60_000);
    expect((await engine.current()).filter((o) => o.active)).toHaveLength(1);
    expect(engine.definition('Pump1.Overload').shelvedUntil).toBeUndefined();
    await expect(engine.shelve('Nope', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(engine.shelve('Pump1.Overload', 0)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('filters the current list', async () => {
    set('Pump1.Fault', true);
    clock.advance(10);
    set('Pump1.Status', 4);
    clock.advance(10);
    set('Valve.Open', true);
    expect((await engine.current()).map((o) => o.alarm)).toEqual(['Valve.Open', 'Pump1.Overload', 'Pump1.Fault']);
    expect((await engine.current({ alarm: 'Pump1.*' })).map((o) => o.alarm)).toEqual(['Pump1.Overload', 'Pump1.Fault']);
    expect((await engine.current({ minPriority: 10 })).map((o) => o.alarm)).toEqual(['Pump1.Fault']);
    expect(await engine.current({ class: 'Info', tag: 'Valve.Open', state: 'RAISED' })).toHaveLength(1);
    expect(await engine.current({ maxPriority: 1 })).toEqual([]);
  });

  it('lists definitions and classes', async () => {
    const defs = engine.definitions();
    expect(defs).toHaveLength(5);
    expect(defs.find((d) => d.name === 'Pump1.Overload')).toEqual({
      name: 'Pump1.Overload',
      number: 4,
      class: 'Alarm',
      priority: 8,
      tag: 'Pump1.Status',
      kind: 'discrete',
      bit: 2,
      text: '',
      enabled: true,
    });
    expect(engine.classList().find((c) => c.name === 'Fault')!.stateMachine).toBe('RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET');
    expect(engine.classList().map((c) => c.name)).toEqual(expect.arrayContaining(['Alarm', 'Warning', 'System', 'Info']));
  });

  it('rebuilds the current list after a restart with original times, and clears what went away meanwhile', async () => {
    set('Pump1.Status', 4);
    set('Tank1.Level', 90);
    const raisedAt = clock.now();
    const tankId = (await engine.current()).find((o) => o.alarm === 'Tank1.High')!.id;
    await engine.acknowledge(tankId, 'op');
    const before = await engine.current();
    await engine.stop();
    clock.advance(3_600_000);
    boot();
    await engine.start();
    // Tags have no value yet after the restart: nothing is judged, the list is as it was.
    expect(await engine.current()).toEqual(before);
    expect((await engine.current())[0]!.raisedAt).toBe(new Date(raisedAt).toISOString());
    // The pump recovered while the server was down.
    set('Pump1.Status', 0);
    set('Tank1.Level', 95);
    await engine.flush();
    expect(kinds()).toEqual(['Pump1.Overload:CLEARED']);
    expect((await engine.current()).map((o) => [o.alarm, o.state])).toEqual([
      ['Tank1.High', 'RAISED_ACKNOWLEDGED'],
      ['Pump1.Overload', 'RAISED_CLEARED'],
    ]);
    // A new occurrence id never repeats an old one.
    set('Valve.Open', true);
    expect((await engine.current())[0]!.id).toBeGreaterThan(tankId);
  });

  it('keeps disabled and shelved alarms so across a restart; a shelf expires on time', async () => {
    await engine.setEnabled('Pump1.Fault', false);
    await engine.shelve('Pump1.Overload', 60_000);
    await engine.stop();
    clock.advance(10_000);
    boot();
    await engine.start();
    expect(engine.definition('Pump1.Fault').enabled).toBe(false);
    expect(engine.definition('Pump1.Overload').shelvedUntil).toBe(new Date(clock.now() + 50_000).toISOString());
    set('Pump1.Fault', true);
    set('Pump1.Status', 4);
    expect(await engine.current()).toEqual([]);
    clock.advance(50_000);
    expect((await engine.current()).map((o) => o.alarm)).toEqual(['Pump1.Overload']);
    await engine.stop();
    boot();
    await engine.start();
    expect(engine.definition('Pump1.Overload').shelvedUntil).toBeUndefined();
  });

  it('clears a restored connection-lost alarm on the first good value after start', async () => {
    tags.setQuality(idx('Valve.Open'), Quality.BAD_NOT_CONNECTED);
    await engine.flush();
    await engine.stop();
    boot();
    await engine.start();
    expect((await engine.current()).map((o) => o.alarm)).toEqual(['System.ConnectionLost.plc2']);
    set('Valve.Open', false);
    await engine.flush();
    expect(kinds()).toEqual(['System.ConnectionLost.plc2:CLEARED']);
  });
});

describe('AlarmEngine when the journal cannot be written', () => {
  it('shows and publishes nothing uncommitted, keeps it queued, fails the operator action, and works again once storage does', async () => {
    set('Pump1.Status', 4);
    await engine.flush();
    const id = (await engine.current())[0]!.id;
    // A full disk: every growing write fails with SQLITE_FULL.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    db.pragma('cache_size = 0');
    const big = Array.from({ length: 200 }, (_, i) => i);
    for (const i of big) {
      set('Pump1.Fault', i % 2 === 0);
      set('Valve.Open', i % 2 === 0);
    }
    await expect(engine.acknowledge(id, 'op')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await new Promise((resolve) => setImmediate(resolve));
    // Only what is committed shows: the occurrence, unacknowledged; the burst waits in memory, unpublished.
    expect((await engine.current()).map((o) => [o.alarm, o.state])).toEqual([['Pump1.Overload', 'RAISED']]);
    expect(kinds()).toEqual(['Pump1.Overload:RAISED']);
    expect(engine.storageState()).toMatchObject({ state: 'degraded' });
    db.pragma('max_page_count = 1073741823');
    expect(await engine.acknowledge(id, 'op')).toMatchObject({ state: 'RAISED_ACKNOWLEDGED' });
    // Nothing was dropped: the held burst committed first, in order, then the acknowledgement.
    const all = kinds();
    expect(all[0]).toBe('Pump1.Overload:RAISED');
    expect(all.at(-1)).toBe('Pump1.Overload:ACKNOWLEDGED');
    expect(all.filter((k) => k === 'Pump1.Fault:RAISED').length).toBeGreaterThan(1);
    expect(events.map((e) => e.eventId)).toEqual([...events.map((e) => e.eventId)].sort((a, b) => a - b));
    expect(engine.storageState().state).toBe('ok');
  });
});

describe('AlarmEngine (property): random changes, responses and restarts', () => {
  it('keeps legal states and rebuilds the same current list from the journal', async () => {
    type Op =
      | { k: 'level'; v: number }
      | { k: 'bit'; v: number }
      | { k: 'fault'; v: boolean }
      | { k: 'bad'; tag: number }
      | { k: 'ack'; pick: number }
      | { k: 'reset'; pick: number }
      | { k: 'time'; ms: number }
      | { k: 'restart' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant('level' as const), v: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ k: fc.constant('bit' as const), v: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ k: fc.constant('fault' as const), v: fc.boolean() }),
      fc.record({ k: fc.constant('bad' as const), tag: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ k: fc.constant('ack' as const), pick: fc.nat(20) }),
      fc.record({ k: fc.constant('reset' as const), pick: fc.nat(20) }),
      fc.record({ k: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
      fc.constant({ k: 'restart' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        db.close();
        db = openDatabase(':memory:');
        clock = new ManualClock();
        boot();
        await engine.start();
        for (const o of ops) {
          switch (o.k) {
            case 'level':
              set('Tank1.Level', o.v);
              break;
            case 'bit':
              set('Pump1.Status', o.v);
              break;
            case 'fault':
              set('Pump1.Fault', o.v);
              break;
            case 'bad':
              tags.setQuality(o.tag, Quality.BAD_NOT_CONNECTED);
              break;
            case 'time':
              clock.advance(o.ms);
              break;
            case 'ack':
            case 'reset': {
              const cur = await engine.current();
              const target = cur[o.pick % Math.max(1, cur.length)];
              if (!target) break;
              try {
                if (o.k === 'ack') await engine.acknowledge(target.id, 'op');
                else await engine.reset(target.id, 'op');
              } catch (err) {
                expect((err as { code: string }).code).toBe('INVALID_STATE');
              }
              break;
            }
            case 'restart': {
              await engine.flush();
              const before = await engine.current();
              await engine.stop();
              boot();
              await engine.start();
              // Before any tag has a value, the rebuilt list equals the list before the restart.
              expect(await engine.current()).toEqual(before);
              break;
            }
          }
          for (const occ of await engine.current()) {
            expect(occ.active || occ.state !== 'RAISED').toBe(true);
            expect(occ.acknowledged).toBe(occ.state.includes('ACKNOWLEDGED'));
          }
        }
        await engine.flush();
        const list = await engine.current();
        boot();
        await engine.start();
        expect(await engine.current()).toEqual(list);
      }),
      { numRuns: 60 },
    );
  });
});
