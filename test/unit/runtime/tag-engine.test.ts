import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { coerceValue } from '../../../src/domain/coerce.js';
import { TagwayError } from '../../../src/domain/problems.js';
import { Quality } from '../../../src/domain/quality.js';
import { BIG_INTEGER_RANGES, INTEGER_RANGES, TAG_TYPES, type TagType, type TagValue } from '../../../src/domain/tag-types.js';
import type { Driver, DriverTag } from '../../../src/drivers/driver.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { TagDefinition } from '../../../src/domain/tag-definition.js';
import { TagEngine, type TagChange, type WriteEvent, type WriteObserver } from '../../../src/runtime/tag-engine.js';

const T0 = Date.UTC(2026, 0, 1);

/** A driver that records writes, can be told to fail, to hold writes pending, or to publish writes itself. */
class RecordingDriver implements Driver {
  readonly writes: { index: number; name: string; value: TagValue }[] = [];
  failure: Error | undefined;
  /** When set, writes wait until `release()` is called. */
  hold = false;
  private pending: (() => void)[] = [];
  started = false;

  constructor(
    readonly publishesWrites = false,
    private readonly engine?: TagEngine,
    private readonly clock?: ManualClock,
  ) {}

  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }

  failWith(message = 'PLC1 is disconnected'): void {
    this.failure = new TagwayError('DEVICE_UNAVAILABLE', message);
  }

  release(): void {
    for (const p of this.pending.splice(0)) p();
  }

  async write(tag: DriverTag, value: TagValue): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => this.pending.push(resolve));
    if (this.failure) throw this.failure;
    this.writes.push({ index: tag.index, name: tag.def.name, value });
    // A driver that publishes its writes reads the value back from the device (here: as written, marked by a quality).
    if (this.publishesWrites && this.engine) this.engine.update(tag.index, value, Quality.GOOD_NON_CASCADE, this.clock?.now());
  }
}

function def(name: string, type: TagType, extra: Partial<TagDefinition> = {}): TagDefinition {
  return { name, type, access: 'readwrite', connection: 'plc1', ...extra };
}

const DEFS: TagDefinition[] = [
  def('Line1.Speed', 'Float64', { min: 0, max: 100 }),
  def('Line1.Count', 'Int16'),
  def('Line1.Running', 'Bool'),
  def('Line1.Serial', 'UInt64', { max: '18446744073709551000' }),
  def('Line1.Name', 'String', { maxLength: 5 }),
  def('Line1.Stamp', 'DateTime'),
  def('Line1.Temp', 'Float32', { access: 'read' }),
  def('Line2.Speed', 'Float64', { connection: 'plc2' }),
  def('Tank1.Level', 'Int32', { initial: 7 }),
];

let clock: ManualClock;
let engine: TagEngine;
let driver: RecordingDriver;
let changes: TagChange[];

beforeEach(() => {
  clock = new ManualClock(T0);
  engine = new TagEngine(DEFS, clock);
  driver = new RecordingDriver();
  engine.bindDriver('plc1', driver);
  changes = [];
  engine.onChange((c) => changes.push({ ...c, tag: { ...c.tag } }));
});

const tag = (name: string) => engine.require(name);

async function rejection(p: Promise<unknown>): Promise<TagwayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TagwayError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('TagEngine: initial state', () => {
  it('holds every definition in order, found by name (case-sensitive)', () => {
    expect(engine.size).toBe(DEFS.length);
    expect(engine.tags.map((t) => t.def.name)).toEqual(DEFS.map((d) => d.name));
    expect(engine.tags.map((t) => t.index)).toEqual(DEFS.map((_, i) => i));
    expect(engine.get('Line1.Count')?.index).toBe(1);
    expect(engine.get('line1.count')).toBeUndefined();
  });

  it('require answers TAG_NOT_FOUND for unknown names', () => {
    expect(() => engine.require('Nope')).toThrowError(TagwayError);
    try {
      engine.require('Nope');
    } catch (err) {
      expect((err as TagwayError).code).toBe('TAG_NOT_FOUND');
      expect((err as TagwayError).status).toBe(404);
      expect((err as TagwayError).message).toBe("No tag named 'Nope'");
    }
  });

  it('starts UNCERTAIN INITIAL_VALUE with the type default or the configured initial value', () => {
    for (const t of engine.tags) {
      expect(t.quality).toBe(0x4c);
      expect(t.timestamp).toBe(T0);
    }
    expect(tag('Line1.Speed').value).toBe(0);
    expect(tag('Line1.Running').value).toBe(false);
    expect(tag('Line1.Serial').value).toBe('0');
    expect(tag('Line1.Name').value).toBe('');
    expect(tag('Line1.Stamp').value).toBe('1970-01-01T00:00:00.000Z');
    expect(tag('Tank1.Level').value).toBe(7);
    expect(engine.valueObject(tag('Line1.Count'))).toEqual({
      name: 'Line1.Count',
      value: 0,
      quality: 'UNCERTAIN',
      qualityCode: 76,
      subStatus: 'INITIAL_VALUE',
      timestamp: '2026-01-01T00:00:00.000Z',
    });
  });

  it('driverFor answers the driver bound to the tag connection', () => {
    expect(engine.driverFor(tag('Line1.Speed'))).toBe(driver);
    expect(engine.driverFor(tag('Line2.Speed'))).toBeUndefined();
  });
});

describe('TagEngine: update and setQuality', () => {
  it('update publishes a change with the previous value, quality and timestamp', () => {
    clock.advance(1000);
    engine.update(0, 12.5, Quality.GOOD);
    expect(changes).toHaveLength(1);
    const c = changes[0]!;
    expect(c.previousValue).toBe(0);
    expect(c.previousQuality).toBe(0x4c);
    expect(c.previousTimestamp).toBe(T0);
    expect(c.tag.value).toBe(12.5);
    expect(c.tag.quality).toBe(0xc0);
    expect(c.tag.timestamp).toBe(T0 + 1000);
    expect(tag('Line1.Speed').value).toBe(12.5);
  });

  it('update publishes only when value or quality changed', () => {
    engine.update(0, 12.5, Quality.GOOD);
    engine.update(0, 12.5, Quality.GOOD);
    engine.update(0, 12.5, Quality.GOOD, T0 + 5000);
    expect(changes).toHaveLength(1);
    expect(tag('Line1.Speed').timestamp).toBe(T0);
    engine.update(0, 13, Quality.GOOD);
    engine.update(0, 13, Quality.UNCERTAIN_LAST_USABLE_VALUE);
    expect(changes.map((c) => [c.previousValue, c.previousQuality, c.tag.value, c.tag.quality])).toEqual([
      [0, 0x4c, 12.5, 0xc0],
      [12.5, 0xc0, 13, 0xc0],
      [13, 0xc0, 13, 0x44],
    ]);
  });

  it('update treats a repeated NaN from a device as no change', () => {
    engine.update(0, NaN, Quality.GOOD);
    engine.update(0, NaN, Quality.GOOD);
    engine.update(0, NaN, Quality.GOOD);
    expect(changes).toHaveLength(1);
    engine.update(0, 1, Quality.GOOD);
    expect(changes).toHaveLength(2);
  });

  it('update uses the given timestamp, else the clock', () => {
    engine.update(1, 5, Quality.GOOD, 42);
    expect(tag('Line1.Count').timestamp).toBe(42);
    clock.advance(7);
    engine.update(1, 6, Quality.GOOD);
    expect(tag('Line1.Count').timestamp).toBe(T0 + 7);
  });

  it('update and setQuality ignore unknown indexes', () => {
    engine.update(999, 1, Quality.GOOD);
    engine.update(-1, 1, Quality.GOOD);
    engine.setQuality(999, Quality.BAD_NOT_CONNECTED);
    expect(changes).toHaveLength(0);
  });

  it('setQuality keeps the value and publishes only on a quality change', () => {
    engine.update(0, 55, Quality.GOOD);
    clock.advance(10);
    engine.setQuality(0, Quality.BAD_NOT_CONNECTED);
    engine.setQuality(0, Quality.BAD_NOT_CONNECTED);
    expect(changes).toHaveLength(2);
    const c = changes[1]!;
    expect([c.previousValue, c.previousQuality, c.tag.value, c.tag.quality, c.tag.timestamp]).toEqual([55, 0xc0, 55, 0x08, T0 + 10]);
    expect(engine.valueObject(tag('Line1.Speed'))).toMatchObject({ value: 55, quality: 'BAD', qualityCode: 8, subStatus: 'NOT_CONNECTED' });
  });

  it('a throwing listener neither stops other listeners nor the update', () => {
    const seen: number[] = [];
    engine.onChange(() => {
      throw new Error('boom');
    });
    engine.onChange((c) => seen.push(c.tag.value as number));
    engine.update(1, 3, Quality.GOOD);
    expect(seen).toEqual([3]);
    expect(changes).toHaveLength(1);
    expect(tag('Line1.Count').value).toBe(3);
  });

  it('an unsubscribed listener hears nothing more; unsubscribing during a publish is safe', () => {
    const seen: number[] = [];
    const off = engine.onChange((c) => seen.push(c.tag.value as number));
    let offSelf: () => void = () => {};
    const selfSeen: number[] = [];
    offSelf = engine.onChange((c) => {
      selfSeen.push(c.tag.value as number);
      offSelf();
    });
    engine.update(1, 1, Quality.GOOD);
    off();
    engine.update(1, 2, Quality.GOOD);
    expect(seen).toEqual([1]);
    expect(selfSeen).toEqual([1]);
    expect(changes.map((c) => c.tag.value)).toEqual([1, 2]);
  });
});

describe('TagEngine: write', () => {
  it('validates, hands the coerced value to the driver and publishes it GOOD once accepted', async () => {
    clock.advance(500);
    const t = await engine.write(tag('Line1.Serial'), 12345);
    expect(t).toBe(tag('Line1.Serial'));
    expect(driver.writes).toEqual([{ index: 3, name: 'Line1.Serial', value: '12345' }]);
    expect(t.value).toBe('12345');
    expect(t.quality).toBe(0xc0);
    expect(t.timestamp).toBe(T0 + 500);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ previousValue: '0', previousQuality: 0x4c });
  });

  it('publishes nothing before the driver accepted the write', async () => {
    driver.hold = true;
    const p = engine.write(tag('Line1.Count'), 42);
    await Promise.resolve();
    clock.advance(250);
    expect(tag('Line1.Count').value).toBe(0);
    expect(tag('Line1.Count').quality).toBe(0x4c);
    expect(changes).toHaveLength(0);
    driver.release();
    await p;
    expect(tag('Line1.Count').value).toBe(42);
    expect(tag('Line1.Count').timestamp).toBe(T0 + 250); // the time of acceptance
    expect(changes).toHaveLength(1);
  });

  it('normalises values: DateTime to UTC with ms, -0 to 0', async () => {
    await engine.write(tag('Line1.Stamp'), '2026-11-25T05:00:00+01:00');
    expect(tag('Line1.Stamp').value).toBe('2026-11-25T04:00:00.000Z');
    await engine.write(tag('Line1.Count'), -0);
    expect(Object.is(tag('Line1.Count').value, 0)).toBe(true);
    expect(driver.writes.map((w) => w.value)).toEqual(['2026-11-25T04:00:00.000Z', 0]);
  });

  it.each([
    ['Line1.Temp', 1.5, 'READ_ONLY', 409],
    ['Line1.Count', '12', 'TYPE_MISMATCH', 422],
    ['Line1.Count', 1.5, 'TYPE_MISMATCH', 422],
    ['Line1.Count', null, 'TYPE_MISMATCH', 422],
    ['Line1.Count', 40000, 'OUT_OF_RANGE', 422],
    ['Line1.Speed', 100.5, 'OUT_OF_RANGE', 422],
    ['Line1.Speed', -1, 'OUT_OF_RANGE', 422],
    ['Line1.Serial', '18446744073709551001', 'OUT_OF_RANGE', 422],
    ['Line1.Name', 'toolong', 'OUT_OF_RANGE', 422],
    ['Line1.Running', 'true', 'TYPE_MISMATCH', 422],
    ['Line1.Stamp', '2026-02-30T00:00:00Z', 'TYPE_MISMATCH', 422],
  ] as const)('refuses %s := %j with %s and changes nothing', async (name, value, code, status) => {
    const observed: Parameters<WriteObserver>[0][] = [];
    engine.onWrite((e) => {
      observed.push(e);
    });
    const before = { ...tag(name) };
    const err = await rejection(engine.write(tag(name), value, { user: 'op' }));
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.message).toContain(`'${name}'`);
    expect({ ...tag(name) }).toEqual(before);
    expect(driver.writes).toEqual([]);
    expect(changes).toEqual([]);
    expect(observed).toHaveLength(1);
    expect(observed[0]).toMatchObject({ ok: false, newValue: undefined, oldValue: before.value, error: err.message, ctx: { user: 'op' } });
  });

  it('validate alone checks without writing', () => {
    expect(engine.validate(tag('Line1.Speed'), 100)).toBe(100);
    expect(() => engine.validate(tag('Line1.Speed'), 101)).toThrowError(/above the maximum 100/);
    expect(() => engine.validate(tag('Line1.Temp'), 1)).toThrowError("Tag 'Line1.Temp' is read-only");
    expect(driver.writes).toEqual([]);
  });

  it('a device failure (DEVICE_UNAVAILABLE) changes nothing and is reported to observers', async () => {
    engine.update(1, 5, Quality.GOOD);
    changes.length = 0;
    const observed: Parameters<WriteObserver>[0][] = [];
    engine.onWrite((e) => {
      observed.push(e);
    });
    driver.failWith('PLC1 is disconnected');
    const err = await rejection(engine.write(tag('Line1.Count'), 6, { user: 'op', clientAddress: '10.0.0.7' }));
    expect(err.code).toBe('DEVICE_UNAVAILABLE');
    expect(err.status).toBe(503);
    expect(tag('Line1.Count').value).toBe(5);
    expect(tag('Line1.Count').quality).toBe(0xc0);
    expect(changes).toEqual([]);
    expect(observed).toEqual([
      {
        tag: tag('Line1.Count'),
        oldValue: 5,
        newValue: 6,
        ok: false,
        error: 'PLC1 is disconnected',
        ctx: { user: 'op', clientAddress: '10.0.0.7' },
      },
    ]);
  });

  it('a tag whose connection has no running driver answers DEVICE_UNAVAILABLE', async () => {
    const err = await rejection(engine.write(tag('Line2.Speed'), 1));
    expect(err.code).toBe('DEVICE_UNAVAILABLE');
    expect(err.message).toBe("Connection 'plc2' of tag 'Line2.Speed' is not running");
    expect(tag('Line2.Speed').value).toBe(0);
  });

  it('write observers see successful writes with old and new value and the context', async () => {
    const observed: Parameters<WriteObserver>[0][] = [];
    const off = engine.onWrite((e) => {
      observed.push(e);
    });
    await engine.write(tag('Line1.Count'), 7, { user: 'alice' });
    await engine.write(tag('Line1.Count'), 8);
    off();
    await engine.write(tag('Line1.Count'), 9);
    expect(observed.map(({ oldValue, newValue, ok, error, ctx }) => ({ oldValue, newValue, ok, error, ctx }))).toEqual([
      { oldValue: 0, newValue: 7, ok: true, error: undefined, ctx: { user: 'alice' } },
      { oldValue: 7, newValue: 8, ok: true, error: undefined, ctx: {} },
    ]);
  });

  it('a throwing write observer does not break the write', async () => {
    engine.onWrite(() => {
      throw new Error('audit down');
    });
    await engine.write(tag('Line1.Count'), 3);
    expect(tag('Line1.Count').value).toBe(3);
    driver.failWith();
    expect((await rejection(engine.write(tag('Line1.Count'), 4))).code).toBe('DEVICE_UNAVAILABLE');
  });

  it('respects publishesWrites: the engine leaves publishing to the driver', async () => {
    const self = new RecordingDriver(true, engine, clock);
    engine.bindDriver('plc2', self);
    clock.advance(20);
    await engine.write(tag('Line2.Speed'), 3.25);
    expect(self.writes).toEqual([{ index: 7, name: 'Line2.Speed', value: 3.25 }]);
    expect(changes).toHaveLength(1); // only the driver's own update, not a second one by the engine
    expect(tag('Line2.Speed').value).toBe(3.25);
    expect(tag('Line2.Speed').quality).toBe(Quality.GOOD_NON_CASCADE); // the driver's quality, not the engine's GOOD
  });

  it('with publishesWrites and a driver that does not publish, the value stays until the device reports it', async () => {
    const silent = new RecordingDriver(true); // no engine: never publishes
    engine.bindDriver('plc2', silent);
    await engine.write(tag('Line2.Speed'), 9);
    expect(silent.writes).toHaveLength(1);
    expect(tag('Line2.Speed').value).toBe(0);
    expect(changes).toHaveLength(0);
  });
});

describe('TagEngine: value JSON', () => {
  it('renders the value object as JSON and caches it until the next change', () => {
    const t = tag('Line1.Speed');
    expect(t.json).toBeUndefined();
    const s = engine.valueJson(t);
    expect(s).toBe(
      '{"name":"Line1.Speed","value":0,"quality":"UNCERTAIN","qualityCode":76,"subStatus":"INITIAL_VALUE","timestamp":"2026-01-01T00:00:00.000Z"}',
    );
    expect(t.json).toBe(s);
    expect(engine.valueJson(t)).toBe(s);
    engine.update(0, 1.5, Quality.GOOD, T0 + 1);
    expect(t.json).toBeUndefined();
    expect(engine.valueJson(t)).toBe(
      '{"name":"Line1.Speed","value":1.5,"quality":"GOOD","qualityCode":192,"subStatus":"NON_SPECIFIC","timestamp":"2026-01-01T00:00:00.001Z"}',
    );
    engine.setQuality(0, Quality.BAD_NO_COMMUNICATION, T0 + 2);
    expect(engine.valueJson(t)).toBe(
      '{"name":"Line1.Speed","value":1.5,"quality":"BAD","qualityCode":24,"subStatus":"NO_COMMUNICATION_NO_USABLE_VALUE","timestamp":"2026-01-01T00:00:00.002Z"}',
    );
  });

  it('the cache is invalidated by a write', async () => {
    const t = tag('Line1.Name');
    const before = engine.valueJson(t);
    await engine.write(t, 'ab"c');
    const after = engine.valueJson(t);
    expect(after).not.toBe(before);
    expect(JSON.parse(after)).toMatchObject({ value: 'ab"c', quality: 'GOOD' });
  });

  it('is not changed by an update without change', () => {
    const t = tag('Line1.Count');
    engine.update(1, 1, Quality.GOOD);
    const s = engine.valueJson(t);
    engine.update(1, 1, Quality.GOOD, T0 + 99);
    expect(t.json).toBe(s);
  });

  /** Any UTF-16 unit (lone surrogates included), astral characters, and the characters JSON must escape. */
  const anyChar = fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
    fc.constantFrom('"', '\\', '\n', '\u2028', '/', '\u0000'),
  );
  const anyString = (maxLength: number) => fc.string({ unit: anyChar, maxLength });

  /** A valid wire value of each type, built by coercing generated input. */
  function valueOf(t: TagType): fc.Arbitrary<TagValue> {
    const coerced = (a: fc.Arbitrary<unknown>) =>
      a.map((v) => {
        const r = coerceValue(t, v);
        if (!r.ok) throw new Error(`generator produced an invalid ${t}: ${String(v)}`);
        return r.value;
      });
    switch (t) {
      case 'Bool':
        return fc.boolean();
      case 'Int8':
      case 'UInt8':
      case 'Int16':
      case 'UInt16':
      case 'Int32':
      case 'UInt32':
        return coerced(fc.integer({ min: INTEGER_RANGES[t].min, max: INTEGER_RANGES[t].max }));
      case 'Int64':
      case 'UInt64':
        return coerced(fc.bigInt({ min: BIG_INTEGER_RANGES[t].min, max: BIG_INTEGER_RANGES[t].max }).map(String));
      case 'Float32':
        return coerced(fc.float({ noNaN: true, noDefaultInfinity: true }));
      case 'Float64':
        return coerced(fc.double({ noNaN: true, noDefaultInfinity: true }));
      case 'String':
        return anyString(20);
      case 'DateTime':
        return coerced(
          fc.date({ min: new Date(-62135596800000), max: new Date(253402300799999), noInvalidDate: true }).map((d) => d.toISOString()),
        );
    }
  }

  it('property: valueJson equals JSON.stringify(valueObject) for random values of every type', () => {
    const name = fc.oneof(fc.constantFrom('Line1.Speed', 'DB1[3].Value', 'Pump #1/Motor (A)'), anyString(15));
    const sample = fc.oneof(
      ...TAG_TYPES.map((t) =>
        fc.record({
          type: fc.constant(t),
          name,
          value: valueOf(t),
          quality: fc.integer({ min: 0, max: 255 }),
          timestamp: fc.integer({ min: -62135596800000, max: 253402300799999 }),
        }),
      ),
    );
    fc.assert(
      fc.property(sample, ({ type, name: n, value, quality, timestamp }) => {
        // The clock starts at `timestamp` so that the expected timestamp holds whether or not the update changed anything.
        const e = new TagEngine([def(n, type)], new ManualClock(timestamp));
        const t = e.tags[0]!;
        e.update(0, value, quality, timestamp);
        const json = e.valueJson(t);
        const obj = e.valueObject(t);
        if (json !== JSON.stringify(obj)) return false;
        // …and the object carries what was put in.
        return (
          Object.is(obj.value, value) &&
          obj.qualityCode === quality &&
          obj.timestamp === new Date(timestamp).toISOString() &&
          obj.name === n &&
          JSON.parse(json).name === n
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('property: after any sequence of updates, valueJson reflects the last change', () => {
    const step = fc.record({
      value: fc.integer({ min: -5, max: 5 }),
      quality: fc.constantFrom(0xc0, 0x08, 0x4c),
      dt: fc.integer({ min: 0, max: 3 }),
      read: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
        const c = new ManualClock(T0);
        const e = new TagEngine([def('X', 'Int8')], c);
        const t = e.tags[0]!;
        let published = 0;
        e.onChange(() => published++);
        let expected = 0;
        let last = { value: 0, quality: 0x4c };
        for (const s of steps) {
          c.advance(s.dt);
          e.update(0, s.value, s.quality);
          if (s.value !== last.value || s.quality !== last.quality) {
            expected++;
            last = { value: s.value, quality: s.quality };
          }
          if (s.read) e.valueJson(t); // reads interleaved with changes
        }
        return published === expected && e.valueJson(t) === JSON.stringify(e.valueObject(t)) && t.value === last.value;
      }),
      { numRuns: 300 },
    );
  });
});

describe('RecordingDriver (test double sanity)', () => {
  it('starts and stops', async () => {
    const d = new RecordingDriver();
    await d.start();
    expect(d.started).toBe(true);
    await d.stop();
    expect(d.started).toBe(false);
  });
});

describe('TagEngine: writeMany (bulk writes)', () => {
  it('writes each item alone through a driver without writeMany; failures stay per item; observers hear once', async () => {
    const batches: Array<readonly WriteEvent[]> = [];
    const single: WriteEvent[] = [];
    engine.onWrites((events) => {
      batches.push(events);
    });
    engine.onWrite((e) => {
      single.push(e);
    });
    const errors = await engine.writeMany(
      [
        { tag: tag('Line1.Speed'), raw: 42 },
        { tag: tag('Line1.Count'), raw: 1.5 },
        { tag: tag('Line2.Speed'), raw: 1 },
        { tag: tag('Line1.Running'), raw: true },
      ],
      { user: 'op' },
    );
    expect(errors.map((e) => (e === undefined ? 'OK' : (e as TagwayError).code))).toEqual([
      'OK',
      'TYPE_MISMATCH',
      'DEVICE_UNAVAILABLE',
      'OK',
    ]);
    expect(driver.writes.map((w) => [w.name, w.value])).toEqual([
      ['Line1.Speed', 42],
      ['Line1.Running', true],
    ]);
    expect(tag('Line1.Speed')).toMatchObject({ value: 42, quality: Quality.GOOD });
    expect(tag('Line1.Count').value).toBe(0);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((e) => [e.tag.def.name, e.ok, e.newValue])).toEqual([
      ['Line1.Speed', true, 42],
      ['Line1.Count', false, undefined],
      ['Line2.Speed', false, 1],
      ['Line1.Running', true, true],
    ]);
    expect(single).toHaveLength(4);
  });

  it('hands a driver with writeMany all its items in one call, all or none', async () => {
    const calls: Array<Array<[string, TagValue]>> = [];
    let fail = false;
    const batching: Driver = {
      start: async () => undefined,
      stop: async () => undefined,
      write: async () => {
        throw new Error('write called instead of writeMany');
      },
      writeMany: async (tags, values) => {
        if (fail) throw new TagwayError('DEVICE_UNAVAILABLE', 'storage refused');
        calls.push(tags.map((t, i) => [t.def.name, values[i]!]));
      },
    };
    engine.bindDriver('plc1', batching);
    const items = [
      { tag: tag('Line1.Speed'), raw: 10 },
      { tag: tag('Line1.Count'), raw: 3 },
    ];
    expect(await engine.writeMany(items)).toEqual([undefined, undefined]);
    expect(calls).toEqual([
      [
        ['Line1.Speed', 10],
        ['Line1.Count', 3],
      ],
    ]);
    expect([tag('Line1.Speed').value, tag('Line1.Count').value]).toEqual([10, 3]);
    fail = true;
    const errors = await engine.writeMany([
      { tag: tag('Line1.Speed'), raw: 20 },
      { tag: tag('Line1.Count'), raw: 4 },
    ]);
    expect(errors.map((e) => (e as TagwayError).code)).toEqual(['DEVICE_UNAVAILABLE', 'DEVICE_UNAVAILABLE']);
    expect([tag('Line1.Speed').value, tag('Line1.Count').value]).toEqual([10, 3]);
  });
});
