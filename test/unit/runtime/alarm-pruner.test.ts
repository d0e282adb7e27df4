import { describe, expect, it } from 'vitest';
import { AlarmJournalPruner } from '../../../src/runtime/alarms/pruner.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { AlarmJournal, type NewAlarmEvent } from '../../../src/storage/sqlite/alarm-journal.js';
import { SqliteAlarmJournalRepository } from '../../../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { openDatabase } from '../../../src/storage/sqlite/database.js';

describe('AlarmJournalPruner', () => {
  it('deletes events older than the retention in batches, yielding between them', async () => {
    const db = openDatabase(':memory:');
    const j = new AlarmJournal(db);
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const day = 86_400_000;
    const events: NewAlarmEvent[] = [];
    for (let i = 0; i < 2500; i++) {
      const id = j.nextOccurrenceId();
      const common = {
        id,
        alarm: 'A',
        number: 1,
        class: 'Warning',
        priority: 1,
        state: 'RAISED' as const,
        text: '',
        tag: null,
        value: null,
        user: null,
        stateMachine: 'RAISE_CLEAR' as const,
      };
      events.push({ ...common, event: 'RAISED', at: clock.now() - 40 * day + i * 1000, closes: false });
      events.push({ ...common, event: 'CLEARED', state: 'RAISED' as const, at: clock.now() - 40 * day + i * 1000 + 1, closes: true });
    }
    events.push({
      id: j.nextOccurrenceId(),
      alarm: 'B',
      number: 2,
      class: 'Warning',
      priority: 1,
      state: 'RAISED',
      text: '',
      tag: null,
      value: null,
      user: null,
      stateMachine: 'RAISE_CLEAR',
      event: 'RAISED',
      at: clock.now() - 1000,
      closes: false,
    });
    j.append(events);
    const p = new AlarmJournalPruner(new SqliteAlarmJournalRepository(db), clock, { retentionDays: 30, batch: 700 });
    // Queued before the pass starts, so it runs at the pass's first yield: proof that other work gets a turn.
    let seenMidway = -1;
    setImmediate(() => {
      seenMidway = j.count();
    });
    const deleted = await p.runOnce();
    expect(seenMidway).toBe(5001 - 700);
    expect(deleted).toBe(5000);
    expect(j.count()).toBe(1);
    await p.stop();
    db.close();
  });
});
