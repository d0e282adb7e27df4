import { coerceValue } from '../domain/coerce.js';
import { TagwayError } from '../domain/problems.js';
import { Quality, qualityName, subStatusName } from '../domain/quality.js';
import { defaultValue, type TagValue } from '../domain/tag-types.js';
import type { CommitRider, Driver } from '../drivers/driver.js';
import type { Clock } from '../domain/clock.js';
import { sameValue } from '../domain/same-value.js';
import type { TagDefinition } from '../domain/tag-definition.js';
import { DurabilityLostError } from '../storage/errors.js';

/** The live state of one tag. Mutated in place by the engine; never mutate it elsewhere. */
export interface TagState {
  readonly index: number;
  readonly def: TagDefinition;
  value: TagValue;
  quality: number;
  /** Epoch milliseconds of the last change of value or quality. */
  timestamp: number;
  /** The value object as JSON, built on the first read after a change (reads vastly outnumber changes). */
  json: string | undefined;
  /** The same as UTF-8 bytes, for bulk answers assembled by copying bytes rather than joining strings. */
  bytes?: Buffer | undefined;
}

export interface TagChange {
  readonly tag: TagState;
  readonly previousValue: TagValue;
  readonly previousQuality: number;
  readonly previousTimestamp: number;
}

export type ChangeListener = (change: TagChange) => void;

/** The JSON value object of the API: `{name,value,quality,qualityCode,subStatus,timestamp}`. */
export interface ValueObject {
  name: string;
  value: TagValue;
  quality: 'GOOD' | 'UNCERTAIN' | 'BAD';
  qualityCode: number;
  subStatus: string;
  timestamp: string;
}

const qualityJsonCache = new Map<number, string>();
function qualityJson(code: number): string {
  let s = qualityJsonCache.get(code);
  if (s === undefined) {
    s = `"quality":"${qualityName(code)}","qualityCode":${code},"subStatus":"${subStatusName(code)}"`;
    qualityJsonCache.set(code, s);
  }
  return s;
}

export interface WriteContext {
  /** Who writes, for the audit trail. */
  user?: string | undefined;
  clientAddress?: string | undefined;
  /**
   * The time and quality the written value carries (WinCC Unified's writeTagValues). Honoured where the engine
   * applies the value itself (drivers that do not publish their writes: internal tags); a device sets its own.
   */
  timestamp?: number | undefined;
  quality?: number | undefined;
}

/**
 * Sees every client write attempt. An observer that must persist something (the audit trail) returns a promise:
 * the write is answered only once it settled, so nothing is reported to a client before it is on record.
 */
export interface WriteEvent {
  tag: TagState;
  oldValue: TagValue;
  newValue: TagValue | undefined;
  ok: boolean;
  error?: string | undefined;
  ctx: WriteContext;
  /**
   * Set when the write's record was prepared before the value was stored and committed with it (`prepareWrites`):
   * settles once that record is committed and synced. The observer that prepared it waits for this instead of
   * recording the write again.
   */
  recorded?: Promise<void> | undefined;
}

/** A write's record prepared before its value is stored (see `TagEngine.prepareWrites`). */
export interface PreparedWrite {
  rider: CommitRider;
  /** Settles once the record is committed and synced; rejects when the value (and so the record) was refused. */
  recorded: Promise<void>;
}
export type WritePreparer = (event: WriteEvent) => PreparedWrite | undefined;
export type WriteObserver = (event: WriteEvent) => void | Promise<void>;
/** Sees the attempts of one request together (one event for a single write): one promise for a bulk write. */
export type WriteBatchObserver = (events: readonly WriteEvent[]) => void | Promise<void>;

/**
 * Holds value, quality and timestamp of every tag; the single place where values change.
 * Drivers feed it (`update`, `setQuality`); clients write through it (`write`), which validates strictly,
 * hands the value to the tag's driver and publishes it once the device has accepted it.
 */
export class TagEngine {
  readonly tags: TagState[] = [];
  private readonly byName = new Map<string, TagState>();
  private readonly drivers = new Map<string, Driver>();
  private listeners: ChangeListener[] = [];
  private writeObservers: WriteObserver[] = [];
  private batchObservers: WriteBatchObserver[] = [];
  private preparer: WritePreparer | undefined;

  constructor(
    definitions: readonly TagDefinition[],
    private readonly clock: Clock,
  ) {
    const now = clock.now();
    for (const def of definitions) {
      const state: TagState = {
        index: this.tags.length,
        def,
        value: def.initial ?? defaultValue(def.type),
        quality: Quality.UNCERTAIN_INITIAL_VALUE,
        timestamp: now,
        json: undefined,
      };
      this.tags.push(state);
      this.byName.set(def.name, state);
    }
  }

  get size(): number {
    return this.tags.length;
  }

  get(name: string): TagState | undefined {
    return this.byName.get(name);
  }

  /** The tag or TAG_NOT_FOUND. */
  require(name: string): TagState {
    const t = this.byName.get(name);
    if (!t) throw new TagwayError('TAG_NOT_FOUND', `No tag named '${name}'`);
    return t;
  }

  bindDriver(connection: string, driver: Driver): void {
    this.drivers.set(connection, driver);
  }

  /** Forgets a connection's driver (a connection removed by a live reload). */
  unbindDriver(connection: string): void {
    this.drivers.delete(connection);
  }

  /**
   * Gives a tag a new definition in place, keeping its value, quality and timestamp: a live reload of a new
   * address, options or scaling. Any other difference needs a restart and throws.
   */
  replaceDefinition(def: TagDefinition): TagState {
    const tag = this.require(def.name);
    const keys = new Set([...Object.keys(tag.def), ...Object.keys(def)]);
    for (const k of keys) {
      if (k === 'address' || k === 'options' || k === 'scaling') continue;
      if (!sameValue((tag.def as unknown as Record<string, unknown>)[k], (def as unknown as Record<string, unknown>)[k])) {
        throw new Error(`tag '${def.name}': '${k}' cannot change without a restart`);
      }
    }
    (tag as { def: TagDefinition }).def = def;
    return tag;
  }

  driverFor(tag: TagState): Driver | undefined {
    return this.drivers.get(tag.def.connection);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Observes every client write attempt (audit trail). */
  onWrite(observer: WriteObserver): () => void {
    this.writeObservers.push(observer);
    return () => {
      this.writeObservers = this.writeObservers.filter((o) => o !== observer);
    };
  }

  /** Observes every client write attempt, a request's attempts together (the audit trail). */
  onWrites(observer: WriteBatchObserver): () => void {
    this.batchObservers.push(observer);
    return () => {
      this.batchObservers = this.batchObservers.filter((o) => o !== observer);
    };
  }

  /**
   * Lets one observer (the audit trail) prepare a single write's record before the value reaches a driver that
   * commits riders (internal tags): the record then commits in the value's transaction, all or none, and the write
   * waits for one commit instead of two. It sees the write as succeeding; if the value is refused, the record is not
   * stored and the observers hear of the failure as usual. Returning undefined records the write the usual way.
   */
  prepareWrites(preparer: WritePreparer): () => void {
    this.preparer = preparer;
    return () => {
      if (this.preparer === preparer) this.preparer = undefined;
    };
  }

  /** A new value (and quality) from a device. Publishes only when value or quality changed. */
  update(index: number, value: TagValue, quality: number, timestamp = this.clock.now()): void {
    const tag = this.tags[index];
    if (!tag) return;
    // NaN !== NaN: a float register that keeps reading NaN is no change either (0 and -0 stay equal).
    if ((tag.value === value || (value !== value && tag.value !== tag.value)) && tag.quality === quality) return;
    this.apply(tag, value, quality, timestamp);
  }

  /** New quality keeping the last value, e.g. BAD NOT_CONNECTED when a link drops. */
  setQuality(index: number, quality: number, timestamp = this.clock.now()): void {
    const tag = this.tags[index];
    if (!tag || tag.quality === quality) return;
    this.apply(tag, tag.value, quality, timestamp);
  }

  private apply(tag: TagState, value: TagValue, quality: number, timestamp: number): void {
    const change: TagChange = { tag, previousValue: tag.value, previousQuality: tag.quality, previousTimestamp: tag.timestamp };
    tag.value = value;
    tag.quality = quality;
    tag.timestamp = timestamp;
    tag.json = undefined;
    tag.bytes = undefined;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!(change);
      } catch {
        /* a faulty listener must not stop the others or the driver */
      }
    }
  }

  /**
   * Checks a client value against the tag's type and limits without writing it.
   * Throws TagwayError READ_ONLY / TYPE_MISMATCH / OUT_OF_RANGE.
   */
  validate(tag: TagState, raw: unknown): TagValue {
    if (tag.def.access !== 'readwrite') throw new TagwayError('READ_ONLY', `Tag '${tag.def.name}' is read-only`);
    const r = coerceValue(tag.def.type, raw, tag.def);
    if (!r.ok) throw new TagwayError(r.code, `Tag '${tag.def.name}': ${r.message}`);
    return r.value;
  }

  /** Validates and writes a value; resolves with the tag once the device accepted it. */
  async write(tag: TagState, raw: unknown, ctx: WriteContext = {}): Promise<TagState> {
    const oldValue = tag.value;
    let value: TagValue | undefined;
    let notDurable: DurabilityLostError;
    try {
      value = this.validate(tag, raw);
      const driver = this.drivers.get(tag.def.connection);
      if (!driver)
        throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${tag.def.connection}' of tag '${tag.def.name}' is not running`);
      const prepared =
        driver.commitsRiders === true && this.preparer !== undefined
          ? this.preparer({ tag, oldValue, newValue: value, ok: true, error: undefined, ctx })
          : undefined;
      const storedAt = await (prepared === undefined ? driver.write(tag, value) : driver.write(tag, value, prepared.rider));
      if (!driver.publishesWrites)
        this.apply(tag, value, ctx.quality ?? Quality.GOOD, ctx.timestamp ?? (typeof storedAt === 'number' ? storedAt : this.clock.now()));
      const lost = await this.notifyWrites([
        { tag, oldValue, newValue: value, ok: true, error: undefined, ctx, recorded: prepared?.recorded },
      ]);
      if (lost === undefined || driver.commitsRiders !== true) return tag;
      notDurable = lost;
    } catch (err) {
      await this.notifyWrite(tag, oldValue, value, false, err instanceof Error ? err.message : String(err), ctx);
      throw err;
    }
    // Its value is stored in Tagway's storage, and the sync that was to make it durable failed: not answered as
    // written (already recorded as written, so not recorded again as failed).
    throw notDurable;
  }

  /**
   * Validates and writes many values (a bulk write): each item succeeds or fails alone; a driver that can takes its
   * items in one call (`writeMany`: one commit for internal tags), and observers hear of the request once, after
   * every item settled. Resolves with each item's error in input order, undefined for a written one.
   */
  async writeMany(writes: ReadonlyArray<{ tag: TagState; raw: unknown }>, ctx: WriteContext = {}): Promise<unknown[]> {
    const n = writes.length;
    const errors = new Array<unknown>(n).fill(undefined);
    const values = new Array<TagValue | undefined>(n);
    const oldValues = new Array<TagValue>(n);
    let byDriver: Map<Driver, number[]> | undefined;
    for (let i = 0; i < n; i++) {
      const tag = writes[i]!.tag;
      oldValues[i] = tag.value;
      try {
        values[i] = this.validate(tag, writes[i]!.raw);
        const driver = this.drivers.get(tag.def.connection);
        if (!driver)
          throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${tag.def.connection}' of tag '${tag.def.name}' is not running`);
        byDriver ??= new Map();
        const list = byDriver.get(driver);
        if (list === undefined) byDriver.set(driver, [i]);
        else list.push(i);
      } catch (err) {
        errors[i] = err;
      }
    }
    if (byDriver !== undefined) {
      const groups: Array<Promise<void>> = [];
      for (const [driver, list] of byDriver) groups.push(this.writeGroup(driver, list, writes, values, errors));
      await Promise.all(groups);
    }
    const events = new Array<WriteEvent>(n);
    for (let i = 0; i < n; i++) {
      const err = errors[i];
      events[i] = {
        tag: writes[i]!.tag,
        oldValue: oldValues[i]!,
        newValue: values[i],
        ok: err === undefined,
        error: err === undefined ? undefined : err instanceof Error ? err.message : String(err),
        ctx,
      };
    }
    const lost = await this.notifyWrites(events);
    // Items stored in Tagway's storage became durable only with the sync of the request's audit row, which failed.
    if (lost !== undefined && byDriver !== undefined)
      for (const [driver, list] of byDriver) if (driver.commitsRiders === true) for (const i of list) errors[i] ??= lost;
    return errors;
  }

  /** One driver's items of a bulk write; failures land in `errors`, never thrown. */
  private async writeGroup(
    driver: Driver,
    list: readonly number[],
    writes: ReadonlyArray<{ tag: TagState }>,
    values: ReadonlyArray<TagValue | undefined>,
    errors: unknown[],
  ): Promise<void> {
    const publish = (i: number, at: number): void => {
      if (!driver.publishesWrites) this.apply(writes[i]!.tag, values[i]!, Quality.GOOD, at);
    };
    if (driver.writeMany !== undefined && list.length > 1) {
      try {
        const storedAt = await driver.writeMany(
          list.map((i) => writes[i]!.tag),
          list.map((i) => values[i]!),
        );
        const at = typeof storedAt === 'number' ? storedAt : this.clock.now();
        for (const i of list) publish(i, at);
      } catch (err) {
        for (const i of list) errors[i] = err;
      }
      return;
    }
    await Promise.all(
      list.map((i) =>
        driver.write(writes[i]!.tag, values[i]!).then(
          (storedAt) => publish(i, typeof storedAt === 'number' ? storedAt : this.clock.now()),
          (err: unknown) => {
            errors[i] = err;
          },
        ),
      ),
    );
  }

  private notifyWrite(
    tag: TagState,
    oldValue: TagValue,
    newValue: TagValue | undefined,
    ok: boolean,
    error: string | undefined,
    ctx: WriteContext,
  ): Promise<unknown> | undefined {
    return this.notifyWrites([{ tag, oldValue, newValue, ok, error, ctx }]);
  }

  /**
   * Tells the observers and waits for them. Their failures never break a write, but one is reported: the storage
   * could not make the write's record durable (DurabilityLostError), which the caller fails the writes for whose
   * values depend on that same sync.
   */
  private notifyWrites(events: readonly WriteEvent[]): Promise<DurabilityLostError | undefined> | undefined {
    let pending: Array<Promise<DurabilityLostError | undefined>> | undefined;
    const settle = (r: void | Promise<void>): void => {
      if (r) (pending ??= []).push(r.then(noLoss, lossOnly));
    };
    for (const o of this.writeObservers) {
      for (const e of events) {
        try {
          settle(o(e));
        } catch {
          /* observers never break a write */
        }
      }
    }
    for (const o of this.batchObservers) {
      try {
        settle(o(events));
      } catch {
        /* observers never break a write */
      }
    }
    if (pending === undefined) return undefined;
    // One observer waiting (the audit trail): its promise as is, without a Promise.all and a then per write.
    return pending.length === 1 ? pending[0]! : Promise.all(pending).then((all) => all.find((e) => e !== undefined));
  }

  /** The tag's value object as JSON text, cached until the next change. */
  valueJson(tag: TagState): string {
    let s = tag.json;
    if (s === undefined) {
      s = `{"name":${JSON.stringify(tag.def.name)},"value":${JSON.stringify(tag.value)},${qualityJson(tag.quality)},"timestamp":"${new Date(tag.timestamp).toISOString()}"}`;
      tag.json = s;
    }
    return s;
  }

  /** The tag's value object as UTF-8 JSON bytes, cached until the next change. */
  valueBytes(tag: TagState): Buffer {
    let b = tag.bytes;
    if (b === undefined) {
      b = Buffer.from(this.valueJson(tag), 'utf8');
      tag.bytes = b;
    }
    return b;
  }

  valueObject(tag: TagState): ValueObject {
    return {
      name: tag.def.name,
      value: tag.value,
      quality: qualityName(tag.quality),
      qualityCode: tag.quality,
      subStatus: subStatusName(tag.quality),
      timestamp: new Date(tag.timestamp).toISOString(),
    };
  }
}

function noLoss(): undefined {
  return undefined;
}

function lossOnly(err: unknown): DurabilityLostError | undefined {
  return err instanceof DurabilityLostError ? err : undefined;
}
