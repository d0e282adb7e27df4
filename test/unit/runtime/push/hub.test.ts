import { describe, expect, it } from 'vitest';
import { TagwayError } from '../../../../src/domain/problems.js';
import { sseEncoder, wsEncoder } from '../../../../src/runtime/push/encoders.js';
import { PUSH_CLOSE } from '../../../../src/runtime/push/types.js';
import { ALL, def, MemoryAlarmSource, perms, Quality, setup, TestSink } from '../../../helpers/push.js';

const TAGS = [
  def('Line1.Speed', { min: 0, max: 200 }),
  def('Line1.Filler.Level', { min: 0, max: 100 }),
  def('Line2.Speed'),
  def('Line2.Mode', { type: 'String' }),
  def('Tank1.Level', { min: 0, max: 10 }),
];

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TagwayError ? e.code : 'NOT_A_TAGWAY_ERROR';
  }
  return undefined;
}

describe('PushHub values', () => {
  it('sends the current values first, then changes batched per tick', () => {
    const { hub, set } = setup(TAGS);
    set('Line1.Speed', 10);
    const sink = new TestSink();
    const conn = hub.connect(sink, wsEncoder, ALL);
    expect(conn.subscribe('s1', { tags: ['Line1.Speed', 'Tank1.Level'] })).toBe(2);
    expect(sink.delivered).toEqual([]); // nothing before the adapter had the chance to answer `subscribed`
    hub.flush();
    const [snap] = sink.json();
    expect(snap).toMatchObject({ type: 'values', id: 's1' });
    expect((snap!.items as unknown[]).length).toBe(2);
    expect(snap!.items).toContainEqual(expect.objectContaining({ name: 'Line1.Speed', value: 10, quality: 'GOOD', qualityCode: 192 }));
    sink.take();
    set('Line1.Speed', 11);
    set('Tank1.Level', 3);
    set('Line1.Speed', 12);
    set('Line2.Speed', 99); // not subscribed
    hub.flush();
    expect(sink.delivered).toHaveLength(1);
    expect(sink.values()).toEqual([
      ['Line1.Speed', 12],
      ['Tank1.Level', 3],
    ]);
  });

  it('resolves globs once, and permissions filter what a glob yields', () => {
    const { hub, set } = setup(TAGS);
    const sink = new TestSink();
    const viewer = perms({ permission: 'tags:read', tags: 'Line1.**' });
    const conn = hub.connect(sink, wsEncoder, viewer);
    expect(conn.subscribe('all', { tags: ['**'] })).toBe(2);
    hub.flush();
    expect(
      sink
        .values()
        .map(([n]) => n)
        .sort(),
    ).toEqual(['Line1.Filler.Level', 'Line1.Speed']);
    sink.take();
    set('Line2.Speed', 5);
    set('Line1.Filler.Level', 5);
    hub.flush();
    expect(sink.values()).toEqual([['Line1.Filler.Level', 5]]);
    const conn2 = hub.connect(new TestSink(), wsEncoder, ALL);
    expect(conn2.subscribe('one-level', { tags: ['Line1.*'] })).toBe(1);
    expect(conn2.subscribe('deep', { tags: ['Line1.**', 'Line1.Speed'] })).toBe(2); // no duplicates
    expect(conn2.subscribe('q', { tags: ['Line?.Speed'] })).toBe(2);
  });

  it('rejects unknown and forbidden exact names, bad options and reused ids with codes', () => {
    const { hub } = setup(TAGS);
    const conn = hub.connect(new TestSink(), wsEncoder, perms({ permission: 'tags:read', tags: 'Line1.**' }));
    expect(code(() => conn.subscribe('a', { tags: ['Nope'] }))).toBe('TAG_NOT_FOUND');
    expect(code(() => conn.subscribe('a', { tags: ['Tank1.Level'] }))).toBe('FORBIDDEN');
    expect(code(() => conn.subscribe('a', { tags: [] }))).toBe('VALIDATION_FAILED');
    expect(code(() => conn.subscribe('a', { tags: ['Line1.Speed'], deadband: -1 }))).toBe('VALIDATION_FAILED');
    expect(code(() => conn.subscribe('a', { tags: ['Line1.Speed'], deadband: 1, deadbandPercent: 1 }))).toBe('VALIDATION_FAILED');
    expect(code(() => conn.subscribeAlarms('al', {}))).toBe('FORBIDDEN');
    conn.subscribe('a', { tags: ['Line1.Speed'] });
    expect(code(() => conn.subscribe('a', { tags: ['Line1.Speed'] }))).toBe('CONFLICT');
    expect(conn.unsubscribe('a')).toBe(true);
    expect(conn.unsubscribe('a')).toBe(false);
  });

  it('respects an absolute deadband against the last value sent, and always sends quality changes', () => {
    const { hub, set } = setup(TAGS);
    const sink = new TestSink();
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['Line1.Speed'], deadband: 0.5 });
    set('Line1.Speed', 10);
    hub.flush();
    sink.take();
    for (const v of [10.2, 10.4, 10.5]) {
      set('Line1.Speed', v);
      hub.flush();
    }
    expect(sink.values()).toEqual([]); // each within 0.5 of the 10 that was sent
    set('Line1.Speed', 10.6);
    hub.flush();
    expect(sink.values()).toEqual([['Line1.Speed', 10.6]]);
    sink.take();
    set('Line1.Speed', 10.6, Quality.BAD_NOT_CONNECTED);
    hub.flush();
    expect(sink.json()[0]!.items).toEqual([expect.objectContaining({ name: 'Line1.Speed', quality: 'BAD', subStatus: 'NOT_CONNECTED' })]);
  });

  it('computes deadbandPercent from the tag range and leaves non-numeric tags alone', () => {
    const { hub, set } = setup(TAGS);
    for (const n of ['Line1.Speed', 'Tank1.Level', 'Line2.Speed']) set(n, 0);
    set('Line2.Mode', '');
    const sink = new TestSink();
    hub
      .connect(sink, wsEncoder, ALL)
      .subscribe('s', { tags: ['Line1.Speed', 'Tank1.Level', 'Line2.Speed', 'Line2.Mode'], deadbandPercent: 10 });
    hub.flush();
    sink.take();
    set('Line1.Speed', 15); // range 200 → deadband 20
    set('Tank1.Level', 1.5); // range 10 → deadband 1
    set('Line2.Speed', 0.001); // no range → no deadband
    set('Line2.Mode', 'AUTO');
    hub.flush();
    expect(sink.values().sort()).toEqual([
      ['Line2.Mode', 'AUTO'],
      ['Line2.Speed', 0.001],
      ['Tank1.Level', 1.5],
    ]);
  });

  it('a value that moved back within the deadband before the flush is not sent', () => {
    const { hub, set } = setup(TAGS);
    set('Line1.Speed', 0);
    const sink = new TestSink();
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['Line1.Speed'], deadband: 1 });
    hub.flush();
    sink.take();
    set('Line1.Speed', 5);
    set('Line1.Speed', 0.5);
    hub.flush();
    expect(sink.delivered).toEqual([]);
  });

  it('minIntervalMs: at most one message per interval, carrying the latest value', () => {
    const { hub, set, clock } = setup(TAGS);
    const sink = new TestSink();
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['Line1.Speed'], minIntervalMs: 200 });
    hub.flush();
    sink.take();
    for (let i = 1; i <= 10; i++) {
      set('Line1.Speed', i);
      hub.flush();
      clock.advance(10);
    }
    expect(sink.delivered).toEqual([]); // 100 ms after the snapshot: still inside the interval
    clock.advance(100);
    expect(sink.values()).toEqual([['Line1.Speed', 10]]);
  });

  it('splits a large snapshot into batches of maxBatchItems', () => {
    const defs = Array.from({ length: 25 }, (_, i) => def(`T${i}`));
    const { hub } = setup(defs, { maxBatchItems: 10 });
    const sink = new TestSink();
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['*'] });
    hub.flush();
    expect(sink.json().map((m) => (m.items as unknown[]).length)).toEqual([10, 10, 5]);
  });

  it('unsubscribe and dispose stop all delivery and leave nothing indexed', () => {
    const { hub, set } = setup(TAGS);
    const sink = new TestSink();
    const conn = hub.connect(sink, wsEncoder, ALL);
    conn.subscribe('a', { tags: ['Line1.Speed'] });
    conn.subscribe('b', { tags: ['Tank1.Level'] });
    hub.flush();
    sink.take();
    conn.unsubscribe('a');
    set('Line1.Speed', 1);
    set('Tank1.Level', 1);
    hub.flush();
    expect(sink.values()).toEqual([['Tank1.Level', 1]]);
    conn.dispose();
    set('Tank1.Level', 2);
    hub.flush();
    expect(hub.currentStats()).toMatchObject({ connections: 0, subscriptions: 0 });
    expect(sink.values()).toEqual([['Tank1.Level', 1]]);
  });

  it('re-authentication narrows and widens live subscriptions without repeating values', () => {
    const { hub, set } = setup(TAGS);
    const sink = new TestSink();
    const conn = hub.connect(sink, wsEncoder, perms({ permission: 'tags:read', tags: 'Line1.*' }));
    conn.subscribe('s', { tags: ['Line*.**'] });
    hub.flush();
    expect(sink.values().map(([n]) => n)).toEqual(['Line1.Speed']);
    sink.take();
    conn.setPermissions(perms({ permission: 'tags:read', tags: 'Line2.*' }, { permission: 'tags:read', tags: 'Line1.Speed' }));
    hub.flush();
    // Only the tags the client could not see before arrive as new; Line1.Speed is not repeated.
    expect(
      sink
        .values()
        .map(([n]) => n)
        .sort(),
    ).toEqual(['Line2.Mode', 'Line2.Speed']);
    sink.take();
    conn.setPermissions(perms({ permission: 'tags:read', tags: 'Line2.Speed' }));
    set('Line1.Speed', 7);
    set('Line2.Speed', 8);
    hub.flush();
    expect(sink.values()).toEqual([['Line2.Speed', 8]]);
  });
});

describe('PushHub backpressure', () => {
  it('a paused client gets coalesced latest values after it resumes; buffers stay bounded', () => {
    const defs = Array.from({ length: 50 }, (_, i) => def(`T${i}`));
    const { hub, clock, engine } = setup(defs, { highWaterBytes: 2_000, lowWaterBytes: 500 });
    const sink = new TestSink();
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['*'] });
    hub.flush();
    sink.take();
    sink.paused = true;
    let maxBuffered = 0;
    for (let round = 1; round <= 200; round++) {
      for (let i = 0; i < 50; i++) engine.update(i, round * 1000 + i, Quality.GOOD);
      hub.flush();
      clock.advance(10);
      maxBuffered = Math.max(maxBuffered, sink.bufferedAmount());
    }
    const stats = hub.currentStats();
    expect(stats.congested).toBe(1);
    expect(stats.pendingValues).toBeLessThanOrEqual(50); // one slot per tag, however many changes
    // Never more than the high-water mark plus the one message that crossed it.
    expect(maxBuffered).toBeLessThan(2_000 + 50 * 200);
    sink.resume();
    clock.advance(50); // the congestion poller sees the drain and flushes
    const last = new Map(sink.values());
    for (let i = 0; i < 50; i++) expect(last.get(`T${i}`)).toBe(200_000 + i);
    expect(hub.currentStats()).toMatchObject({ congested: 0, pendingValues: 0 });
  });

  it("resumes on the sink's drain signal without waiting for the congestion poll", () => {
    const { hub, set } = setup(TAGS, { highWaterBytes: 10, lowWaterBytes: 0 });
    const sink = new TestSink();
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['Line1.Speed'] });
    sink.paused = true;
    hub.flush();
    set('Line1.Speed', 5);
    set('Line1.Speed', 6);
    hub.flush();
    expect(hub.currentStats().congested).toBe(1);
    sink.resume(); // no clock.advance: the drain listener flushes
    expect(sink.values().at(-1)).toEqual(['Line1.Speed', 6]);
    expect(hub.currentStats()).toMatchObject({ congested: 0, pendingValues: 0 });
  });

  it('drops a client that does not drain within the stall timeout', () => {
    const { hub, clock, set } = setup(TAGS, { highWaterBytes: 10, lowWaterBytes: 0, stallTimeoutMs: 5_000 });
    const sink = new TestSink();
    sink.paused = true;
    hub.connect(sink, wsEncoder, ALL).subscribe('s', { tags: ['**'] });
    hub.flush();
    set('Line1.Speed', 3);
    hub.flush();
    clock.advance(4_900);
    expect(sink.closed).toBeUndefined();
    clock.advance(200);
    expect(sink.closed).toEqual({ code: PUSH_CLOSE.SLOW_CONSUMER, reason: expect.stringContaining('too slow') });
    expect(hub.currentStats()).toMatchObject({ connections: 0, congested: 0, droppedConnections: 1 });
  });
});

describe('PushHub alarms', () => {
  it('delivers alarm events in order, filtered and permission-checked', () => {
    const alarms = new MemoryAlarmSource();
    const { hub } = setup(TAGS, { alarms });
    const a = new TestSink();
    const b = new TestSink();
    hub.connect(a, wsEncoder, ALL).subscribeAlarms('a1', { minPriority: 5, alarm: 'Tank*.**' });
    hub.connect(b, wsEncoder, perms({ permission: 'alarms:read', tags: 'Line1.**' })).subscribeAlarms('b1', {});
    alarms.emit({ alarm: 'Tank1.High', priority: 10 });
    alarms.emit({ alarm: 'Tank1.Low', priority: 2 });
    alarms.emit({ alarm: 'Line1.Jam', tag: 'Line1.Speed', priority: 12 });
    alarms.emit({ alarm: 'Tank1.High', priority: 10, event: 'ACKNOWLEDGED', state: 'RAISED_ACKNOWLEDGED' });
    hub.flush();
    expect(a.json().map((m) => [m.type, m.id, (m.event as { eventId: number }).eventId])).toEqual([
      ['alarm', 'a1', 1],
      ['alarm', 'a1', 4],
    ]);
    expect(b.json().map((m) => (m.event as { alarm: string }).alarm)).toEqual(['Line1.Jam']);
  });

  it('needs an alarm source', () => {
    const { hub } = setup(TAGS);
    expect(code(() => hub.connect(new TestSink(), wsEncoder, ALL).subscribeAlarms('a', {}))).toBe('SERVICE_UNAVAILABLE');
  });

  it('keeps events in order up to the bound while congested, then tells the client to resync', () => {
    const alarms = new MemoryAlarmSource();
    const { hub, clock } = setup(TAGS, { alarms, maxQueuedAlarmEvents: 5, highWaterBytes: 100, lowWaterBytes: 0 });
    const sink = new TestSink();
    const conn = hub.connect(sink, wsEncoder, ALL);
    conn.subscribeAlarms('a1', {});
    sink.paused = true;
    alarms.emit({ alarm: 'A', text: 'x'.repeat(200) }); // crosses the high-water mark
    hub.flush();
    for (let i = 0; i < 4; i++) alarms.emit({ alarm: 'B' });
    hub.flush();
    expect(conn.queuedAlarmEvents).toBe(4);
    sink.resume();
    clock.advance(50);
    expect(sink.json().map((m) => (m.event as { eventId: number }).eventId)).toEqual([1, 2, 3, 4, 5]);
    sink.take();
    sink.paused = true;
    alarms.emit({ alarm: 'C', text: 'x'.repeat(200) });
    hub.flush();
    for (let i = 0; i < 7; i++) alarms.emit({ alarm: 'D' });
    expect(conn.queuedAlarmEvents).toBeLessThanOrEqual(6);
    sink.resume();
    clock.advance(50);
    const msgs = sink.json();
    expect(msgs[0]).toMatchObject({ type: 'alarm', event: { eventId: 6 } });
    expect(msgs[1]).toEqual({ type: 'resync', id: 'a1' });
    const after = msgs.slice(2).map((m) => (m.event as { eventId: number }).eventId);
    expect(after).toEqual([...after].sort((x, y) => x - y));
    expect(after.at(-1)).toBe(13);
    expect(hub.currentStats().resyncs).toBe(1);
  });

  it('with a store that answers later, holds live events back behind the replay, in journal order', async () => {
    const alarms = new MemoryAlarmSource();
    for (let i = 0; i < 3; i++) alarms.emit({ alarm: `A${i}` });
    // The journal answers asynchronously (as the alarm repository does); the replay is read when asked.
    const slow = Object.assign(Object.create(alarms) as MemoryAlarmSource, {
      eventsSince: (id: number, limit: number) => Promise.resolve(alarms.eventsSince(id, limit)),
    });
    const { hub } = setup(TAGS, { alarms: slow, maxQueuedAlarmEvents: 10 });
    const sink = new TestSink();
    const conn = hub.connect(sink, sseEncoder, ALL);
    conn.subscribeAlarms('sse', {}, { sinceEventId: 1 });
    alarms.emit({ alarm: 'Live' }); // arrives before the replay is in
    hub.flush();
    expect(sink.delivered).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    hub.flush();
    expect(sink.delivered.map((t) => /^id: (\d+)/.exec(t)?.[1])).toEqual(['2', '3', '4']);
    alarms.emit({ alarm: 'Later' });
    hub.flush();
    expect(sink.delivered.map((t) => /^id: (\d+)/.exec(t)?.[1])).toEqual(['2', '3', '4', '5']);
  });

  it('replays from an event id without duplicates, and SSE resync ends the stream', () => {
    const alarms = new MemoryAlarmSource();
    for (let i = 0; i < 5; i++) alarms.emit({ alarm: `A${i}` });
    const { hub } = setup(TAGS, { alarms, maxQueuedAlarmEvents: 3 });
    const sink = new TestSink();
    const conn = hub.connect(sink, sseEncoder, ALL);
    conn.subscribeAlarms('sse', {}, { sinceEventId: 1 });
    alarms.emit({ alarm: 'Live' });
    hub.flush();
    // A full page (3 = the limit) may not be all: the stream ends after it so that the client resumes.
    expect(sink.delivered.join('')).toBe(
      [2, 3, 4].map((id) => `id: ${id}\nevent: alarm\ndata: ${JSON.stringify(alarms.events[id - 1])}\n\n`).join(''),
    );
    expect(sink.closed?.code).toBe(PUSH_CLOSE.RESYNC);
    const sink2 = new TestSink();
    hub.connect(sink2, sseEncoder, ALL).subscribeAlarms('sse', {}, { sinceEventId: 4 });
    alarms.emit({ alarm: 'Live2' });
    hub.flush();
    expect(sink2.delivered.map((t) => /^id: (\d+)/.exec(t)?.[1])).toEqual(['5', '6', '7']);
    expect(sink2.closed).toBeUndefined();
  });
});
