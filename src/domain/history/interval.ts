import { TagwayError } from '../problems.js';

const SHORT = /^(\d+)(ms|s|m|h|d|w)$/;
const SHORT_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

// ISO 8601 duration, e.g. PT15M, PT0.5S, P1D, P1DT12H, P2W. Fractions only on the smallest (seconds) field,
// which is all anybody writes for intervals.
const ISO = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** Largest interval accepted: one year of days. Beyond it aggregation answers nothing useful. */
export const MAX_INTERVAL_MS = 366 * 86_400_000;

function invalid(text: string, why: string): TagwayError {
  return new TagwayError('VALIDATION_FAILED', `Invalid interval '${text}': ${why}`, {
    errors: [{ field: 'interval', message: why }],
  });
}

/**
 * Parses an aggregation interval to milliseconds: `500ms`, `10s`, `1m`, `1h`, `1d`, `1w`, or an ISO 8601
 * duration (`PT1M`, `PT0.5S`, `P1DT12H`). Days are exactly 24 h (UTC, buckets never follow daylight saving).
 * Calendar years and months are refused: they have no fixed length, so buckets could not be multiples of them
 * since the epoch. Throws VALIDATION_FAILED naming the field `interval`.
 */
export function parseInterval(text: string): number {
  const s = text.trim();
  let ms: number;
  const short = SHORT.exec(s);
  if (short) {
    ms = Number(short[1]) * SHORT_UNIT_MS[short[2]!]!;
  } else if (s.length > 1 && (s[0] === 'P' || s[0] === 'p')) {
    const m = ISO.exec(s);
    if (!m || s.endsWith('T') || s.endsWith('t')) throw invalid(text, 'not an ISO 8601 duration (e.g. PT1M, PT0.5S, P1D)');
    const [, years, months, weeks, days, hours, minutes, seconds] = m;
    if ((years && Number(years) > 0) || (months && Number(months) > 0)) {
      throw invalid(text, 'years and months have no fixed length; use days (P30D) or weeks (P1W)');
    }
    ms =
      (Number(weeks ?? 0) * 7 + Number(days ?? 0)) * 86_400_000 +
      Number(hours ?? 0) * 3_600_000 +
      Number(minutes ?? 0) * 60_000 +
      Math.round(Number((seconds ?? '0').replace(',', '.')) * 1e6) / 1e3;
  } else {
    throw invalid(text, 'expected a number with a unit (500ms, 10s, 1m, 1h, 1d, 1w) or an ISO 8601 duration (PT1M)');
  }
  if (!Number.isInteger(ms)) throw invalid(text, 'must be a whole number of milliseconds');
  if (ms <= 0) throw invalid(text, 'must be longer than zero');
  if (ms > MAX_INTERVAL_MS) throw invalid(text, `must not exceed ${MAX_INTERVAL_MS / 86_400_000} days`);
  return ms;
}
