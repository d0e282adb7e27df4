import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { shiftsEndedBetween, type ShiftCalendar } from '../../domain/shifts/calendar.js';
import { TagwayError } from '../../domain/problems.js';
import type { ExportReportConfig } from '../../project/exports.js';
import type { KeyValueRepository } from '../../storage/key-value-repository.js';
import type { ReportPeriod } from './reports.js';

const NAMESPACE = 'exports';
/** A restart after a long outage catches up at most this many periods per report (oldest first). */
export const MAX_CATCH_UP_PERIODS = 500;
const DAY = 86_400_000;

/** The occurrences of a 5-field cron expression in a zone, read with croner. */
export class CronSchedule {
  private readonly cron: Cron;
  constructor(expr: string, timeZone: string) {
    this.cron = new Cron(expr, { timezone: timeZone, paused: true });
  }
  /** The first occurrence strictly after `t`. */
  next(t: number): number | undefined {
    return this.cron.nextRun(new Date(t))?.getTime();
  }
  /** The last occurrence strictly before `t` (searching back up to a year). */
  previous(t: number): number | undefined {
    for (const span of [3_600_000, DAY, 32 * DAY, 367 * DAY]) {
      let last: number | undefined;
      let at = t - span - 1;
      for (let i = 0; i < 100_000; i++) {
        const n = this.next(at);
        if (n === undefined || n >= t) break;
        last = n;
        at = n;
      }
      if (last !== undefined) return last;
    }
    return undefined;
  }
}

/** Periods of a report ending in `(after, upTo]`, oldest first. */
export function periodsEnding(
  report: ExportReportConfig,
  calendar: ShiftCalendar | undefined,
  after: number,
  upTo: number,
): ReportPeriod[] {
  if (report.trigger === 'shiftEnd') {
    if (!calendar) return [];
    return shiftsEndedBetween(calendar, after, upTo).map((p) => ({ start: p.start, end: p.end, shift: p.name }));
  }
  const cron = new CronSchedule(report.trigger, calendar?.timeZone ?? 'UTC');
  const out: ReportPeriod[] = [];
  let t = after;
  for (;;) {
    const end = cron.next(t);
    if (end === undefined || end > upTo) break;
    const start = cron.previous(end) ?? end;
    out.push({ start, end, shift: null });
    t = end;
  }
  return out;
}

/** The next period end of a report after `t`. */
export function nextPeriodEnd(report: ExportReportConfig, calendar: ShiftCalendar | undefined, t: number): number | undefined {
  if (report.trigger === 'shiftEnd') {
    if (!calendar) return undefined;
    for (let span = 2 * DAY; span <= 16 * DAY; span *= 2) {
      const p = shiftsEndedBetween(calendar, t, t + span);
      if (p.length) return p[0]!.end;
    }
    return undefined;
  }
  return new CronSchedule(report.trigger, calendar?.timeZone ?? 'UTC').next(t);
}

export type FirePeriod = (report: ExportReportConfig, period: ReportPeriod) => Promise<void>;

export interface SchedulerOptions {
  /** A report held back by a full outbox tries again after this long at the latest (sooner when woken). */
  fullRetryMs?: number | undefined;
}

/** A report whose next period met a full outbox: that period and the ones after it wait, in order. */
export interface HeldReport {
  report: string;
  /** Start of the oldest period not enqueued (epoch ms). */
  since: number;
  /** Periods ended and not yet enqueued, as of the last try. */
  periods: number;
}

const DEFAULT_FULL_RETRY_MS = 10_000;
/** After a wake (entries delivered: room may have freed), a held report tries again this soon. */
const WAKE_DELAY_MS = 1000;

const outboxFull = (err: unknown) => err instanceof TagwayError && err.code === 'OUTBOX_FULL';

/**
 * Fires each report at its period ends (shift ends, or its cron occurrences in the calendar's zone) plus its
 * `delayMs`. The end of the last period handled is kept per report in the key-value store, so that after a restart
 * (or a stop of days) the missed periods are computed and enqueued in order; the outbox's keys make a period that
 * was enqueued just before a crash count once.
 *
 * A period refused because a target's outbox is full (OUTBOX_FULL) is not skipped: the stored end stays before it,
 * so it and every later period of the report wait, durably (a restart finds them as missed periods), and are tried
 * again in order every `fullRetryMs` and soon after the dispatcher delivers entries (`wake`). Other failures (a
 * report that cannot be computed) are logged and skipped, as before.
 */
export class ExportScheduler {
  private readonly timers = new Map<string, { handle: unknown; at: number }>();
  private readonly running = new Set<Promise<void>>();
  private readonly busy = new Set<string>();
  private readonly held = new Map<string, HeldReport>();
  private readonly fullRetryMs: number;
  /** Times a report became held by a full outbox (a counter for /metrics). */
  heldTotal = 0;
  private stopped = false;

  constructor(
    private readonly reports: readonly ExportReportConfig[],
    private readonly calendar: ShiftCalendar | undefined,
    private readonly kv: KeyValueRepository,
    private readonly clock: Clock,
    private readonly fire: FirePeriod,
    private readonly logger?: Logger,
    opts: SchedulerOptions = {},
  ) {
    this.fullRetryMs = opts.fullRetryMs ?? DEFAULT_FULL_RETRY_MS;
  }

  /** Reports held back by a full outbox now. */
  heldReports(): HeldReport[] {
    return [...this.held.values()];
  }

  /** Entries were settled, so an outbox may have room: held reports try again soon. */
  wake(): void {
    if (this.stopped) return;
    for (const name of this.held.keys()) {
      const r = this.reports.find((x) => x.name === name);
      const t = this.timers.get(name);
      if (r && (t === undefined || t.at > this.clock.now() + WAKE_DELAY_MS)) this.scheduleIn(r, WAKE_DELAY_MS);
    }
  }

  async start(): Promise<void> {
    for (const r of this.reports) {
      const saved = await this.kv.get(NAMESPACE, `lastEnd:${r.name}`);
      if (typeof saved?.value !== 'number')
        await this.kv.set(NAMESPACE, `lastEnd:${r.name}`, this.clock.now() - r.delayMs, this.clock.now());
      this.track(this.run(r));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t.handle);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Handles every period that ended (plus delay) since the last one, then sleeps until the next. */
  private async run(r: ExportReportConfig): Promise<void> {
    // A wake may fire while a run is under way: that run reschedules itself.
    if (this.stopped || this.busy.has(r.name)) return;
    this.busy.add(r.name);
    try {
      const lastEnd = (await this.kv.get(NAMESPACE, `lastEnd:${r.name}`))?.value as number;
      const due = periodsEnding(r, this.calendar, lastEnd, this.clock.now() - r.delayMs);
      if (due.length > MAX_CATCH_UP_PERIODS)
        this.logger?.warn({ report: r.name, missed: due.length }, `only the last ${MAX_CATCH_UP_PERIODS} missed periods are caught up`);
      const todo = due.slice(-MAX_CATCH_UP_PERIODS);
      for (let i = 0; i < todo.length; i++) {
        const p = todo[i]!;
        if (this.stopped) return;
        try {
          await this.fire(r, p);
        } catch (err) {
          if (outboxFull(err)) {
            // Not skipped: lastEnd stays before this period, so it waits (across restarts too) and goes first.
            this.hold(r, p, todo.length - i, err as Error);
            this.scheduleIn(r, this.fullRetryMs);
            return;
          }
          // A report that cannot be computed is logged and counted; the schedule goes on.
          this.logger?.error({ err, report: r.name, start: new Date(p.start).toISOString() }, 'export report failed');
        }
        await this.kv.set(NAMESPACE, `lastEnd:${r.name}`, p.end, this.clock.now());
      }
      const was = this.held.get(r.name);
      if (was) {
        this.held.delete(r.name);
        this.logger?.info(
          { report: r.name, since: new Date(was.since).toISOString() },
          'export periods held by a full outbox are enqueued',
        );
      }
      const last = due.at(-1)?.end ?? lastEnd;
      this.schedule(r, nextPeriodEnd(r, this.calendar, Math.max(last, this.clock.now() - r.delayMs)));
    } catch (err) {
      this.logger?.error({ err, report: r.name }, 'export scheduler failed; retrying in 10 s');
      this.scheduleIn(r, 10_000);
    } finally {
      this.busy.delete(r.name);
    }
  }

  /** Notes a report held by a full outbox; logged once per episode, not at every try. */
  private hold(r: ExportReportConfig, p: ReportPeriod, periods: number, err: Error): void {
    if (!this.held.has(r.name)) {
      this.heldTotal++;
      this.logger?.warn(
        { report: r.name, start: new Date(p.start).toISOString(), reason: err.message },
        'export outbox full: the period and the ones after it wait and are enqueued in order when there is room',
      );
    }
    this.held.set(r.name, { report: r.name, since: p.start, periods });
  }

  private schedule(r: ExportReportConfig, end: number | undefined): void {
    if (end === undefined) return;
    this.scheduleIn(r, end + r.delayMs - this.clock.now());
  }

  private scheduleIn(r: ExportReportConfig, ms: number): void {
    if (this.stopped) return;
    const prev = this.timers.get(r.name);
    if (prev !== undefined) this.clock.clearTimeout(prev.handle);
    const wait = Math.min(DAY, Math.max(0, ms));
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(r.name);
      this.track(this.run(r));
    }, wait);
    this.timers.set(r.name, { handle, at: this.clock.now() + wait });
  }
}
