import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmDefinition } from '../../src/domain/alarms/definition.js';
import type { AlarmEventRecord } from '../../src/domain/alarms/records.js';
import { ManualClock } from '../../src/domain/clock.js';
import { Quality } from '../../src/domain/quality.js';
import type { TagDefinition } from '../../src/domain/tag-definition.js';
import { AlarmEngine } from '../../src/runtime/alarms/engine.js';
import { TagEngine } from '../../src/runtime/tag-engine.js';
import type { NewAlarmEvent } from '../../src/storage/alarm-journal-repository.js';
import { openDatabase, type Database } from '../../src/storage/sqlite/database.js';
import { SqliteAlarmJournalRepository, SqliteAlarmSettingsRepository } from '../../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { fillDatabase } from '../helpers/sqlite-full.js';

/**
 * Issue 11, finding 2 (alarm part): with the journal refusing commits (a full disk), a device alarm that became
 * true during the outage was never raised, because the failed flush dropped its events and rebuilt memory from
 * the journal. Now evaluation goes on in memory and the events commit with their original times once the journal
 * takes writes again. The disk is filled with `PRAGMA max_page_count` on a real SQLite file.
 */
const TAGS: TagDefinition[] = [
  { name: 'Line1.Jam', type: 'Bool', access: 'readwrite', connection: 'plc1' },
  { name: 'Line1.Chatter', type: 'Bool', access: 'readwrite', connection: 'plc1' },
  { name: 'Line1.Door', type: 'Bool', access: 'readwrite', connection: 'plc1' },
];
const DEFS: AlarmDefinition[] = [
  { name: 'Line1.Jam', number: 1, class: 'Fault', priority: 14, tag: 'Line1.Jam', kind: 'discrete', text: 'Jam' },
  { name: 'Line1.Chatter', number: 2, class: 'Warning', priority: 2, tag: 'Line1.Chatter', kind: 'discrete', text: 'Chatter' },
  { name: 'Line1.Door', number: 3, class: 'Warning', priority: 4, tag: 'Line1.Door', kind: 'discrete', text: 'Door open' },
];
const RETRY_MS = 250;

/** The injected fault for the cases a filled disk cannot hit exactly: the next `refuseNext` commits fail. */
class RefusingJournal extends SqliteAlarmJournalRepository {
  refuseNext = 0;
  override append(events: readonly NewAlarmEvent[]): Promise<AlarmEventRecord[]> {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    }
    return super.append(events);
  }
}

let dir: string;
let db: Database;
let clock: ManualClock;
let tags: TagEngine;
let engine: AlarmEngine;
let journal: RefusingJournal;
let published: AlarmEventRecord[];

function boot(opts: { maxPendingEvents?: number } = {}): void {
  tags = new TagEngine(TAGS, clock);
  journal = new RefusingJournal(db);
  const settings = new SqliteAlarmSettingsRepository(journal.journal);
  engine = new AlarmEngine({ tags, journal, settings, clock, definitions: DEFS, retryMs: RETRY_MS, ...opts });
  published = [];
  engine.onEvent((e) => published.push(e));
}
const set = (name: string, value: boolean): void => tags.update(tags.require(name).index, value, Quality.GOOD);
const journaled = async (alarm?: string): Promise<AlarmEventRecord[]> =>
  (await engine.archive.query({ order: 'asc', limit: 10_000, alarm })).items;
/** Ends the current burst: its microtask commit runs (or fails and leaves the events queued). */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
/** Advances the clock in retry periods, letting each (asynchronous) retry finish before the next is due. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += RETRY_MS) {
    clock.advance(Math.min(RETRY_MS, ms - t));
    await tick();
  }
}

/** Toggles the chatter alarm until the journal refuses a commit: the disk is full now. Returns the transitions made. */
async function chatterUntilRefused(): Promise<number> {
  let transitions = 0;
  for (let i = 0; i < 5000 && engine.storageState().state === 'ok'; i++) {
    clock.advance(10);
    set('Line1.Chatter', i % 2 === 0);
    transitions++;
    await tick();
  }
  expect(engine.storageState()).toMatchObject({ state: 'degraded', reason: expect.stringMatching(/SQLITE_FULL/) });
  return transitions;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-alarm-full-'));
  db = openDatabase(join(dir, 'tagway.db'), { synchronous: 'NORMAL' });
  clock = new ManualClock();
  boot();
  await engine.start();
  // Start from known values (a usable first value for every tag).
  set('Line1.Jam', false);
  set('Line1.Chatter', false);
  set('Line1.Door', false);
});
afterEach(async () => {
  await engine.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('alarm journal on a full disk', () => {
  it('raises a condition that became true during the outage, with its original time, within one retry of space returning', async () => {
    const disk = fillDatabase(db);
    const transitions = await chatterUntilRefused();

    clock.advance(1000);
    const jamAt = clock.now();
    set('Line1.Jam', true);
    await tick();
    // Not committed, so not shown or published: the journal is the truth of what operators see.
    expect(await engine.current({ alarm: 'Line1.Jam' })).toEqual([]);
    expect(published.some((e) => e.alarm === 'Line1.Jam')).toBe(false);
    const during = engine.storageState();
    expect(during.state).toBe('degraded');
    expect(during.pendingEvents).toBeGreaterThanOrEqual(2);
    expect(Date.parse(during.since!)).toBeLessThan(jamAt);

    // Retries keep failing while the disk is full; nothing is dropped meanwhile.
    await advance(20 * RETRY_MS);
    expect(engine.storageState()).toMatchObject({ state: 'degraded', pendingEvents: during.pendingEvents });

    disk.free();
    await advance(RETRY_MS);
    expect(engine.storageState()).toEqual({ state: 'ok', pendingEvents: 0, overflowing: false });
    const [jam] = await engine.current({ alarm: 'Line1.Jam' });
    expect(jam).toMatchObject({ alarm: 'Line1.Jam', state: 'RAISED', active: true, raisedAt: new Date(jamAt).toISOString() });
    expect((await journaled('Line1.Jam')).map((e) => [e.event, e.at])).toEqual([['RAISED', new Date(jamAt).toISOString()]]);
    // Every chatter transition is in the journal, in order, none lost and none twice.
    const chatter = await journaled('Line1.Chatter');
    expect(chatter).toHaveLength(transitions);
    expect(chatter.map((e) => e.event)).toEqual(Array.from({ length: transitions }, (_, i) => (i % 2 === 0 ? 'RAISED' : 'CLEARED')));
    expect(published.map((e) => e.eventId)).toEqual((await journaled()).map((e) => e.eventId));
  });

  it('refuses operator actions while the journal refuses, leaving no trace, and takes them once it is back', async () => {
    set('Line1.Jam', true);
    await tick();
    const [jam] = await engine.current({ alarm: 'Line1.Jam' });
    const disk = fillDatabase(db);
    await chatterUntilRefused();

    await expect(engine.acknowledge(jam!.id, 'op')).rejects.toThrow(expect.objectContaining({ code: 'STORAGE_UNAVAILABLE', status: 503 }));
    await expect(engine.acknowledgeMany([jam!.id], 'op')).rejects.toThrow(expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }));
    expect((await engine.current({ alarm: 'Line1.Jam' }))[0]).toMatchObject({ state: 'RAISED', acknowledgedBy: null });

    disk.free();
    await advance(RETRY_MS);
    expect(await engine.acknowledge(jam!.id, 'op')).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', acknowledgedBy: 'op' });
    expect((await journaled('Line1.Jam')).map((e) => e.event)).toEqual(['RAISED', 'ACKNOWLEDGED']);
  });

  it('an acknowledgement whose own commit fails is undone, not half applied', async () => {
    set('Line1.Jam', true);
    await tick();
    const [jam] = await engine.current({ alarm: 'Line1.Jam' });
    // Nothing is queued, so the acknowledgement's own event is the first write to find the journal refusing.
    journal.refuseNext = 1;
    await expect(engine.acknowledge(jam!.id, 'op')).rejects.toThrow(expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }));
    expect((await engine.current({ alarm: 'Line1.Jam' }))[0]).toEqual(jam);
    expect(engine.storageState()).toMatchObject({ state: 'degraded', pendingEvents: 0 });
    await advance(10 * RETRY_MS);
    expect((await journaled('Line1.Jam')).map((e) => e.event)).toEqual(['RAISED']);
    // The same for a bulk acknowledgement, then once more with the journal taking it.
    journal.refuseNext = 1;
    await expect(engine.acknowledgeMany([jam!.id, 12345], 'op')).rejects.toThrow(expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }));
    expect((await engine.current({ alarm: 'Line1.Jam' }))[0]).toEqual(jam);
    expect(await engine.acknowledgeMany([jam!.id], 'op')).toEqual([{ id: jam!.id, state: 'RAISED_ACKNOWLEDGED' }]);
    expect((await journaled('Line1.Jam')).map((e) => e.event)).toEqual(['RAISED', 'ACKNOWLEDGED']);
    expect(engine.storageState().state).toBe('ok');
  });

  it('bounds the queue: past the bound clears wait, raises never do; all are journaled once space returns', async () => {
    await engine.stop();
    boot({ maxPendingEvents: 4 });
    await engine.start();
    set('Line1.Jam', false);
    set('Line1.Chatter', false);
    set('Line1.Door', false);
    await tick();
    const disk = fillDatabase(db);
    await chatterUntilRefused();
    // Flap the chatter alarm 200 times: its clears are held back once the queue is full, so it stays raised.
    for (let i = 0; i < 200; i++) {
      clock.advance(10);
      set('Line1.Chatter', i % 2 === 0);
      await tick();
    }
    clock.advance(1000);
    const doorAt = clock.now();
    set('Line1.Door', true);
    set('Line1.Jam', true);
    await tick();
    const state = engine.storageState();
    expect(state).toMatchObject({ state: 'degraded', overflowing: true });
    // Bound: at most the queue bound plus one raise per alarm.
    expect(state.pendingEvents).toBeLessThanOrEqual(4 + DEFS.length);

    // The door closes during the outage: that clear is held back too (queue full).
    set('Line1.Door', false);
    set('Line1.Chatter', false);
    await tick();
    disk.free();
    await advance(RETRY_MS);
    await tick();
    expect(engine.storageState()).toMatchObject({ state: 'ok', overflowing: false });
    expect((await journaled('Line1.Door')).map((e) => [e.event, e.at])).toEqual([
      ['RAISED', new Date(doorAt).toISOString()],
      ['CLEARED', new Date(clock.now()).toISOString()],
    ]);
    expect((await journaled('Line1.Jam')).map((e) => [e.event, e.at])).toEqual([['RAISED', new Date(doorAt).toISOString()]]);
    // The chatter alarm's events alternate (nothing half-recorded) and it ends cleared, as its condition is.
    const chatter = (await journaled('Line1.Chatter')).map((e) => e.event);
    expect(chatter.every((e, i) => e === (i % 2 === 0 ? 'RAISED' : 'CLEARED'))).toBe(true);
    expect(chatter.at(-1)).toBe('CLEARED');
    expect((await engine.current()).map((o) => o.alarm)).toEqual(['Line1.Jam']);
  });

  it('starts while the journal refuses and journals the start-up evaluation when it takes writes again', async () => {
    await engine.stop();
    boot();
    set('Line1.Jam', true); // the device reported the jam before the engine started
    journal.refuseNext = 3;
    await expect(engine.start()).resolves.toBeUndefined();
    expect(engine.storageState().state).toBe('degraded');
    expect(await engine.current()).toEqual([]);
    await advance(3 * RETRY_MS);
    expect(engine.storageState().state).toBe('ok');
    expect(await engine.current({ alarm: 'Line1.Jam' })).toHaveLength(1);
  });
});
