import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmEventType, AlarmState } from '../../../src/domain/alarms/state-machine.js';
import { AlarmJournal, type NewAlarmEvent } from '../../../src/storage/sqlite/alarm-journal.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';

const T0 = Date.UTC(2026, 10, 1);
let dir: string;
let db: Database;
let j: AlarmJournal;

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

/** n occurrences of alarm `A<i mod alarms>`, each raised, cleared and acknowledged, one second apart. */
function fill(n: number, alarms = 5): void {
  const events: NewAlarmEvent[] = [];
  for (let i = 0; i < n; i++) {
    const id = j.nextOccurrenceId();
    const common = {
      id,
      alarm: `Line1.A${i % alarms}`,
      number: i % alarms,
      priority: i % 17,
      class: i % 2 ? 'Alarm' : 'Warning',
      text: `Alarm ${i} Level HIGH_50%`,
    };
    events.push(ev({ ...common, event: 'RAISED', at: T0 + i * 3000 }));
    events.push(ev({ ...common, event: 'CLEARED', at: T0 + i * 3000 + 1000 }));
    events.push(ev({ ...common, event: 'ACKNOWLEDGED', at: T0 + i * 3000 + 2000, user: 'op' }));
  }
  j.append(events);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tagway-journal-'));
  db = openDatabase(join(dir, 'j.db'), { synchronous: 'NORMAL' });
  j = new AlarmJournal(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AlarmJournal', () => {
  it('appends in order and returns the events with increasing ids', () => {
    const out = j.append([ev({ id: 1, event: 'RAISED', at: T0 }), ev({ id: 1, event: 'CLEARED', at: T0 + 5 })]);
    expect(out.map((e) => e.event)).toEqual(['RAISED', 'CLEARED']);
    expect(out[1]!.eventId).toBeGreaterThan(out[0]!.eventId);
    expect(out[0]!.at).toBe(new Date(T0).toISOString());
    expect(j.query({ order: 'asc' }).items).toEqual(out);
  });

  it('never lets journal time run backwards', () => {
    j.append([ev({ id: 1, event: 'RAISED', at: T0 + 100 })]);
    const [e] = j.append([ev({ id: 1, event: 'CLEARED', at: T0 })]);
    expect(e!.at).toBe(new Date(T0 + 100).toISOString());
  });

  it('keeps open occurrences and their events for the rebuild, and survives reopening', () => {
    const id = j.nextOccurrenceId();
    j.append([ev({ id, event: 'RAISED', at: T0 }), ev({ id, event: 'CLEARED', at: T0 + 1 })]);
    const closed = j.nextOccurrenceId();
    j.append([ev({ id: closed, event: 'RAISED', at: T0 + 2 }), ev({ id: closed, event: 'ACKNOWLEDGED', at: T0 + 3 })]);
    db.close();
    db = openDatabase(join(dir, 'j.db'));
    j = new AlarmJournal(db);
    const open = j.loadOpen();
    expect(open.map((o) => o.id)).toEqual([id]);
    expect(open[0]!.events.map((e) => e.event)).toEqual(['RAISED', 'CLEARED']);
    expect(open[0]!.stateMachine).toBe('RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT');
    expect(j.nextOccurrenceId()).toBe(closed + 1);
  });

  it('filters by every field of the contract', () => {
    fill(60);
    const all = j.query({ limit: 10_000 }).items;
    expect(all).toHaveLength(180);
    const check = (q: Parameters<AlarmJournal['query']>[0], pred: (e: (typeof all)[number]) => boolean): void => {
      const got = j.query({ ...q, limit: 10_000 }).items;
      expect(got).toEqual(all.filter(pred));
      expect(got.length).toBeGreaterThan(0);
    };
    check({ alarm: 'Line1.A3' }, (e) => e.alarm === 'Line1.A3');
    check({ alarm: 'Line1.*' }, () => true);
    check({ alarm: 'Line1.A?' }, () => true);
    check({ class: 'Warning' }, (e) => e.class === 'Warning');
    check({ tag: 'Tank1.Level', event: 'ACKNOWLEDGED' }, (e) => e.event === 'ACKNOWLEDGED');
    check({ event: ['RAISED', 'CLEARED'] }, (e) => e.event !== 'ACKNOWLEDGED');
    check({ minPriority: 5, maxPriority: 7 }, (e) => e.priority >= 5 && e.priority <= 7);
    check({ text: 'alarm 1' }, (e) => e.text.toLowerCase().includes('alarm 1'));
    check({ text: '_50%' }, () => true);
    expect(j.query({ text: 'x_50' }).items).toEqual([]);
    const from = T0 + 30 * 3000 + 1000,
      to = T0 + 40 * 3000;
    check({ from, to }, (e) => Date.parse(e.at) >= from && Date.parse(e.at) < to);
    expect(j.query({ from: T0 + 10_000_000 }).items).toEqual([]);
    expect(j.query({ alarm: 'Nothing.*' }).items).toEqual([]);
  });

  it('filters globs matching many names row by row', () => {
    fill(300, 100);
    const got = j.query({ alarm: 'Line1.A1*', limit: 10_000 }).items;
    expect(got.length).toBe(3 * 3 * 11);
    const paged: number[] = [];
    let cursor: string | undefined;
    do {
      const p = j.query({ alarm: 'Line1.*', limit: 70, cursor });
      paged.push(...p.items.map((e) => e.eventId));
      cursor = p.next ?? undefined;
    } while (cursor);
    expect(paged).toHaveLength(900);
  });

  it('pages with a keyset cursor without duplicates or gaps while new events arrive', () => {
    fill(50);
    for (const order of ['asc', 'desc'] as const) {
      const before = j.query({ order, limit: 10_000, class: 'Alarm' }).items.map((e) => e.eventId);
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const p = j.query({ order, limit: 7, class: 'Alarm', cursor });
        seen.push(...p.items.map((e) => e.eventId));
        cursor = p.next ?? undefined;
        // New events keep arriving between pages.
        const id = j.nextOccurrenceId();
        j.append([
          ev({ id, event: 'RAISED', class: 'Alarm', at: T0 + 1e7 + pages }),
          ev({ id, event: 'ACKNOWLEDGED', class: 'Alarm', at: T0 + 1e7 + pages }),
        ]);
        pages++;
      } while (cursor && pages < 1000);
      expect(new Set(seen).size).toBe(seen.length);
      const sorted = [...seen].sort((a, b) => (order === 'asc' ? a - b : b - a));
      expect(seen).toEqual(sorted);
      // Everything that existed at the start was seen, in a gap-free run of the keyset.
      for (const id of before) expect(seen).toContain(id);
    }
  });

  it('refuses a foreign or mismatched cursor', () => {
    fill(5);
    const next = j.query({ limit: 2 }).next!;
    expect(() => j.query({ cursor: 'garbage' })).toThrow(/cursor/i);
    expect(() => j.query({ cursor: next, order: 'asc' })).toThrow(/order/);
  });

  it('prunes old events in batches but keeps those of open occurrences', () => {
    const open = j.nextOccurrenceId();
    j.append([ev({ id: open, event: 'RAISED', at: T0 - 1000 })]);
    fill(100);
    const cutoff = T0 + 50 * 3000;
    let total = 0,
      n: number;
    do {
      n = j.pruneBatch(cutoff, 40);
      total += n;
    } while (n === 40);
    expect(total).toBe(150);
    expect(j.loadOpen().map((o) => o.id)).toEqual([open]);
    const left = j.query({ order: 'asc', limit: 10_000 }).items;
    expect(left[0]!.id).toBe(open);
    expect(left.slice(1).every((e) => Date.parse(e.at) >= cutoff)).toBe(true);
  });
});
