import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Quality } from '../../../src/domain/quality.js';
import type { TagType, TagValue } from '../../../src/domain/tag-types.js';
import type { ConnectionState, DriverHost } from '../../../src/drivers/driver.js';
import { InternalDriver } from '../../../src/drivers/internal/driver.js';
import { SimulatorDriver, toType } from '../../../src/drivers/simulator/driver.js';
import { waveform } from '../../../src/drivers/simulator/waveforms.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { SimulationSpec, TagDefinition } from '../../../src/domain/tag-definition.js';
import { TagEngine, type TagChange } from '../../../src/runtime/tag-engine.js';
import { createLogger } from '../../../src/server/logger.js';
import { openDatabase, type Database } from '../../../src/storage/sqlite/database.js';
import type { KeyValueRepository } from '../../../src/storage/key-value-repository.js';
import { SqliteKeyValueRepository } from '../../../src/storage/sqlite/sqlite-key-value-repository.js';

const T0 = Date.UTC(2026, 0, 1);

/** A deterministic "random" source (a linear congruential generator) so that runs are reproducible. */
function seeded(seed = 42): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const spec = (kind: SimulationSpec['kind'], extra: Partial<SimulationSpec> = {}): SimulationSpec => ({ kind, cycleMs: 1000, ...extra });

describe('waveforms', () => {
  const times = Array.from({ length: 500 }, (_, i) => T0 + i * 137);

  it.each(['sine', 'ramp', 'square', 'random'] as const)('%s stays within min…max and reaches both ends', (kind) => {
    const s = spec(kind, { min: -5, max: 20, periodMs: 10_000 });
    const random = seeded();
    const xs = times.map((t) => waveform({ spec: s, t, previous: NaN, random }));
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(-5);
      expect(x).toBeLessThanOrEqual(20);
    }
    // Over several periods the wave covers its range (not stuck in the middle).
    expect(Math.min(...xs)).toBeLessThan(-5 + 25 * 0.1);
    expect(Math.max(...xs)).toBeGreaterThan(20 - 25 * 0.1);
  });

  it('default range is 0…100 and default period 60 s', () => {
    const s = spec('ramp');
    expect(waveform({ spec: s, t: 0, previous: NaN, random: Math.random })).toBe(0);
    expect(waveform({ spec: s, t: 30_000, previous: NaN, random: Math.random })).toBe(50);
    expect(waveform({ spec: s, t: 60_000, previous: NaN, random: Math.random })).toBe(0);
  });

  it('sine is periodic, square is max in the first half of the period and min in the second', () => {
    const s = spec('sine', { min: 0, max: 10, periodMs: 4000 });
    const at = (t: number, sp = s) => waveform({ spec: sp, t, previous: NaN, random: Math.random });
    expect(at(0)).toBeCloseTo(5);
    expect(at(1000)).toBeCloseTo(10);
    expect(at(3000)).toBeCloseTo(0);
    expect(at(T0 + 1000)).toBeCloseTo(at(T0 + 5000));
    const sq = spec('square', { min: 1, max: 3, periodMs: 4000 });
    expect([at(0, sq), at(1999, sq), at(2000, sq), at(3999, sq), at(4000, sq)]).toEqual([3, 3, 1, 1, 3]);
  });

  it('randomWalk moves at most one step from the previous value and stays in range', () => {
    const s = spec('randomWalk', { min: 0, max: 10, step: 0.5 });
    const random = seeded(7);
    let x = waveform({ spec: s, t: T0, previous: NaN, random });
    expect(Math.abs(x - 5)).toBeLessThanOrEqual(0.5); // starts in the middle
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const next = waveform({ spec: s, t: T0 + i, previous: x, random });
      expect(Math.abs(next - x)).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(next).toBeGreaterThanOrEqual(0);
      expect(next).toBeLessThanOrEqual(10);
      seen.add(Math.round(next));
      x = next;
    }
    expect(seen.size).toBeGreaterThan(3); // it does wander
  });

  it('counter starts at min, adds step per call and wraps to min after max', () => {
    const s = spec('counter', { min: 2, max: 8, step: 3 });
    const seq: number[] = [];
    let prev = NaN;
    for (let i = 0; i < 6; i++) {
      prev = waveform({ spec: s, t: T0, previous: prev, random: Math.random });
      seq.push(prev);
    }
    expect(seq).toEqual([2, 5, 8, 2, 5, 8]);
  });

  it('toType rounds and clamps to what the type can hold, in its wire form', () => {
    expect(toType('Int8', 300.4)).toBe(127);
    expect(toType('UInt16', -3)).toBe(0);
    expect(toType('Int16', 12.5)).toBe(13);
    expect(toType('Float32', 1.234567)).toBe(1.2346);
    expect(toType('Bool', 60, 0, 100)).toBe(true);
    expect(toType('Bool', 40, 0, 100)).toBe(false);
    expect(toType('Int64', 1e30)).toBe('9223372036854775807');
    expect(toType('UInt64', -1)).toBe('0');
    expect(toType('DateTime', T0)).toBe('2026-01-01T00:00:00.000Z');
  });
});

/** A host wired to a real TagEngine, recording connection states. */
function hostFor(engine: TagEngine, clock: ManualClock, kv?: KeyValueRepository): DriverHost & { states: ConnectionState[] } {
  const states: ConnectionState[] = [];
  return {
    clock,
    logger: createLogger('silent'),
    kv: kv as KeyValueRepository,
    update: (i, v, q, t) => engine.update(i, v, q, t),
    setQuality: (i, q, t) => engine.setQuality(i, q, t),
    state: (s) => {
      states.push(s);
    },
    states,
  };
}

const def = (name: string, type: TagType, extra: Partial<TagDefinition> = {}): TagDefinition => ({
  name,
  type,
  access: 'read',
  connection: 'c',
  ...extra,
});

describe('SimulatorDriver with a manual clock and a real tag engine', () => {
  function setup(defs: TagDefinition[], random = seeded()) {
    const clock = new ManualClock(T0);
    const engine = new TagEngine(defs, clock);
    const host = hostFor(engine, clock);
    const driver = new SimulatorDriver(engine.tags, host, random);
    engine.bindDriver('c', driver);
    const changes: TagChange[] = [];
    engine.onChange((c) => changes.push(c));
    const value = (name: string) => engine.get(name)!.value;
    return { clock, engine, host, driver, changes, value };
  }

  it('publishes GOOD values at start and moves them every cycle', async () => {
    const s = setup([
      def('Count', 'UInt16', { simulation: spec('counter', { cycleMs: 100, min: 0, max: 3 }) }),
      def('Level', 'Float64', { simulation: spec('ramp', { cycleMs: 100, periodMs: 1000, min: 0, max: 10 }) }),
    ]);
    await s.driver.start();
    expect(s.host.states).toEqual(['CONNECTED']);
    expect(s.engine.get('Count')!.quality).toBe(Quality.GOOD);
    const counts: TagValue[] = [s.value('Count')];
    const levels: TagValue[] = [s.value('Level')];
    for (let i = 0; i < 5; i++) {
      s.clock.advance(100);
      counts.push(s.value('Count'));
      levels.push(s.value('Level'));
    }
    expect(counts).toEqual([0, 1, 2, 3, 0, 1]); // wraps to min after max
    expect(levels).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.engine.get('Level')!.timestamp).toBe(T0 + 500);
    await s.driver.stop();
    expect(s.host.states).toEqual(['CONNECTED', 'DISCONNECTED']);
    const before = s.changes.length;
    s.clock.advance(1000);
    expect(s.changes.length).toBe(before); // no timer left after stop
  });

  it('updates each tag on its own cycle (tags grouped by cycle)', async () => {
    const s = setup([
      def('Fast', 'UInt32', { simulation: spec('counter', { cycleMs: 100, max: 1e6 }) }),
      def('Fast2', 'UInt32', { simulation: spec('counter', { cycleMs: 100, max: 1e6, step: 2 }) }),
      def('Slow', 'UInt32', { simulation: spec('counter', { cycleMs: 1000, max: 1e6 }) }),
    ]);
    await s.driver.start();
    s.clock.advance(999);
    expect([s.value('Fast'), s.value('Fast2'), s.value('Slow')]).toEqual([9, 18, 0]);
    s.clock.advance(1);
    expect([s.value('Fast'), s.value('Fast2'), s.value('Slow')]).toEqual([10, 20, 1]);
    expect(s.engine.get('Slow')!.timestamp).toBe(T0 + 1000);
    await s.driver.stop();
  });

  it('counts a 64-bit counter exactly with BigInt, beyond 2^53, wrapping to min', async () => {
    const s = setup([
      def('Big', 'Int64', {
        initial: '9007199254740991',
        simulation: spec('counter', { cycleMs: 100, step: 1, min: -5, max: 9007199254740994 }),
      }),
      def('U', 'UInt64', { simulation: spec('counter', { cycleMs: 100, step: 6 }) }),
      def('I', 'Int64', { simulation: spec('counter', { cycleMs: 100, step: 2 }) }),
    ]);
    await s.driver.start();
    const seq: TagValue[] = [s.value('Big')];
    for (let i = 0; i < 3; i++) {
      s.clock.advance(100);
      seq.push(s.value('Big'));
    }
    expect(seq).toEqual(['9007199254740992', '9007199254740993', '9007199254740994', '-5']);
    expect(s.value('U')).toBe('18'); // '0' at start, +6 per cycle, as a decimal string
    expect(s.value('I')).toBe('6'); // an Int64 counter without min also starts at 0, not at -2^63
    await s.driver.stop();
  });

  it('text cycles through its values, clock shows the time, constant holds the initial (or typed default) value', async () => {
    const s = setup([
      def('State', 'String', { simulation: spec('text', { cycleMs: 1000, values: ['A', 'B', 'C'] }) }),
      def('Clock', 'DateTime', { simulation: spec('clock', { cycleMs: 500 }) }),
      def('Const', 'Float64', { initial: 4.5, simulation: spec('constant', { cycleMs: 100 }) }),
      def('ConstText', 'String', { simulation: spec('constant', { cycleMs: 100 }) }),
      def('ConstBig', 'Int64', { simulation: spec('constant', { cycleMs: 100 }) }),
      def('ConstTime', 'DateTime', { simulation: spec('constant', { cycleMs: 100 }) }),
    ]);
    await s.driver.start();
    const states: TagValue[] = [s.value('State')];
    for (let i = 0; i < 3; i++) {
      s.clock.advance(1000);
      states.push(s.value('State'));
    }
    // T0 is a multiple of 3 s, so the sequence starts at the first value.
    expect(states).toEqual(['A', 'B', 'C', 'A']);
    expect(s.value('Clock')).toBe(new Date(T0 + 3000).toISOString());
    expect(s.value('Const')).toBe(4.5);
    expect(s.value('ConstText')).toBe('');
    expect(s.value('ConstBig')).toBe('0');
    expect(s.value('ConstTime')).toBe('1970-01-01T00:00:00.000Z');
    await s.driver.stop();
  });

  it('Bool and integer tags get values of their type', async () => {
    const s = setup([
      def('Run', 'Bool', { simulation: spec('square', { cycleMs: 100, periodMs: 400 }) }),
      def('Temp', 'Int8', { simulation: spec('randomWalk', { cycleMs: 100, min: -5, max: 45, step: 3 }) }),
    ]);
    await s.driver.start();
    const runs: TagValue[] = [];
    for (let i = 0; i < 8; i++) {
      runs.push(s.value('Run'));
      const t = s.value('Temp');
      expect(Number.isInteger(t)).toBe(true);
      expect(t).toBeGreaterThanOrEqual(-5);
      expect(t).toBeLessThanOrEqual(45);
      s.clock.advance(100);
    }
    expect(runs).toEqual([true, true, false, false, true, true, false, false]);
    await s.driver.stop();
  });

  it('a write sets the state the waveform continues from', async () => {
    const s = setup([def('Count', 'UInt16', { access: 'readwrite', simulation: spec('counter', { cycleMs: 100, max: 1000 }) })]);
    await s.driver.start();
    await s.engine.write(s.engine.get('Count')!, 500);
    expect(s.value('Count')).toBe(500);
    s.clock.advance(100);
    expect(s.value('Count')).toBe(501);
    expect(s.driver.stats()).toMatchObject({ writes: 1, errors: 0 });
    await s.driver.stop();
  });
});

describe('InternalDriver against a real SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagway-internal-'));
  const open: Database[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function boot(file: string, defs: TagDefinition[], clock = new ManualClock(T0)) {
    const db = openDatabase(join(dir, file));
    open.push(db);
    const engine = new TagEngine(defs, clock);
    const host = hostFor(engine, clock, new SqliteKeyValueRepository(db));
    const driver = new InternalDriver(engine.tags, host);
    engine.bindDriver('c', driver);
    return { db, engine, driver, host, clock, value: (n: string) => engine.get(n)!.value };
  }

  const DEFS = [
    def('SP', 'Float64', { access: 'readwrite', initial: 75, min: 0, max: 100 }),
    def('Count', 'Int16', { access: 'readwrite', initial: 1 }),
    def('Lot', 'UInt64', { access: 'readwrite', initial: '18446744073709551000' }),
    def('Recipe', 'String', { access: 'readwrite' }),
  ];

  it('starts at the initial values (or the type default), GOOD, and retains writes across a reopen', async () => {
    const a = boot('retain.db', DEFS);
    await a.driver.start();
    expect(a.host.states).toEqual(['CONNECTED']);
    expect([a.value('SP'), a.value('Count'), a.value('Lot'), a.value('Recipe')]).toEqual([75, 1, '18446744073709551000', '']);
    expect(a.engine.get('SP')!.quality).toBe(Quality.GOOD);
    a.clock.advance(5000);
    await a.engine.write(a.engine.get('SP')!, 42.5);
    await a.engine.write(a.engine.get('Lot')!, '18446744073709551615');
    await a.engine.write(a.engine.get('Recipe')!, 'Sparkling');
    await a.driver.stop();
    a.db.close();
    open.length = 0;

    const b = boot('retain.db', DEFS, new ManualClock(T0 + 60_000));
    await b.driver.start();
    expect([b.value('SP'), b.value('Count'), b.value('Lot'), b.value('Recipe')]).toEqual([42.5, 1, '18446744073709551615', 'Sparkling']);
    // A retained value keeps the time it was written; an initial one is stamped now.
    expect(b.engine.get('SP')!.timestamp).toBe(T0 + 5000);
    expect(b.engine.get('Count')!.timestamp).toBe(T0 + 60_000);
    await b.driver.stop();
  });

  it('a stored value that no longer fits the tag falls back to the initial value', async () => {
    const a = boot('changed.db', DEFS);
    await a.driver.start();
    await Promise.all([
      a.engine.write(a.engine.get('SP')!, 99),
      a.engine.write(a.engine.get('Count')!, 30000),
      a.engine.write(a.engine.get('Recipe')!, 'a long recipe name'),
    ]);
    await a.driver.stop();
    a.db.close();
    open.length = 0;

    // The project changed: SP's max is now 50, Count became an Int8, Recipe a Float64 — none of the stored values fit.
    const changed = [
      def('SP', 'Float64', { access: 'readwrite', initial: 10, max: 50 }),
      def('Count', 'Int8', { access: 'readwrite', initial: 2 }),
      def('Recipe', 'Float64', { access: 'readwrite' }),
    ];
    const b = boot('changed.db', changed);
    await b.driver.start();
    expect([b.value('SP'), b.value('Count'), b.value('Recipe')]).toEqual([10, 2, 0]);
    await b.driver.stop();
  });

  it('writes in the same tick are committed together, and each resolves only once stored', async () => {
    const a = boot('batch.db', DEFS);
    await a.driver.start();
    const rows = () =>
      a.db.prepare("SELECT key AS name, value, updated_at AS at FROM kv WHERE namespace = 'internal' ORDER BY key").all() as Array<{
        name: string;
        value: string;
        at: number;
      }>;
    const tags = ['SP', 'Count', 'Lot', 'Recipe'].map((n) => a.engine.get(n)!);
    const values: TagValue[] = [1.5, -7, '5', 'x'];
    const writes = tags.map((t, i) => a.driver.write(t, values[i]!));
    // Nothing is stored synchronously: the writes wait for the end of the tick and go in one transaction.
    expect(rows()).toEqual([]);
    await Promise.all(writes);
    expect(rows()).toEqual([
      { name: 'Count', value: '-7', at: T0 },
      { name: 'Lot', value: '"5"', at: T0 },
      { name: 'Recipe', value: '"x"', at: T0 },
      { name: 'SP', value: '1.5', at: T0 },
    ]);
    expect(a.driver.stats()).toEqual({ reads: 0, writes: 4, errors: 0 });
    await a.driver.stop();
  });

  it('stop commits writes still waiting for the end of the tick', async () => {
    const a = boot('stop.db', DEFS);
    await a.driver.start();
    const w = a.driver.write(a.engine.get('Count')!, 9);
    await a.driver.stop();
    await w;
    const row = a.db.prepare("SELECT value FROM kv WHERE namespace = 'internal' AND key = ?").get('Count') as { value: string };
    expect(row.value).toBe('9');
  });

  it('a failed commit rejects every write of the batch', async () => {
    const a = boot('fail.db', DEFS);
    await a.driver.start();
    a.db.exec('DROP TABLE kv');
    const results = await Promise.allSettled([a.driver.write(a.engine.get('SP')!, 1), a.driver.write(a.engine.get('Count')!, 2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(a.driver.stats()).toMatchObject({ writes: 0, errors: 1 });
  });
});
