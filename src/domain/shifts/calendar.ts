import { addDays, formatDate, formatLocal, localDateOf, localToUtc, parseDate, weekday, type LocalDate } from './zone.js';

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ShiftDefinition {
  name: string;
  /** Local start time `HH:MM`. */
  start: string;
  /** Days on which the shift starts; all days when absent. */
  days?: readonly Weekday[] | undefined;
}

export interface ShiftCalendar {
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  shifts: readonly ShiftDefinition[];
  /** Local dates (`YYYY-MM-DD`) on which no shift starts. */
  holidays?: readonly string[] | undefined;
}

/** One concrete shift. */
export interface ShiftPeriod {
  name: string;
  /** Local date the shift starts on (`YYYY-MM-DD`): the `date` of `{shift, date}`. */
  date: string;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

/** Minutes after local midnight of `HH:MM`, or undefined. */
export function parseClock(s: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

interface Compiled {
  timeZone: string;
  shifts: { name: string; minute: number; days: Set<number> | undefined }[];
  holidays: Set<string>;
}

/** Problems of a calendar (for the project loader); empty when it is usable. */
export function calendarProblems(cal: ShiftCalendar): { index?: number; message: string }[] {
  const out: { index?: number; message: string }[] = [];
  const seenName = new Set<string>();
  const seenStart = new Map<number, string>();
  cal.shifts.forEach((s, index) => {
    if (seenName.has(s.name)) out.push({ index, message: `duplicate shift name '${s.name}'` });
    seenName.add(s.name);
    const minute = parseClock(s.start);
    if (minute === undefined) return out.push({ index, message: `start '${s.start}' is not a time HH:MM (00:00–23:59)` });
    const other = seenStart.get(minute);
    if (other !== undefined) out.push({ index, message: `shift '${s.name}' starts at the same time as '${other}'` });
    seenStart.set(minute, s.name);
    return undefined;
  });
  return out;
}

function compile(cal: ShiftCalendar): Compiled {
  const shifts = cal.shifts
    .map((s) => ({
      name: s.name,
      minute: parseClock(s.start) ?? 0,
      days: s.days ? new Set(s.days.map((d) => WEEKDAYS.indexOf(d))) : undefined,
    }))
    .sort((a, b) => a.minute - b.minute);
  return { timeZone: cal.timeZone, shifts, holidays: new Set(cal.holidays ?? []) };
}

/** The shift of `index` starting on local `date`, if it runs that day. Each shift ends where the next one in the day's order begins. */
function periodOf(c: Compiled, date: LocalDate, index: number): ShiftPeriod | undefined {
  const s = c.shifts[index]!;
  const day = formatDate(date);
  if (c.holidays.has(day)) return undefined;
  if (s.days && !s.days.has(weekday(date))) return undefined;
  const start = localToUtc(c.timeZone, date, s.minute);
  const last = index === c.shifts.length - 1;
  const end = localToUtc(c.timeZone, last ? addDays(date, 1) : date, c.shifts[last ? 0 : index + 1]!.minute);
  return { name: s.name, date: day, start, end };
}

/**
 * The concrete shifts that overlap `[from, to)`, in time order. Periods never overlap; without `days` and
 * holidays they are contiguous (each ends where the next begins). A shift that does not run leaves its time
 * uncovered rather than lengthening its neighbour: the ERP books the shift that worked, not the idle time.
 */
export function shiftPeriods(cal: ShiftCalendar, from: number, to: number): ShiftPeriod[] {
  if (!(to > from) || cal.shifts.length === 0) return [];
  const c = compile(cal);
  // A shift starting the local day before `from` may still run into it (night shifts; a single 24 h shift).
  let date = addDays(localDateOf(c.timeZone, from), -1);
  const lastDate = formatDate(addDays(localDateOf(c.timeZone, to), 1));
  const out: ShiftPeriod[] = [];
  for (;;) {
    for (let i = 0; i < c.shifts.length; i++) {
      const p = periodOf(c, date, i);
      if (p && p.start < to && p.end > from) out.push(p);
    }
    if (formatDate(date) === lastDate) break;
    date = addDays(date, 1);
  }
  return out;
}

/** The named shift starting on a local date, or undefined (unknown name, not a date, or not run that day). */
export function shiftOn(cal: ShiftCalendar, name: string, date: string): ShiftPeriod | undefined {
  const d = parseDate(date);
  if (!d) return undefined;
  const c = compile(cal);
  const i = c.shifts.findIndex((s) => s.name === name);
  return i < 0 ? undefined : periodOf(c, d, i);
}

/** Shifts that ended in `(after, upTo]`, in time order: what a `shiftEnd` trigger fires for. */
export function shiftsEndedBetween(cal: ShiftCalendar, after: number, upTo: number): ShiftPeriod[] {
  // A period ending in the window started at most a little over a day before its end.
  return shiftPeriods(cal, after - 2 * 86_400_000, upTo + 1).filter((p) => p.end > after && p.end <= upTo);
}

/** The first shift end after `t`, within two weeks, or undefined (a calendar whose shifts never run). */
export function nextShiftEnd(cal: ShiftCalendar, t: number): number | undefined {
  for (let span = 2 * 86_400_000; span <= 16 * 86_400_000; span *= 2) {
    const ends = shiftPeriods(cal, t - 2 * 86_400_000, t + span)
      .map((p) => p.end)
      .filter((e) => e > t);
    if (ends.length) return Math.min(...ends);
  }
  return undefined;
}

/** The period as the API shows it: UTC instants, and the same instants in local time with their offsets. */
export function describePeriod(timeZone: string, p: ShiftPeriod) {
  return {
    name: p.name,
    date: p.date,
    start: new Date(p.start).toISOString(),
    end: new Date(p.end).toISOString(),
    startLocal: formatLocal(timeZone, p.start),
    endLocal: formatLocal(timeZone, p.end),
    durationMs: p.end - p.start,
  };
}
