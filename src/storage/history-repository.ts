import type { RolledSeries, Rollup, RollupField, RollupPlan } from '../domain/history/rollup.js';
import type { Series, StoredValue } from '../domain/history/series.js';

/**
 * Where the historian's samples live. The SQLite implementation is the default; the interface is what the
 * runtime and the API depend on, so another store (PostgreSQL/TimescaleDB) can replace it.
 *
 * Values are stored as `StoredValue`: numbers for numeric and Bool tags (Bool as 1/0), decimal strings for
 * 64-bit integers, text for String and DateTime. Turning them back into a tag's JSON value is the caller's
 * business (it knows the tag type).
 *
 * The interface is async; the historian keeps its ingest off the request path by buffering samples and writing
 * them in batches (one `insertBatch` per flush, not one call per sample).
 */
export interface HistoryRepository {
  /** The id of a tag name, created on first use; stable across restarts and renames never reuse an id. */
  tagId(name: string): Promise<number>;
  /** The id of a tag name if anything was ever logged for it. */
  findTagId(name: string): Promise<number | undefined>;
  /** All known tags, for retention pruning of tags that left the project. */
  listTags(): Promise<{ id: number; name: string }[]>;
  /** Writes `count` samples, column-wise, atomically; a sample with an existing (tag, ts) replaces it. */
  insertBatch(batch: SampleBatch): Promise<void>;
  /** Raw samples in `[from, to)` (keyset-paged by `after`, exclusive, in the direction of `order`). */
  raw(tagId: number, q: RawQuery): Promise<RawPage>;
  /**
   * Samples in `[from, to)` ascending, preceded by the last sample before `from` when there is one. With
   * `maxSamples`, throws SeriesTooLarge when the range holds more than that, having read no more than that.
   */
  series(tagId: number, from: number, to: number, maxSamples?: number): Promise<Series>;
  /**
   * For aggregates over long ranges, in one snapshot: the last sample before `plan.from`, the raw samples in
   * `plan.spans`, and the per-minute roll-ups of `[plan.rollFrom, plan.rollTo)` except those of minutes inside a
   * span. With `maxRows`, throws SeriesTooLarge when that reads more than that many rows (samples + roll-ups).
   * With `fields` (rollupFieldsFor), the other fields of the roll-ups may be answered as null.
   */
  rolledSeries(tagId: number, plan: RollupPlan, maxRows?: number, fields?: ReadonlySet<RollupField>): Promise<RolledSeries>;
  /** The roll-ups of the minutes in `[from, to)`, ascending (kept by every write: see docs/history.md). */
  rollups(tagId: number, from: number, to: number): Promise<Rollup[]>;
  /** The last sample before `t`. */
  lastBefore(tagId: number, t: number): Promise<Sample | undefined>;
  /** The first sample at or after `t`. */
  firstAtOrAfter(tagId: number, t: number): Promise<Sample | undefined>;
  /**
   * Deletes at most `maxRows` of the oldest samples of a tag older than `before`; returns how many went. The
   * roll-ups follow: those of minutes left empty go, the one of a minute left partly filled is recomputed.
   */
  prune(tagId: number, before: number, maxRows: number): Promise<number>;
  /**
   * Optional, for a store partitioned by time: drops, for every tag at once, whole partitions that end at or before
   * `before` (cheaper than deleting their rows); returns how many went. `prune` still trims the rest per tag.
   */
  dropBefore?(before: number): Promise<number>;
}

export interface Sample {
  ts: number;
  value: StoredValue;
  quality: number;
}

export interface SampleBatch {
  count: number;
  tagIds: ArrayLike<number>;
  ts: ArrayLike<number>;
  values: ArrayLike<StoredValue>;
  quality: ArrayLike<number>;
}

export interface RawQuery {
  from: number;
  to: number;
  limit: number;
  order: 'asc' | 'desc';
  /** Keyset cursor: the timestamp of the last sample of the previous page. */
  after?: number | undefined;
}

export interface RawPage {
  samples: Sample[];
  /** Timestamp to pass as `after` for the next page, or null when this was the last one. */
  next: number | null;
}

/** `series` of a range that holds more samples than the caller's budget. */
export class SeriesTooLarge extends Error {
  constructor(readonly maxSamples: number) {
    super(`The range holds more than ${maxSamples} samples`);
    this.name = 'SeriesTooLarge';
  }
}

/**
 * Roll-up fields and the columns that hold them, in the order both stores select them. Values (`StoredValue`)
 * are the ones a store splits into number and text as it does for samples.
 */
export const ROLLUP_COLUMNS = [
  ['minute', 'minute'],
  ['count', 'count'],
  ['good', 'good'],
  ['firstTs', 'first_ts'],
  ['firstValue', 'first_value'],
  ['firstQuality', 'first_quality'],
  ['lastTs', 'last_ts'],
  ['lastValue', 'last_value'],
  ['lastQuality', 'last_quality'],
  ['goodFirst', 'good_first'],
  ['goodLast', 'good_last'],
  ['numFirst', 'num_first'],
  ['numLast', 'num_last'],
  ['min', 'min'],
  ['max', 'max'],
  ['area', 'area'],
  ['areaMs', 'area_ms'],
  ['trueMs', 'true_ms'],
  ['falseMs', 'false_ms'],
  ['badMs', 'bad_ms'],
  ['inc', 'inc'],
  ['decCount', 'dec_count'],
  ['decDiff', 'dec_diff'],
  ['decNew', 'dec_new'],
  ['maxGap', 'max_gap'],
] as const satisfies ReadonlyArray<readonly [keyof Rollup, string]>;

/** The roll-up fields that hold a sample's value (number or text). */
export const ROLLUP_VALUE_FIELDS: ReadonlySet<keyof Rollup> = new Set(['firstValue', 'lastValue', 'goodFirst', 'goodLast']);

/**
 * A roll-up from its column values in ROLLUP_COLUMNS order. Written out, not looped: a 30-day trend maps 43,200 of
 * them, and an object built field by field from names costs several times one built from a literal.
 */
export function rollupFromColumns(c: ArrayLike<unknown>): Rollup {
  return {
    minute: c[0] as number,
    count: c[1] as number,
    good: c[2] as number,
    firstTs: c[3] as number,
    firstValue: c[4] as StoredValue,
    firstQuality: c[5] as number,
    lastTs: c[6] as number,
    lastValue: c[7] as StoredValue,
    lastQuality: c[8] as number,
    goodFirst: c[9] as StoredValue | null,
    goodLast: c[10] as StoredValue | null,
    numFirst: c[11] as number | null,
    numLast: c[12] as number | null,
    min: c[13] as number | null,
    max: c[14] as number | null,
    area: c[15] as number,
    areaMs: c[16] as number,
    trueMs: c[17] as number,
    falseMs: c[18] as number,
    badMs: c[19] as number,
    inc: c[20] as number,
    decCount: c[21] as number,
    decDiff: c[22] as number,
    decNew: c[23] as number,
    maxGap: c[24] as number,
  };
}
