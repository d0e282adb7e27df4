import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calendarProblems,
  describePeriod,
  nextShiftEnd,
  shiftOn,
  shiftPeriods,
  shiftsEndedBetween,
  WEEKDAYS,
  type ShiftCalendar,
} from '../../../../src/domain/shifts/calendar.js';
import { formatLocal, localToUtc, offsetAt } from '../../../../src/domain/shifts/zone.js';

const H = 3_600_000;
const three: ShiftCalendar = {
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'Early', start: '06:00' },
    { name: 'Late', start: '14:00' },
    { name: 'Night', start: '22:00' },
  ],
};
const iso = (s: string) => Date.parse(s);

describe('time zone arithmetic', () => {
  it('knows Berlin and New York offsets in winter and summer', () => {
    expect(offsetAt('Europe/Berlin', iso('2026-01-15T12:00:00Z'))).toBe(H);
    expect(offsetAt('Europe/Berlin', iso('2026-07-15T12:00:00Z'))).toBe(2 * H);
    expect(offsetAt('America/New_York', iso('2026-01-15T12:00:00Z'))).toBe(-5 * H);
    expect(offsetAt('America/New_York', iso('2026-07-15T12:00:00Z'))).toBe(-4 * H);
  });
  it('maps a skipped local time to the jump and a repeated one to its first occurrence', () => {
    // Berlin 2026-03-29: 02:00 CET → 03:00 CEST (01:00 UTC).
    expect(localToUtc('Europe/Berlin', { y: 2026, m: 3, d: 29 }, 150)).toBe(iso('2026-03-29T01:00:00Z'));
    expect(localToUtc('Europe/Berlin', { y: 2026, m: 3, d: 29 }, 195)).toBe(iso('2026-03-29T01:15:00Z'));
    // Berlin 2026-10-25: 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET); the first one.
    expect(localToUtc('Europe/Berlin', { y: 2026, m: 10, d: 25 }, 150)).toBe(iso('2026-10-25T00:30:00Z'));
    expect(formatLocal('America/New_York', iso('2026-07-01T04:00:00Z'))).toBe('2026-07-01T00:00:00-04:00');
  });
});

describe('shift calendar', () => {
  it('lists a plain day of three shifts with the night crossing midnight', () => {
    const p = shiftPeriods(three, iso('2026-01-15T05:00:00Z'), iso('2026-01-15T23:00:00Z'));
    expect(p.map((x) => describePeriod(three.timeZone, x))).toEqual([
      expect.objectContaining({
        name: 'Early',
        date: '2026-01-15',
        start: '2026-01-15T05:00:00.000Z',
        startLocal: '2026-01-15T06:00:00+01:00',
      }),
      expect.objectContaining({ name: 'Late', date: '2026-01-15', start: '2026-01-15T13:00:00.000Z' }),
      expect.objectContaining({
        name: 'Night',
        date: '2026-01-15',
        start: '2026-01-15T21:00:00.000Z',
        end: '2026-01-16T05:00:00.000Z',
        endLocal: '2026-01-16T06:00:00+01:00',
        durationMs: 8 * H,
      }),
    ]);
    // The night of the 14th runs into the window too.
    expect(shiftPeriods(three, iso('2026-01-15T04:00:00Z'), iso('2026-01-15T04:30:00Z')).map((x) => [x.name, x.date])).toEqual([
      ['Night', '2026-01-14'],
    ]);
  });

  it.each([
    ['Europe/Berlin', '2026-03-28', 7 * H, '2026-03-28T21:00:00.000Z', '2026-03-29T04:00:00.000Z'],
    ['Europe/Berlin', '2026-10-24', 9 * H, '2026-10-24T20:00:00.000Z', '2026-10-25T05:00:00.000Z'],
    ['America/New_York', '2026-03-07', 7 * H, '2026-03-08T03:00:00.000Z', '2026-03-08T10:00:00.000Z'],
    ['America/New_York', '2026-10-31', 9 * H, '2026-11-01T02:00:00.000Z', '2026-11-01T11:00:00.000Z'],
  ])('%s: the night shift starting %s lasts %d ms across the DST change', (timeZone, date, ms, start, end) => {
    const cal = { ...three, timeZone };
    const night = shiftOn(cal, 'Night', date)!;
    expect(night.end - night.start).toBe(ms);
    expect(new Date(night.start).toISOString()).toBe(start);
    expect(new Date(night.end).toISOString()).toBe(end);
    // The day's other shifts keep their 8 h.
    const early = shiftOn(cal, 'Early', date)!;
    expect(early.end - early.start).toBe(8 * H);
  });

  it('skips shifts on days they do not run and on holidays, leaving the time uncovered', () => {
    const cal: ShiftCalendar = {
      timeZone: 'Europe/Berlin',
      shifts: [
        { name: 'Early', start: '06:00', days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] },
        { name: 'Late', start: '14:00', days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] },
      ],
      holidays: ['2026-12-25'],
    };
    // 2026-12-21 is a Monday; 25th Friday (holiday), 26th/27th weekend.
    const p = shiftPeriods(cal, iso('2026-12-21T00:00:00Z'), iso('2026-12-28T00:00:00Z'));
    expect(p.map((x) => x.date + ' ' + x.name)).toEqual([
      '2026-12-21 Early',
      '2026-12-21 Late',
      '2026-12-22 Early',
      '2026-12-22 Late',
      '2026-12-23 Early',
      '2026-12-23 Late',
      '2026-12-24 Early',
      '2026-12-24 Late',
    ]);
    // Late ends where the next Early would begin: the next morning.
    expect(p[1]!.end - p[1]!.start).toBe(16 * H);
    expect(shiftOn(cal, 'Early', '2026-12-25')).toBeUndefined();
    expect(shiftOn(cal, 'Nope', '2026-12-21')).toBeUndefined();
    expect(shiftOn(cal, 'Early', '2026-02-30')).toBeUndefined();
  });

  it('fires shift ends in order and finds the next one', () => {
    const ends = shiftsEndedBetween(three, iso('2026-01-15T04:00:00Z'), iso('2026-01-15T21:00:00Z'));
    expect(ends.map((p) => p.name)).toEqual(['Night', 'Early', 'Late']);
    expect(nextShiftEnd(three, iso('2026-01-15T13:00:00Z'))).toBe(iso('2026-01-15T21:00:00Z'));
    expect(nextShiftEnd({ ...three, holidays: [], shifts: [{ name: 'X', start: '06:00', days: [] }] }, 0)).toBeUndefined();
  });

  it('reports duplicate names, duplicate starts and bad times', () => {
    expect(
      calendarProblems({
        timeZone: 'UTC',
        shifts: [
          { name: 'A', start: '06:00' },
          { name: 'A', start: '25:00' },
          { name: 'B', start: '06:00' },
        ],
      }).map((p) => p.index),
    ).toEqual([1, 1, 2]);
  });

  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC', 'Pacific/Chatham'];
  const calendarArb = fc
    .record({
      timeZone: fc.constantFrom(...zones),
      minutes: fc.uniqueArray(fc.integer({ min: 0, max: 24 * 60 - 1 }), { minLength: 1, maxLength: 5 }),
      days: fc.option(fc.subarray([...WEEKDAYS]), { nil: undefined }),
      holidays: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 5 }),
    })
    .map(({ timeZone, minutes, days, holidays }) => ({
      timeZone,
      shifts: minutes.map((m, i) => ({
        name: `S${i}`,
        start: `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`,
        ...(i === 0 && days ? { days } : {}),
      })),
      holidays: holidays.map((d) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString().slice(0, 10)),
    }));

  it('property: periods never overlap, have positive length, and are contiguous without days and holidays', () => {
    fc.assert(
      fc.property(calendarArb, fc.integer({ min: 0, max: 380 * 24 }), fc.integer({ min: 1, max: 24 * 20 }), (cal, startH, spanH) => {
        const from = Date.UTC(2026, 0, 1) + startH * H;
        const to = from + spanH * H;
        const plain = !cal.shifts.some((s) => 'days' in s) && cal.holidays.length === 0;
        const p = shiftPeriods(cal, from, to);
        for (let i = 0; i < p.length; i++) {
          expect(p[i]!.end).toBeGreaterThan(p[i]!.start);
          expect(p[i]!.start).toBeLessThan(to);
          expect(p[i]!.end).toBeGreaterThan(from);
          if (i > 0) {
            expect(p[i]!.start).toBeGreaterThanOrEqual(p[i - 1]!.end);
            if (plain) expect(p[i]!.start).toBe(p[i - 1]!.end);
          }
        }
        if (plain) {
          // Contiguous cover of the window.
          expect(p[0]!.start).toBeLessThanOrEqual(from);
          expect(p.at(-1)!.end).toBeGreaterThanOrEqual(to);
        }
      }),
      { numRuns: 300 },
    );
  });
});
