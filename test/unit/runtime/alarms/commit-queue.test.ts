import { describe, expect, it } from 'vitest';
import type { AlarmEventRecord } from '../../../../src/domain/alarms/records.js';
import { ManualClock } from '../../../../src/domain/clock.js';
import { CommitQueue, type QueuedEvent } from '../../../../src/runtime/alarms/commit-queue.js';
import type { Occurrence } from '../../../../src/runtime/alarms/occurrence.js';
import {
  JournalFencedError,
  type JournalFence,
  type LeaseRef,
  type NewAlarmEvent,
} from '../../../../src/storage/alarm-journal-repository.js';
import { openDatabase } from '../../../../src/storage/sqlite/database.js';
import { SqliteAlarmJournalRepository } from '../../../../src/storage/sqlite/sqlite-alarm-journal-repository.js';

/** A real journal whose next `refuse` commits fail (the injected fault). */
class Refusing extends SqliteAlarmJournalRepository {
  refuse = 0;
  override append(events: readonly NewAlarmEvent[]): Promise<AlarmEventRecord[]> {
    if (this.refuse > 0) {
      this.refuse--;
      return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    }
    return super.append(events);
  }
}

/** Lets the queue's asynchronous commits (and the journal's promises) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Advances the clock in retry periods, letting each retry's commit finish before the next one is due. */
async function advance(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

function setup(maxPending = 3) {
  const clock = new ManualClock();
  const journal = new Refusing(openDatabase(':memory:'));
  const committed: number[][] = [];
  let recovered = 0;
  const logs: string[] = [];
  const logger = { error: (_: unknown, m?: string) => logs.push(`error ${m}`), warn: (_: unknown, m?: string) => logs.push(`warn ${m}`) };
  const queue = new CommitQueue({
    journal,
    clock,
    retryMs: 250,
    maxPending,
    committed: (records) => committed.push(records.map((r) => r.id)),
    recovered: () => recovered++,
    logger,
  });
  let n = 0;
  const event = (): QueuedEvent => {
    const id = ++n;
    return {
      occ: { id } as Occurrence,
      event: {
        id,
        alarm: 'A',
        number: 1,
        class: 'Alarm',
        priority: 1,
        event: 'RAISED',
        at: clock.now(),
        state: 'RAISED',
        text: 't',
        tag: null,
        value: null,
        user: null,
        stateMachine: 'RAISE_CLEAR',
        closes: false,
      },
    };
  };
  return { clock, journal, queue, committed, logs, event, recovered: () => recovered };
}

describe('CommitQueue', () => {
  it('commits a burst in one transaction at the end of the tick', async () => {
    const { queue, committed, event } = setup();
    queue.push(event());
    queue.push(event());
    expect(committed).toEqual([]);
    await settle();
    expect(committed).toEqual([[1, 2]]);
    expect(queue.state()).toEqual({ state: 'ok', pendingEvents: 0, overflowing: false });
  });

  it('keeps refused events in order, retries on its back-off only, and logs once per outage', async () => {
    const { queue, committed, event, journal, clock, logs, recovered } = setup(100);
    journal.refuse = 5;
    queue.push(event());
    await settle();
    expect(queue.state()).toMatchObject({ state: 'degraded', reason: 'SQLITE_FULL: database or disk is full', pendingEvents: 1 });
    // While a retry waits, new bursts do not try on their own (each would only fail again).
    queue.push(event());
    await settle();
    expect(journal.refuse).toBe(4);
    await advance(clock, 1000); // four retries, all refused
    expect(journal.refuse).toBe(0);
    expect(committed).toEqual([]);
    await advance(clock, 250);
    expect(committed).toEqual([[1, 2]]);
    expect(queue.state()).toEqual({ state: 'ok', pendingEvents: 0, overflowing: false });
    expect(recovered()).toBe(1);
    expect(logs).toEqual([
      'error alarm journal write failed; events kept in memory and retried',
      'warn alarm journal writable again; held events committed',
    ]);
  });

  it('commit() throws STORAGE_UNAVAILABLE with Retry-After and keeps the events; its onRefused hook forgets an undone action', async () => {
    const { queue, event, journal, committed, clock } = setup();
    queue.push(event());
    const mine = event();
    queue.push(mine);
    queue.push(event());
    journal.refuse = 1;
    await expect(queue.commit(() => queue.remove([mine]))).rejects.toThrow(
      expect.objectContaining({ code: 'STORAGE_UNAVAILABLE', headers: { 'Retry-After': '1' } }),
    );
    expect(queue.size).toBe(2);
    await advance(clock, 250);
    expect(committed).toEqual([[1, 3]]);
  });

  it('commits in queue order when events arrive while a commit is under way', async () => {
    const { queue, event, committed } = setup(100);
    queue.push(event());
    const first = queue.tryCommit();
    queue.push(event());
    queue.push(event());
    expect(await first).toBe(true);
    await settle();
    expect(committed.flat()).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
  });

  it('reports full at its bound during an outage only, and the overflow in its state until a commit succeeds', async () => {
    const { queue, event, journal, clock } = setup(2);
    queue.push(event());
    queue.push(event());
    // The journal works: a long burst is not held back, it commits at the end of its tick.
    expect(queue.full).toBe(false);
    await settle();
    journal.refuse = 100;
    queue.push(event());
    await settle();
    expect(queue.full).toBe(false);
    queue.push(event());
    expect(queue.full).toBe(true);
    expect(queue.state()).toMatchObject({ state: 'degraded', overflowing: true, pendingEvents: 2 });
    journal.refuse = 0;
    await advance(clock, 250);
    expect(queue.state()).toEqual({ state: 'ok', pendingEvents: 0, overflowing: false });
    expect(queue.full).toBe(false);
  });

  it('in a cluster, drops the events of a lease the journal fences out, commits the rest at once, never retries them', async () => {
    const clock = new ManualClock();
    // The leases as the journal's database has them: plc1 moved to another node (token 2) after these were queued.
    const db = new Map([
      ['plc1', { holder: 'y', token: 2 }],
      ['plc2', { holder: 'x', token: 1 }],
    ]);
    const stored: number[] = [];
    const appends: JournalFence[] = [];
    const journal = {
      append: (events: readonly NewAlarmEvent[], fence?: JournalFence): Promise<AlarmEventRecord[]> => {
        appends.push(fence!);
        const refused = fence!.leases.filter(
          (l) => db.get(l.connection)?.holder !== fence!.holder || db.get(l.connection)?.token !== l.token,
        );
        if (refused.length > 0) return Promise.reject(new JournalFencedError(refused));
        stored.push(...events.map((e) => e.id));
        return Promise.resolve(events.map((e, i) => ({ ...e, eventId: stored.length - events.length + i + 1, at: '' })));
      },
    };
    const logs: string[] = [];
    const fenced: Array<{ refused: readonly LeaseRef[]; dropped: number[] }> = [];
    const queue = new CommitQueue({
      journal,
      clock,
      retryMs: 250,
      committed: () => undefined,
      recovered: () => undefined,
      logger: { error: (_: unknown, m?: string) => logs.push(`error ${m}`), warn: (_: unknown, m?: string) => logs.push(`warn ${m}`) },
    });
    // This node still believes it holds plc1 with token 1 (its renewal has not told it yet).
    queue.fenceWith({
      holder: 'x',
      leaseOf: (e) => (e.alarm === 'A1' ? { connection: 'plc1', token: 1 } : { connection: 'plc2', token: 1 }),
      fenced: (refused, dropped) => fenced.push({ refused, dropped: dropped.map((d) => d.event.id) }),
    });
    const { event } = setup();
    const on = (alarm: string): QueuedEvent => {
      const e = event();
      e.event.alarm = alarm;
      return e;
    };
    queue.push(on('A1'));
    queue.push(on('A2'));
    queue.push(on('A1'));
    await settle();
    await settle();
    expect(fenced).toEqual([{ refused: [{ connection: 'plc1', token: 1 }], dropped: [1, 3] }]);
    expect(stored).toEqual([2]);
    expect(appends.map((f) => f.leases)).toEqual([
      [
        { connection: 'plc1', token: 1 },
        { connection: 'plc2', token: 1 },
      ],
      [{ connection: 'plc2', token: 1 }],
    ]);
    // No outage: nothing waits, nothing is retried, however long.
    expect(queue.state()).toEqual({ state: 'ok', pendingEvents: 0, overflowing: false });
    await advance(clock, 5000);
    expect(appends).toHaveLength(2);
    // Another one for the lost lease: dropped too, logged once only; an operator's commit is told why.
    queue.push(on('A1'));
    await expect(queue.commit()).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    expect(fenced).toHaveLength(2);
    expect(logs.filter((l) => l.includes('no longer holds the lease'))).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
