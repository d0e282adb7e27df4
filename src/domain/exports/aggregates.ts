import { avg } from '../history/avg.js';
import { deltaWith } from '../history/delta.js';
import { mergedItems, WindowFold, type RolledSeries } from '../history/rollup.js';
import { numeric, usable, type BucketWindow, type Series, type StoredValue } from '../history/series.js';

/** What a report field computes over its period. */
export const REPORT_AGGREGATES = ['delta', 'avg', 'min', 'max', 'first', 'last', 'count', 'timeTrue', 'timeFalse', 'alarmCount'] as const;
export type ReportAggregate = (typeof REPORT_AGGREGATES)[number];

/** Aggregates over a tag's history (all but alarmCount). */
export type TagAggregate = Exclude<ReportAggregate, 'alarmCount'>;

/** Aggregates that need a numeric (or Bool) tag. */
export const NUMERIC_REPORT_AGGREGATES: ReadonlySet<ReportAggregate> = new Set(['delta', 'avg', 'min', 'max', 'timeTrue', 'timeFalse']);

/**
 * Why a field's value may not tell the whole story. A report is booked into an ERP, so doubt is stated beside the
 * value, never papered over by filling in:
 * - `noData`: nothing was known in the period (the value is null);
 * - `partial`: history starts inside the period (nothing was logged before its start);
 * - `bad`: part of the period was BAD (a connection loss): that time is left out of the value;
 * - `gap`: two consecutive samples lie further apart than the field's `maxGapMs` (Tagway or the logging was down).
 */
export type QualityFlag = 'noData' | 'partial' | 'bad' | 'gap';

export interface FieldValue {
  value: number | string | null;
  flags: QualityFlag[];
}

export interface FieldOptions {
  /** Counter range for wrap-aware deltas: a decrease is read as a wrap by this much (e.g. 65536 for UInt16). */
  wrapAt?: number | undefined;
  /** Longest expected time between samples; longer is flagged `gap`. */
  maxGapMs?: number | undefined;
}

/**
 * Computes one field over `[start, end)` from `series`: samples ascending, possibly preceded by the last sample
 * before `start` (the value held at `start`, step interpolation), as HistoryRepository.series returns them.
 */
export function computeField(agg: TagAggregate, series: Series, start: number, end: number, opts: FieldOptions = {}): FieldValue {
  const { ts, quality } = series;
  let lo = 0;
  while (lo < series.length && ts[lo]! < start) lo++;
  let hi = lo;
  while (hi < series.length && ts[hi]! < end) hi++;
  const w: BucketWindow = { series, lo, hi, start, end };
  const flags: QualityFlag[] = [];
  // The sample in effect at `start`, then every one inside.
  const first = lo > 0 ? lo - 1 : lo;
  if (lo === 0 && (hi === 0 || ts[0]! > start)) flags.push('partial');
  let bad = false;
  let gap = false;
  for (let i = first; i < hi; i++) {
    if (!usable(quality[i]!)) bad = true;
    if (opts.maxGapMs !== undefined) {
      const from = Math.max(ts[i]!, start);
      const to = i + 1 < hi ? ts[i + 1]! : end;
      if (to - from > opts.maxGapMs) gap = true;
    }
  }
  if (opts.maxGapMs !== undefined && hi === first && end - start > opts.maxGapMs) gap = true;
  if (bad) flags.push('bad');
  if (gap) flags.push('gap');
  const value = valueOf(agg, w, first, opts);
  if (value === null) flags.push('noData');
  return { value, flags: flags.sort() };
}

/**
 * `computeField` over roll-ups of the whole minutes of the period and raw samples for its partial edges (as
 * `planRollups(start, end)` plans the read), with the same value and the same flags as over the raw samples.
 */
export function computeFieldRolled(agg: TagAggregate, rs: RolledSeries, start: number, end: number, opts: FieldOptions = {}): FieldValue {
  const { series } = rs;
  let held: { ts: number; value: StoredValue; quality: number } | undefined;
  for (let i = 0; i < series.length && series.ts[i]! < start; i++)
    held = { ts: series.ts[i]!, value: series.values[i]!, quality: series.quality[i]! };
  const heldGood = held !== undefined && usable(held.quality);
  const heldNum = heldGood ? numeric(held!.value) : NaN;
  const f = new WindowFold(start, end, held, heldNum === heldNum ? heldNum : null);
  for (const it of mergedItems(rs, start)) {
    if (it.ts >= end) break;
    if (it.r) f.rollup(it.r);
    else f.sample(it.ts, series.values[it.i]!, series.quality[it.i]!);
  }
  f.finish();
  const flags: QualityFlag[] = [];
  if (held === undefined && (f.count === 0 || f.firstTs! > start)) flags.push('partial');
  if ((held !== undefined && !heldGood) || f.count > f.good) flags.push('bad');
  const max = opts.maxGapMs;
  if (max !== undefined && (f.maxGap > max || (held === undefined && f.count === 0 && end - start > max))) flags.push('gap');
  let value: number | string | null;
  switch (agg) {
    case 'delta': {
      const d = f.delta(opts.wrapAt);
      value = d === null && heldGood ? 0 : d;
      break;
    }
    case 'avg':
      value = f.avg();
      break;
    case 'count':
      value = f.count;
      break;
    case 'first':
      value = heldGood ? held!.value : f.goodFirst;
      break;
    case 'last':
      value = f.goodLast ?? (heldGood ? held!.value : null);
      break;
    case 'min':
    case 'max': {
      let m = agg === 'min' ? f.min : f.max;
      if (heldNum === heldNum && (m === null || (agg === 'min' ? heldNum < m : heldNum > m))) m = heldNum;
      value = m;
      break;
    }
    case 'timeTrue':
    case 'timeFalse':
      value = heldGood || f.good > 0 ? (agg === 'timeTrue' ? f.trueMs : f.falseMs) / 1000 : null;
      break;
  }
  if (value === null) flags.push('noData');
  return { value, flags: flags.sort() };
}

function valueOf(agg: TagAggregate, w: BucketWindow, first: number, opts: FieldOptions): number | string | null {
  const { values, quality } = w.series;
  switch (agg) {
    case 'delta': {
      // Logged on change: a counter that did not move has no sample in the period, and counted nothing.
      const d = deltaWith({ wrapAt: opts.wrapAt })(w);
      return d === null && first < w.lo && usable(quality[first]!) ? 0 : d;
    }
    case 'avg':
      return avg(w);
    case 'count':
      // Samples logged in the period (the held one before it is not one of them).
      return w.hi - w.lo;
    case 'first':
      for (let i = first; i < w.hi; i++) if (usable(quality[i]!)) return values[i]!;
      return null;
    case 'last':
      for (let i = w.hi - 1; i >= first; i--) if (usable(quality[i]!)) return values[i]!;
      return null;
    case 'min':
    case 'max': {
      // The value held at the start counts: a speed that never changed during the shift still ran at it.
      let m: number | null = null;
      for (let i = first; i < w.hi; i++) {
        if (!usable(quality[i]!)) continue;
        const v = numeric(values[i]!);
        if (v !== v) continue;
        if (m === null || (agg === 'min' ? v < m : v > m)) m = v;
      }
      return m;
    }
    case 'timeTrue':
    case 'timeFalse':
      return timeIn(w, first, agg === 'timeTrue');
  }
}

/** Seconds the value was true (non-zero) or false (zero), step-interpolated; BAD time counts as neither. */
function timeIn(w: BucketWindow, first: number, want: boolean): number | null {
  const { ts, values, quality } = w.series;
  let ms = 0;
  let known = false;
  for (let i = first; i < w.hi; i++) {
    const from = Math.max(ts[i]!, w.start);
    const to = i + 1 < w.hi ? ts[i + 1]! : w.end;
    if (!usable(quality[i]!)) continue;
    known = true;
    if (truthy(values[i]!) === want && to > from) ms += to - from;
  }
  return known ? ms / 1000 : null;
}

function truthy(v: StoredValue): boolean {
  const n = numeric(v);
  return n === n ? n !== 0 : v !== '' && v !== 'false';
}

/**
 * The wrap of a counter tag: its configured `max` + 1 when it has one (a counter that counts 0…9999 and starts
 * again), else the range of its integer type (65536 for UInt16); undefined for floats and 64-bit types, whose
 * decrease is read as a reset.
 */
export function counterWrap(
  type: string,
  max: number | string | undefined,
  ranges: Readonly<Record<string, { min: number; max: number }>>,
): number | undefined {
  const r = ranges[type];
  if (max !== undefined && Number.isFinite(Number(max))) return Number(max) + 1 - (r && r.min < 0 ? r.min : 0);
  return r ? r.max - r.min + 1 : undefined;
}
