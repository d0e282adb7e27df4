import { numeric, usable, type Series, type StoredValue } from './series.js';

/**
 * Per-tag, per-minute roll-ups: what a long-range aggregate reads instead of the raw samples (docs/history.md).
 *
 * A roll-up summarises the samples of one tag in one UTC minute `[minute, minute + 60 s)` exactly enough that every
 * aggregate of the API and of the reports over whole minutes gives the same answer from roll-ups as from the raw
 * samples. Everything inside the minute (between its first and its last sample) is folded in; the time from the
 * last sample of a minute to the first sample of the next is not, since it depends on the neighbour: a reader
 * bridges it from the previous minute's last sample, as step interpolation holds that value until the next sample.
 */
export const MINUTE_MS = 60_000;

/** Start of the UTC minute holding `t`. */
export function minuteOf(t: number): number {
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}

export interface Rollup {
  minute: number;
  /** Samples, whatever their quality. */
  count: number;
  /** Usable (not BAD) samples; `count - good` were BAD. */
  good: number;
  firstTs: number;
  firstValue: StoredValue;
  firstQuality: number;
  lastTs: number;
  lastValue: StoredValue;
  lastQuality: number;
  /** First and last usable value, of any type (null when `good` is 0). */
  goodFirst: StoredValue | null;
  goodLast: StoredValue | null;
  /** First and last usable numeric value, smallest and largest (null when there is none: text tags). */
  numFirst: number | null;
  numLast: number | null;
  min: number | null;
  max: number | null;
  /** Σ value × ms and Σ ms between consecutive samples while the value was usable and numeric (time-weighted avg). */
  area: number;
  areaMs: number;
  /** Ms between consecutive samples while the value was usable and true (non-zero) / false; BAD time is `badMs`. */
  trueMs: number;
  falseMs: number;
  badMs: number;
  /**
   * Counter steps between consecutive usable numeric samples: Σ increases; for the decreases their number, Σ (new -
   * previous) and Σ new. A delta with wrap W adds `decCount × W + decDiff`, without one `decNew`: exact for any W.
   */
  inc: number;
  decCount: number;
  decDiff: number;
  decNew: number;
  /** Longest time between two consecutive samples of the minute (0 with one sample). */
  maxGap: number;
}

/** The counter fields a minute and a window both keep (see `Rollup.inc`). */
type CounterSteps = Pick<Rollup, 'inc' | 'decCount' | 'decDiff' | 'decNew'>;

/**
 * Adds one counter step from `prev` to `v`. The ingest loop (`extendRollup`) does the same on local variables, by
 * hand, because it runs per sample on the history hot path.
 */
function addCounterStep(acc: CounterSteps, prev: number, v: number): void {
  const d = v - prev;
  if (d >= 0) acc.inc += d;
  else {
    acc.decCount++;
    acc.decDiff += d;
    acc.decNew += v;
  }
}

function truthy(v: StoredValue): boolean {
  const n = numeric(v);
  return n === n ? n !== 0 : v !== '' && v !== 'false';
}

/**
 * Folds samples, in ascending time order, into the roll-up of their minute. Started from an existing roll-up it
 * continues where that one stopped, performing the very operations a fold over all the samples would: appending in
 * order gives bit for bit the roll-up a fresh summary gives.
 */
export class RollupBuilder {
  private r: Rollup | undefined;
  /** The last sample's numeric value when usable (NaN otherwise), and whether it reads true: computed once. */
  private lastNum = NaN;
  private lastUsable = false;
  private lastTrue = false;

  constructor(
    readonly minute: number,
    from?: Rollup,
  ) {
    this.r = from ? { ...from } : undefined;
    if (from) this.remember(from.lastValue, from.lastQuality);
  }

  private remember(value: StoredValue, quality: number): void {
    this.lastUsable = usable(quality);
    this.lastNum = this.lastUsable ? numeric(value) : NaN;
    this.lastTrue = this.lastUsable && (this.lastNum === this.lastNum ? this.lastNum !== 0 : value !== '' && value !== 'false');
  }

  get lastTs(): number | undefined {
    return this.r?.lastTs;
  }

  push(ts: number, value: StoredValue, quality: number): void {
    let r = this.r;
    if (r === undefined) {
      r = this.r = {
        minute: this.minute,
        count: 0,
        good: 0,
        firstTs: ts,
        firstValue: value,
        firstQuality: quality,
        lastTs: ts,
        lastValue: value,
        lastQuality: quality,
        goodFirst: null,
        goodLast: null,
        numFirst: null,
        numLast: null,
        min: null,
        max: null,
        area: 0,
        areaMs: 0,
        trueMs: 0,
        falseMs: 0,
        badMs: 0,
        inc: 0,
        decCount: 0,
        decDiff: 0,
        decNew: 0,
        maxGap: 0,
      };
    } else {
      const dt = ts - r.lastTs;
      if (dt > r.maxGap) r.maxGap = dt;
      if (this.lastUsable) {
        const v = this.lastNum;
        if (v === v) {
          r.area += v * dt;
          r.areaMs += dt;
        }
        if (this.lastTrue) r.trueMs += dt;
        else r.falseMs += dt;
      } else r.badMs += dt;
      r.lastTs = ts;
      r.lastValue = value;
      r.lastQuality = quality;
    }
    r.count++;
    this.remember(value, quality);
    if (!this.lastUsable) return;
    r.good++;
    if (r.goodFirst === null) r.goodFirst = value;
    r.goodLast = value;
    const v = this.lastNum;
    if (v !== v) return;
    if (r.numFirst === null) r.numFirst = v;
    if (r.numLast !== null) addCounterStep(r, r.numLast, v);
    r.numLast = v;
    if (r.min === null || v < r.min) r.min = v;
    if (r.max === null || v > r.max) r.max = v;
  }

  /**
   * `push` for the samples `at[lo..hi-1]` of columns (the historian's batches): the same operations in the same
   * order as `push` one by one (foldRun), several times faster.
   */
  pushMany(
    at: ArrayLike<number>,
    lo: number,
    hi: number,
    tsCol: ArrayLike<number>,
    valueCol: ArrayLike<StoredValue>,
    qualityCol: ArrayLike<number>,
  ): void {
    if (lo >= hi) return;
    if (this.r === undefined) {
      const i = at[lo]!;
      this.push(tsCol[i]!, valueCol[i]!, qualityCol[i]!);
      lo++;
    }
    foldRun(this.r!, at, lo, hi, tsCol, valueCol, qualityCol);
    this.remember(this.r!.lastValue, this.r!.lastQuality);
  }

  /** The roll-up so far; undefined before the first sample. */
  result(): Rollup | undefined {
    return this.r ? { ...this.r } : undefined;
  }
}

/**
 * A copy with the fields in one fixed order. Why not a spread: roll-ups come from literals, spreads and table rows,
 * each its own hidden class, and the ingest fold's field accesses went megamorphic over them.
 */
function copyRollup(r: Rollup): Rollup {
  return {
    minute: r.minute,
    count: r.count,
    good: r.good,
    firstTs: r.firstTs,
    firstValue: r.firstValue,
    firstQuality: r.firstQuality,
    lastTs: r.lastTs,
    lastValue: r.lastValue,
    lastQuality: r.lastQuality,
    goodFirst: r.goodFirst,
    goodLast: r.goodLast,
    numFirst: r.numFirst,
    numLast: r.numLast,
    min: r.min,
    max: r.max,
    area: r.area,
    areaMs: r.areaMs,
    trueMs: r.trueMs,
    falseMs: r.falseMs,
    badMs: r.badMs,
    inc: r.inc,
    decCount: r.decCount,
    decDiff: r.decDiff,
    decNew: r.decNew,
    maxGap: r.maxGap,
  };
}

/**
 * The roll-up `from` (of `minute`; none: a new one) extended by the samples `at[lo..hi-1]` of columns, later than
 * everything it holds: a new object, `from` is left as it was. The ingest path's fold (one allocation per run).
 */
export function extendRollup(
  minute: number,
  from: Rollup | undefined,
  at: ArrayLike<number> | null,
  lo: number,
  hi: number,
  tsCol: ArrayLike<number>,
  valueCol: ArrayLike<StoredValue>,
  qualityCol: ArrayLike<number>,
): Rollup {
  if (from !== undefined) {
    const r = copyRollup(from);
    foldRun(r, at, lo, hi, tsCol, valueCol, qualityCol);
    return r;
  }
  const b = new RollupBuilder(minute);
  const i = at === null ? lo : at[lo]!;
  b.push(tsCol[i]!, valueCol[i]!, qualityCol[i]!);
  const r = copyRollup(b.result()!);
  foldRun(r, at, lo + 1, hi, tsCol, valueCol, qualityCol);
  return r;
}

/**
 * Folds samples into `r` in place, exactly as `RollupBuilder.push` would. Why it is written this way: in the loop
 * every running figure is a plain double (no `null`: a local that may hold null makes V8 box each new double, one
 * heap allocation per sample and field), whether a numeric value was seen is a flag, and a number value skips the
 * text/64-bit parse. The operations and their order are push's, so the result is bit for bit the same (property).
 */
function foldRun(
  r: Rollup,
  at: ArrayLike<number> | null,
  lo: number,
  hi: number,
  tsCol: ArrayLike<number>,
  valueCol: ArrayLike<StoredValue>,
  qualityCol: ArrayLike<number>,
): void {
  if (lo >= hi) return;
  let lastTs = r.lastTs;
  let lastQuality = r.lastQuality;
  let count = r.count;
  let good = r.good;
  // Values are taken by index and read once at the end: a double copied into a local that may hold a string
  // would be boxed for every sample.
  let lastI = -1;
  let goodFirstI = -1;
  let goodLastI = -1;
  const hadNum = r.numFirst !== null;
  let hasNum = hadNum;
  let numFirst = hadNum ? r.numFirst! : 0;
  let numLast = hadNum ? r.numLast! : 0;
  let min = hadNum ? r.min! : 0;
  let max = hadNum ? r.max! : 0;
  let area = r.area;
  let areaMs = r.areaMs;
  let trueMs = r.trueMs;
  let falseMs = r.falseMs;
  let badMs = r.badMs;
  let inc = r.inc;
  let decCount = r.decCount;
  let decDiff = r.decDiff;
  let decNew = r.decNew;
  let maxGap = r.maxGap;
  // The last sample's reading (usable? its number, NaN if none; true?), as `remember` computes it.
  let lastUsable = usable(lastQuality);
  let lastNum = lastUsable ? numeric(r.lastValue) : NaN;
  let lastTrue = lastUsable && (lastNum === lastNum ? lastNum !== 0 : r.lastValue !== '' && r.lastValue !== 'false');
  for (let k = lo; k < hi; k++) {
    const i = at === null ? k : at[k]!;
    const ts = tsCol[i]!;
    const value = valueCol[i]!;
    const quality = qualityCol[i]!;
    const dt = ts - lastTs;
    if (dt > maxGap) maxGap = dt;
    if (lastUsable) {
      if (lastNum === lastNum) {
        area += lastNum * dt;
        areaMs += dt;
      }
      if (lastTrue) trueMs += dt;
      else falseMs += dt;
    } else badMs += dt;
    lastTs = ts;
    lastI = i;
    lastQuality = quality;
    count++;
    lastUsable = (quality & 0xc0) !== 0;
    if (!lastUsable) {
      lastNum = NaN;
      lastTrue = false;
      continue;
    }
    const v = typeof value === 'number' ? value : numeric(value);
    lastNum = v;
    lastTrue = v === v ? v !== 0 : value !== '' && value !== 'false';
    if (good === 0) goodFirstI = i;
    good++;
    goodLastI = i;
    if (v !== v) continue;
    if (hasNum) {
      const d = v - numLast;
      if (d >= 0) inc += d;
      else {
        decCount++;
        decDiff += d;
        decNew += v;
      }
      if (v < min) min = v;
      if (v > max) max = v;
    } else {
      hasNum = true;
      numFirst = v;
      min = v;
      max = v;
    }
    numLast = v;
  }
  r.lastTs = lastTs;
  if (lastI >= 0) r.lastValue = valueCol[lastI]!;
  r.lastQuality = lastQuality;
  r.count = count;
  r.good = good;
  if (goodFirstI >= 0) r.goodFirst = valueCol[goodFirstI]!;
  if (goodLastI >= 0) r.goodLast = valueCol[goodLastI]!;
  if (hasNum) {
    r.numFirst = numFirst;
    r.numLast = numLast;
    r.min = min;
    r.max = max;
  }
  r.area = area;
  r.areaMs = areaMs;
  r.trueMs = trueMs;
  r.falseMs = falseMs;
  r.badMs = badMs;
  r.inc = inc;
  r.decCount = decCount;
  r.decDiff = decDiff;
  r.decNew = decNew;
  r.maxGap = maxGap;
}

/** The roll-ups of an ascending series (samples `lo..hi-1`), one per minute that holds samples. */
export function summarize(series: Series, lo = 0, hi = series.length): Rollup[] {
  const out: Rollup[] = [];
  let b: RollupBuilder | undefined;
  for (let i = lo; i < hi; i++) {
    const t = series.ts[i]!;
    const m = minuteOf(t);
    if (b === undefined || b.minute !== m) {
      if (b) out.push(b.result()!);
      b = new RollupBuilder(m);
    }
    b.push(t, series.values[i]!, series.quality[i]!);
  }
  if (b) out.push(b.result()!);
  return out;
}

/**
 * The roll-up fields an aggregate needs (beside them a store may answer null: a 30-day trend reads half the
 * columns). Every aggregate needs the structure: count, good, first and last time, the last sample, the numeric
 * ends and the longest gap (for the flags); each adds its own.
 */
export type RollupField = keyof Rollup;
const BASE_FIELDS: readonly RollupField[] = [
  'minute',
  'count',
  'good',
  'firstTs',
  'lastTs',
  'lastValue',
  'lastQuality',
  'numFirst',
  'numLast',
  'maxGap',
];
const OWN_FIELDS: Record<string, readonly RollupField[]> = {
  avg: ['area', 'areaMs'],
  min: ['min', 'max'],
  max: ['min', 'max'],
  first: ['goodFirst', 'goodLast'],
  last: ['goodFirst', 'goodLast'],
  count: [],
  delta: ['goodLast', 'inc', 'decCount', 'decDiff', 'decNew'],
  timeTrue: ['trueMs', 'falseMs'],
  timeFalse: ['trueMs', 'falseMs'],
};

/** The fields `aggregate` needs (all of them for a name this does not know). */
export function rollupFieldsFor(aggregate: string): ReadonlySet<RollupField> | undefined {
  const own = OWN_FIELDS[aggregate];
  return own ? new Set([...BASE_FIELDS, ...own]) : undefined;
}

/** What to read for a window: raw samples in `spans`, roll-ups of the whole minutes in `[rollFrom, rollTo)` outside them. */
export interface RollupPlan {
  /** The window's start: the last sample before it is read too (the value held at the start). */
  from: number;
  /** Ascending, disjoint, half-open. */
  spans: Array<{ from: number; to: number }>;
  rollFrom: number;
  rollTo: number;
}

/**
 * Which parts of `[from, to)` come from roll-ups: every whole minute except those split by a cut (a bucket boundary
 * or the horizon of an aggregate, which is not a minute boundary); the rest (the partial minutes at the edges and
 * the split minutes) is read raw.
 */
export function planRollups(from: number, to: number, cuts: Iterable<number> = []): RollupPlan {
  const first = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
  const last = minuteOf(to);
  if (first >= last) return { from, spans: [{ from, to }], rollFrom: first, rollTo: first };
  const spans: Array<{ from: number; to: number }> = [];
  const add = (a: number, b: number) => {
    const prev = spans[spans.length - 1];
    if (prev && prev.to >= a) prev.to = Math.max(prev.to, b);
    else spans.push({ from: a, to: b });
  };
  if (from < first) add(from, first);
  const split = [...cuts].filter((c) => c > first && c < last && c % MINUTE_MS !== 0).sort((a, b) => a - b);
  for (const c of split) add(minuteOf(c), minuteOf(c) + MINUTE_MS);
  if (last < to) add(last, to);
  return { from, spans, rollFrom: first, rollTo: last };
}

/** A window as read through roll-ups: raw samples (possibly preceded by ones before the window) and roll-ups. */
export interface RolledSeries {
  /** Raw samples, ascending: the last one before the window's start, then those of the raw spans. */
  series: Series;
  /** Roll-ups of whole minutes, ascending, none overlapping a raw span. */
  rollups: readonly Rollup[];
}

/** Drops the roll-ups a plan reads raw (a store answers every minute of `[rollFrom, rollTo)`). */
export function outsideSpans(plan: RollupPlan, rollups: readonly Rollup[]): Rollup[] {
  const out: Rollup[] = [];
  let s = 0;
  for (const r of rollups) {
    while (s < plan.spans.length && plan.spans[s]!.to <= r.minute) s++;
    const span = plan.spans[s];
    if (span && span.from <= r.minute) continue;
    out.push(r);
  }
  return out;
}

interface Held {
  ts: number;
  value: StoredValue;
  quality: number;
}

/**
 * The state of one window `[start, end)` as samples and roll-ups are fed to it in time order: what every aggregate
 * needs, each computed as the raw aggregate computes it (step interpolation from the held value).
 * Time is accounted up to `end`; what comes at or after `end` still counts as samples (count, min, max, first,
 * last, delta) but holds no time, as when an aggregate's span is clipped at the horizon.
 */
export class WindowFold {
  count = 0;
  good = 0;
  firstTs: number | undefined;
  goodFirst: StoredValue | null = null;
  goodLast: StoredValue | null = null;
  numLast: number | null = null;
  min: number | null = null;
  max: number | null = null;
  area = 0;
  areaMs = 0;
  trueMs = 0;
  falseMs = 0;
  /** Longest interval from a sample (or the window start) to the next sample (or the window end). */
  maxGap = 0;
  inc = 0;
  decCount = 0;
  decDiff = 0;
  decNew = 0;
  /** Any usable numeric sample in the window. */
  anyNumeric = false;
  private t: number;
  /** The sample in effect at `t`. */
  cur: Held | undefined;

  constructor(
    readonly start: number,
    readonly end: number,
    readonly held: Held | undefined,
    /** The last usable numeric value before the window (the counter reading deltas start from). */
    public prevNum: number | null,
  ) {
    this.t = start;
    this.cur = held;
  }

  /** The time from the cursor to `ts` (clipped at `end`) held the current sample's value. */
  private hold(ts: number): void {
    const to = ts < this.end ? ts : this.end;
    if (!(to > this.t)) return;
    const c = this.cur;
    if (c !== undefined) {
      const dt = to - this.t;
      if (dt > this.maxGap) this.maxGap = dt;
      if (usable(c.quality)) {
        const v = numeric(c.value);
        if (v === v) {
          this.area += v * dt;
          this.areaMs += dt;
        }
        if (truthy(c.value)) this.trueMs += dt;
        else this.falseMs += dt;
      }
    }
    this.t = to;
  }

  private step(v: number): void {
    if (this.prevNum !== null) addCounterStep(this, this.prevNum, v);
  }

  sample(ts: number, value: StoredValue, quality: number): void {
    this.hold(ts);
    this.cur = { ts, value, quality };
    if (this.firstTs === undefined) this.firstTs = ts;
    this.count++;
    if (!usable(quality)) return;
    this.good++;
    if (this.goodFirst === null) this.goodFirst = value;
    this.goodLast = value;
    const v = numeric(value);
    if (v !== v) return;
    this.step(v);
    this.prevNum = v;
    this.numLast = v;
    this.anyNumeric = true;
    if (this.min === null || v < this.min) this.min = v;
    if (this.max === null || v > this.max) this.max = v;
  }

  /** A whole minute; the caller never gives one that holds `end` strictly inside (it is read raw instead). */
  rollup(r: Rollup): void {
    this.hold(r.firstTs);
    if (this.firstTs === undefined) this.firstTs = r.firstTs;
    if (r.firstTs < this.end) {
      this.area += r.area;
      this.areaMs += r.areaMs;
      this.trueMs += r.trueMs;
      this.falseMs += r.falseMs;
      if (r.maxGap > this.maxGap) this.maxGap = r.maxGap;
      this.t = r.lastTs;
    }
    this.cur = { ts: r.lastTs, value: r.lastValue, quality: r.lastQuality };
    this.count += r.count;
    if (r.good === 0) return;
    this.good += r.good;
    if (this.goodFirst === null) this.goodFirst = r.goodFirst;
    this.goodLast = r.goodLast;
    if (r.numFirst === null) return;
    this.step(r.numFirst);
    this.inc += r.inc;
    this.decCount += r.decCount;
    this.decDiff += r.decDiff;
    this.decNew += r.decNew;
    this.prevNum = r.numLast;
    this.numLast = r.numLast;
    this.anyNumeric = true;
    if (this.min === null || r.min! < this.min) this.min = r.min;
    if (this.max === null || r.max! > this.max) this.max = r.max;
  }

  /** Holds the last value to the end of the window; call once, after the last sample. */
  finish(): this {
    this.hold(this.end);
    return this;
  }

  /** The time-weighted average (avg.ts): over the usable time, else the last usable value. */
  avg(): number | null {
    if (this.areaMs > 0) return this.area / this.areaMs;
    return this.numLast;
  }

  /** The counter's increase (delta.ts), with or without a wrap; null without a usable numeric sample. */
  delta(wrapAt: number | undefined): number | null {
    if (!this.anyNumeric) return null;
    return this.inc + (wrapAt !== undefined ? this.decCount * wrapAt + this.decDiff : this.decNew);
  }
}

/**
 * Feeds the items of a rolled series in `[from, to)` to `each`, in time order: the raw samples and the roll-ups
 * merged. Samples before `from` are skipped (the caller takes the held one first).
 */
export function* mergedItems(rs: RolledSeries, from: number): Generator<{ ts: number; i: number; r: Rollup | undefined }> {
  const { series, rollups } = rs;
  let i = 0;
  while (i < series.length && series.ts[i]! < from) i++;
  let j = 0;
  while (i < series.length || j < rollups.length) {
    const r = rollups[j];
    if (r !== undefined && (i >= series.length || r.firstTs < series.ts[i]!)) {
      yield { ts: r.firstTs, i: -1, r };
      j++;
    } else {
      yield { ts: series.ts[i]!, i, r: undefined };
      i++;
    }
  }
}
