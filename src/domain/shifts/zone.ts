/**
 * Wall-clock arithmetic in an IANA time zone with nothing but `Intl.DateTimeFormat`: the offset of a zone at an
 * instant, and the instant of a local date and time. Shift boundaries are local times ("06:00 in Berlin"), so
 * every boundary goes through `localToUtc`, and a night shift across a DST change comes out 7 h or 9 h long.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// One formatter per zone; formatters are costly to build and the set of zones in a project is tiny. Bounded anyway.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 64;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7,200,000). */
export function offsetAt(timeZone: string, utcMs: number): number {
  const whole = Math.floor(utcMs / 1000) * 1000;
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatter(timeZone).formatToParts(whole)) {
    if (p.type === 'year') y = Number(p.value);
    else if (p.type === 'month') mo = Number(p.value);
    else if (p.type === 'day') d = Number(p.value);
    else if (p.type === 'hour') h = Number(p.value);
    else if (p.type === 'minute') mi = Number(p.value);
    else if (p.type === 'second') s = Number(p.value);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - whole;
}

/** A local calendar date. */
export interface LocalDate {
  y: number;
  m: number;
  d: number;
}

/** The local date of an instant in the zone. */
export function localDateOf(timeZone: string, utcMs: number): LocalDate {
  const t = new Date(utcMs + offsetAt(timeZone, utcMs));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: LocalDate): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
}

export function formatDate(date: LocalDate): string {
  return `${String(date.y).padStart(4, '0')}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;
}

export function parseDate(s: string): LocalDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const date = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  const back = addDays(date, 0);
  return back.y === date.y && back.m === date.m && back.d === date.d ? date : undefined;
}

/**
 * The instant of a local wall time. Ambiguous times (the repeated hour in autumn) take the first occurrence; times
 * that do not exist (the skipped hour in spring) become the instant the clocks jumped (02:30 becomes 03:00). Not
 * Temporal's `compatible` (03:30): mapping into the gap must keep local order, or a shift at 02:30 would start
 * after one at 03:15 and the two would overlap.
 */
export function localToUtc(timeZone: string, date: LocalDate, minuteOfDay: number): number {
  const wall = Date.UTC(date.y, date.m - 1, date.d) + minuteOfDay * 60_000;
  const before = offsetAt(timeZone, wall - DAY);
  const after = offsetAt(timeZone, wall + DAY);
  if (before === after) {
    const t = wall - before;
    // A zone may change its offset more than once within two days only in pathological data; check and fall through.
    if (offsetAt(timeZone, t) === before) return t;
  }
  const t1 = wall - before;
  const t2 = wall - after;
  const ok1 = offsetAt(timeZone, t1) === before;
  const ok2 = offsetAt(timeZone, t2) === after;
  if (ok1 && ok2) return Math.min(t1, t2);
  if (ok1) return t1;
  if (ok2) return t2;
  // In the gap: the first instant with the later offset lies in [t2, t1]; transitions fall on whole minutes.
  let lo = Math.min(t1, t2);
  let hi = Math.max(t1, t2);
  while (hi - lo > 60_000) {
    const mid = lo + Math.max(60_000, Math.floor((hi - lo) / 120_000) * 60_000);
    if (offsetAt(timeZone, mid) === after) hi = mid;
    else lo = mid;
  }
  return offsetAt(timeZone, lo) === after ? lo : hi;
}

/** `2026-03-29T22:00:00+02:00`: the instant as local time with its offset. */
export function formatLocal(timeZone: string, utcMs: number): string {
  const off = offsetAt(timeZone, utcMs);
  const local = new Date(utcMs + off).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off) / 60_000;
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
