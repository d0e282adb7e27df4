import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/domain/clock.js';
import { TagwayError } from '../../../../src/domain/problems.js';
import type { ExportReportConfig } from '../../../../src/project/exports.js';
import { backoffMs, DEFAULT_BACKOFF } from '../../../../src/runtime/exports/delivery.js';
import type { ReportPeriod } from '../../../../src/runtime/exports/reports.js';
import { CronSchedule, ExportScheduler, periodsEnding } from '../../../../src/runtime/exports/scheduler.js';
import { parseRetryAfter, verdictOf } from '../../../../src/runtime/exports/types.js';
import { openSqliteStorage, type SqliteStorage } from '../../../../src/storage/sqlite/open-sqlite.js';
import { waitUntil } from '../../../helpers/wait.js';

const iso = (t: number) => new Date(t).toISOString().slice(11, 16);
const report = (trigger: string, delayMs = 0): ExportReportConfig => ({
  name: 'r',
  trigger,
  delayMs,
  targets: ['t'],
  fields: [{ name: 'n', tag: 'T', aggregate: 'last' }],
});
const calendar = {
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'Early', start: '06:00' },
    { name: 'Late', start: '14:00' },
    { name: 'Night', start: '22:00' },
  ],
};

describe('export scheduler', () => {
  let dir: string;
  let storage: SqliteStorage;
  afterEach(async () => {
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    dir ??= mkdtempSync(join(tmpdir(), 'tagway-sched-'));
    storage = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
    return storage;
  };

  it('fires cron periods on time and catches up the periods missed while stopped, in order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-sched-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 10, 30));
    const fired: ReportPeriod[] = [];
    const fire = async (_: ExportReportConfig, p: ReportPeriod) => void fired.push(p);
    let s = new ExportScheduler([report('0 * * * *', 1000)], undefined, open().keyValues, clock, fire);
    await s.start();
    clock.advance(2 * 3_600_000);
    await waitUntil(() => fired.length === 2, 'two hourly periods');
    expect(fired.map((p) => `${iso(p.start)}-${iso(p.end)}`)).toEqual(['10:00-11:00', '11:00-12:00']);
    await s.stop();
    await storage.close();
    // Down for five hours: the restart books 12–13 … 16–17, oldest first, and goes on.
    clock.advance(5 * 3_600_000);
    s = new ExportScheduler([report('0 * * * *', 1000)], undefined, open().keyValues, clock, fire);
    await s.start();
    await waitUntil(() => fired.length === 7, 'the missed periods');
    expect(fired.slice(2).map((p) => iso(p.end))).toEqual(['13:00', '14:00', '15:00', '16:00', '17:00']);
    clock.advance(3_600_000);
    await waitUntil(() => fired.length === 8, 'the next period');
    await s.stop();
  });

  it('fires shiftEnd reports after their delay; a failing period does not stop the schedule', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-sched-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0));
    const fired: string[] = [];
    let first = true;
    const s = new ExportScheduler([report('shiftEnd', 60_000)], calendar, open().keyValues, clock, async (_, p) => {
      fired.push(`${p.shift} ${iso(p.start)}-${iso(p.end)}`);
      if (first) {
        first = false;
        throw new Error('no history for the period');
      }
    });
    await s.start();
    clock.advance(17 * 3_600_000);
    await waitUntil(() => fired.length === 2, 'two shift ends');
    expect(fired).toEqual(['Early 05:00-13:00', 'Late 13:00-21:00']);
    await s.stop();
  });

  it('holds a period refused by a full outbox, durably and in order, and enqueues it when there is room', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-sched-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 10, 30));
    const enqueued: string[] = [];
    let room = 0;
    const fire = async (_: ExportReportConfig, p: ReportPeriod) => {
      if (room <= 0) throw new TagwayError('OUTBOX_FULL', "Target 't' has 2 entries waiting (maxPending 2)");
      room--;
      enqueued.push(iso(p.end));
    };
    const lines: string[] = [];
    const logger = {
      warn: (_: unknown, m: string) => lines.push(m),
      info: (_: unknown, m: string) => lines.push(m),
      error: () => undefined,
    };
    const make = () =>
      new ExportScheduler([report('0 * * * *', 1000)], undefined, open().keyValues, clock, fire, logger as never, { fullRetryMs: 60_000 });
    let s = make();
    await s.start();
    clock.advance(2 * 3_600_000);
    await waitUntil(() => s.heldReports().length === 1, 'the 11:00 period held');
    expect(s.heldReports()).toEqual([{ report: 'r', since: Date.UTC(2026, 0, 15, 10), periods: 2 }]);
    // Retries while full: still held, logged once.
    clock.advance(3 * 60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(enqueued).toEqual([]);
    expect(lines.filter((l) => l.startsWith('export outbox full'))).toHaveLength(1);
    expect(s.heldTotal).toBe(1);
    // Restarted while full: the held periods are still there, found again from storage.
    await s.stop();
    await storage.close();
    s = make();
    await s.start();
    await waitUntil(() => s.heldReports()[0]?.periods === 2, 'held after the restart');
    // Room for one: a wake (entries delivered) enqueues the oldest held period, then holds the next.
    room = 1;
    s.wake();
    clock.advance(1000);
    await waitUntil(() => enqueued.length === 1 && s.heldReports()[0]?.since === Date.UTC(2026, 0, 15, 11), 'one enqueued');
    // Room for all: the retry timer, without a wake, enqueues the rest in order and the schedule goes on.
    room = 10;
    clock.advance(60_000);
    await waitUntil(() => enqueued.length === 2 && s.heldReports().length === 0, 'the rest enqueued');
    expect(enqueued).toEqual(['11:00', '12:00']);
    expect(lines.filter((l) => l.startsWith('export periods held'))).toHaveLength(1);
    clock.advance(3_600_000);
    await waitUntil(() => enqueued.length === 3, 'the next period');
    expect(enqueued).toEqual(['11:00', '12:00', '13:00']);
    await s.stop();
  });

  it('reads cron occurrences in the zone, and the previous one', () => {
    const c = new CronSchedule('15 12 * * *', 'Europe/Berlin');
    expect(new Date(c.next(Date.UTC(2026, 6, 1))!).toISOString()).toBe('2026-07-01T10:15:00.000Z');
    expect(new Date(c.previous(Date.UTC(2026, 6, 1, 10, 15))!).toISOString()).toBe('2026-06-30T10:15:00.000Z');
    expect(periodsEnding(report('0 0 * * *'), undefined, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 3)).map((p) => p.end)).toEqual([
      Date.UTC(2026, 0, 2),
      Date.UTC(2026, 0, 3),
    ]);
  });
});

describe('delivery rules', () => {
  it('classifies answers', () => {
    expect([null, 200, 201, 204, 301, 400, 401, 403, 404, 408, 409, 422, 429, 500, 503].map(verdictOf)).toEqual([
      'retry',
      'delivered',
      'delivered',
      'delivered',
      'retry',
      'permanent',
      'retry',
      'retry',
      'permanent',
      'retry',
      'permanent',
      'permanent',
      'retry',
      'retry',
      'retry',
    ]);
  });
  it('backs off exponentially with jitter, capped, and honours a longer Retry-After', () => {
    const o = { ...DEFAULT_BACKOFF, baseMs: 1000, maxMs: 60_000 };
    expect(backoffMs(1, o, () => 0)).toBe(500);
    expect(backoffMs(1, o, () => 1)).toBe(1000);
    expect(backoffMs(4, o, () => 1)).toBe(8000);
    expect(backoffMs(30, o, () => 1)).toBe(60_000);
    expect(backoffMs(1, o, () => 1, 120_000)).toBe(120_000);
    expect(backoffMs(1, o, () => 1, 10 * 3_600_000)).toBe(3_600_000);
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:01:00 GMT', 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
