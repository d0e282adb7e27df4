import { describePeriod, shiftOn, shiftPeriods } from '../domain/shifts/calendar.js';
import { TagwayError } from '../domain/problems.js';
import type { Permission } from '../domain/permissions.js';
import { timeParam } from '../domain/time-param.js';
import type { ExportsConfig } from '../project/exports.js';
import type { OutboxDispatcher } from '../runtime/exports/delivery.js';
import type { EnqueuedEntry, ReportEngine, ReportPeriod } from '../runtime/exports/reports.js';
import type { ExportPayload, ReportDocument } from '../runtime/exports/types.js';
import type { OutboxAttempt, OutboxEntry, OutboxRepository } from '../storage/outbox-repository.js';
import type { AuditEvent } from '../runtime/audit.js';
import type { Actor } from './actor.js';
import type { Metric } from './metrics-service.js';

/** Outbox states as the API shows them: a pending entry already tried is `retrying`. */
export type OutboxState = 'pending' | 'retrying' | 'delivered' | 'dead';
export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'retrying', 'delivered', 'dead'];

export interface OutboxItem {
  id: number;
  state: OutboxState;
  report: string;
  target: string;
  key: string;
  periodStart: string;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
}

export interface OutboxDetail extends OutboxItem {
  payload: unknown;
  attemptLog: { at: string; status: number | null; answer: string }[];
}

/** `GET /shifts` spans at most this (a year of three shifts is ~1,100 periods). */
export const MAX_SHIFT_SPAN_MS = 366 * 86_400_000;
/** A manual run covers at most this span. */
export const MAX_RUN_SPAN_MS = 31 * 86_400_000;

export interface ExportServiceDeps {
  config: ExportsConfig;
  engine: ReportEngine;
  dispatcher: OutboxDispatcher;
  outbox: OutboxRepository;
  audit: { record(e: AuditEvent): Promise<void> };
  now(): number;
}

export type RunInput = { from: string; to: string } | { shift: string; date: string };

/**
 * Shift calendar, export reports and their outbox, for every front end. Reading needs `exports:read`; running a
 * report and the manual outbox actions need `exports:run` and are audited. Targets are shown without their
 * secrets (nothing of a target but its name, kind and URL leaves the server).
 */
export class ExportService {
  constructor(private readonly deps: ExportServiceDeps) {}

  private need(actor: Actor, p: Permission): void {
    if (!actor.principal.permissions.has(p)) throw new TagwayError('FORBIDDEN', `You lack the permission '${p}'`);
  }

  shifts(actor: Actor, from: string | undefined, to: string | undefined) {
    this.need(actor, 'exports:read');
    const cal = this.deps.config.calendar;
    if (!cal) throw new TagwayError('NOT_FOUND', "The project has no 'shifts:' calendar");
    const now = this.deps.now();
    const f = timeParam(from, 'from') ?? now - 86_400_000;
    const t = timeParam(to, 'to') ?? now + 86_400_000;
    if (!(t > f))
      throw new TagwayError('VALIDATION_FAILED', "'to' must be after 'from'", {
        errors: [{ field: 'querystring.to', message: 'must be after from' }],
      });
    if (t - f > MAX_SHIFT_SPAN_MS)
      throw new TagwayError('VALIDATION_FAILED', 'The span is longer than 366 days', {
        errors: [{ field: 'querystring.to', message: 'at most 366 days after from' }],
      });
    return { timeZone: cal.timeZone, items: shiftPeriods(cal, f, t).map((p) => describePeriod(cal.timeZone, p)) };
  }

  reports(actor: Actor) {
    this.need(actor, 'exports:read');
    const { reports, targets } = this.deps.config;
    return {
      reports: reports.map((r) => ({
        name: r.name,
        trigger: r.trigger,
        delayMs: r.delayMs,
        fields: r.fields.map((f) => ({ ...f })),
        targets: r.targets,
      })),
      // Secrets stay in the server: a target is its name, kind and URL (the URL without user info or query).
      targets: targets.map((t) => ({ name: t.name, kind: t.kind, url: safeUrl(t.url) })),
    };
  }

  /** Computes a report for a period now and enqueues it for its targets. */
  async run(actor: Actor, name: string, input: RunInput): Promise<{ report: ReportDocument; entries: EnqueuedEntry[] }> {
    this.need(actor, 'exports:run');
    const r = this.deps.engine.report(name);
    if (!r) throw new TagwayError('NOT_FOUND', `No report '${name}'`);
    const period = this.periodOf(input);
    const audit = (result: string, details: Record<string, unknown>) =>
      this.deps.audit.record({
        action: 'exports.run',
        user: actor.principal.username,
        clientAddress: actor.clientAddress,
        target: name,
        details: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString(), ...details },
        result,
      });
    try {
      const report = await this.deps.engine.compute(r, period);
      const entries = await this.deps.engine.enqueue(r, report, period);
      await audit('OK', { entries: entries.map((e) => e.id) });
      for (const e of entries) this.deps.dispatcher.notify(e.target);
      return { report, entries };
    } catch (err) {
      if (err instanceof TagwayError) await audit(err.code, { error: err.message });
      throw err;
    }
  }

  private periodOf(input: RunInput): ReportPeriod {
    if ('shift' in input) {
      const cal = this.deps.config.calendar;
      if (!cal)
        throw new TagwayError('VALIDATION_FAILED', "The project has no 'shifts:' calendar", {
          errors: [{ field: 'body.shift', message: 'no calendar' }],
        });
      const p = shiftOn(cal, input.shift, input.date);
      if (!p)
        throw new TagwayError('VALIDATION_FAILED', `No shift '${input.shift}' on ${input.date}`, {
          errors: [
            {
              field: 'body.shift',
              message: `no shift '${input.shift}' starts on '${input.date}' (unknown shift, not a date, a day off or a holiday)`,
            },
          ],
        });
      return { start: p.start, end: p.end, shift: p.name };
    }
    const start = timeParam(input.from, 'from', 'body')!;
    const end = timeParam(input.to, 'to', 'body')!;
    if (!(end > start))
      throw new TagwayError('VALIDATION_FAILED', "'to' must be after 'from'", {
        errors: [{ field: 'body.to', message: 'must be after from' }],
      });
    if (end - start > MAX_RUN_SPAN_MS)
      throw new TagwayError('VALIDATION_FAILED', 'A report covers at most 31 days', {
        errors: [{ field: 'body.to', message: 'at most 31 days after from' }],
      });
    return { start, end, shift: null };
  }

  async outbox(
    actor: Actor,
    q: {
      state?: OutboxState | undefined;
      report?: string | undefined;
      target?: string | undefined;
      after?: number | undefined;
      limit?: number | undefined;
    },
  ): Promise<{ items: OutboxItem[]; next: number | null }> {
    this.need(actor, 'exports:read');
    const limit = q.limit ?? 100;
    const status = q.state === 'retrying' ? 'pending' : q.state;
    const attempted = q.state === 'retrying' ? true : q.state === 'pending' ? false : undefined;
    const rows = await this.deps.outbox.list({ topic: q.target, group: q.report, status, attempted, afterId: q.after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { items: page.map(itemOf), next: rows.length > limit ? page.at(-1)!.id : null };
  }

  async entry(actor: Actor, id: number): Promise<OutboxDetail> {
    this.need(actor, 'exports:read');
    const e = await this.deps.outbox.get(id);
    if (!e || !this.isExport(e)) throw new TagwayError('NOT_FOUND', `No outbox entry ${id}`);
    const attempts: OutboxAttempt[] = await this.deps.outbox.attemptsOf(id);
    return {
      ...itemOf(e),
      payload: (e.payload as ExportPayload).body,
      attemptLog: attempts.map((a) => ({ at: new Date(a.at).toISOString(), status: a.status, answer: a.answer })),
    };
  }

  /** A dead entry is tried again at once (in its place: before later periods of its target). */
  async retry(actor: Actor, id: number): Promise<OutboxDetail> {
    return this.manual(actor, id, 'exports.retry', async (e) => {
      if (e.status !== 'dead') throw new TagwayError('INVALID_STATE', `Entry ${id} is ${stateOf(e)}; only dead entries are retried`);
      if (!(await this.deps.outbox.requeue(id, this.deps.now()))) throw new TagwayError('INVALID_STATE', `Entry ${id} changed meanwhile`);
      this.deps.dispatcher.notify(e.topic);
    });
  }

  /** A pending or retrying entry is given up (dead); nothing is sent for it any more. */
  async discard(actor: Actor, id: number): Promise<OutboxDetail> {
    return this.manual(actor, id, 'exports.discard', async (e) => {
      if (e.status !== 'pending')
        throw new TagwayError('INVALID_STATE', `Entry ${id} is ${stateOf(e)}; only pending or retrying entries are discarded`);
      if (!(await this.deps.outbox.discard(id, `discarded by ${actor.principal.username}`)))
        throw new TagwayError('INVALID_STATE', `Entry ${id} changed meanwhile`);
      this.deps.dispatcher.notify(e.topic);
    });
  }

  private async manual(actor: Actor, id: number, action: 'exports.retry' | 'exports.discard', act: (e: OutboxEntry) => Promise<void>) {
    this.need(actor, 'exports:run');
    const e = await this.deps.outbox.get(id);
    const audit = (result: string, details: Record<string, unknown> = {}) =>
      this.deps.audit.record({
        action,
        user: actor.principal.username,
        clientAddress: actor.clientAddress,
        target: String(id),
        details,
        result,
      });
    try {
      if (!e || !this.isExport(e)) throw new TagwayError('NOT_FOUND', `No outbox entry ${id}`);
      await act(e);
      await audit('OK', { report: (e.payload as ExportPayload).report, target: e.topic, key: (e.payload as ExportPayload).key });
    } catch (err) {
      if (err instanceof TagwayError) await audit(err.code, { error: err.message });
      throw err;
    }
    return this.entry(actor, id);
  }

  private isExport(e: OutboxEntry): boolean {
    return this.deps.config.targets.some((t) => t.name === e.topic) && typeof (e.payload as ExportPayload | null)?.key === 'string';
  }

  /** Outbox depth per state and target, deliveries, failures and cap refusals for /metrics. */
  async metrics(): Promise<Metric[]> {
    const counts = await this.deps.outbox.counts();
    const depth: Metric = {
      name: 'tagway_exports_outbox_entries',
      help: 'Export outbox entries by state and target.',
      type: 'gauge',
      samples: [],
    };
    for (const t of this.deps.config.targets)
      for (const state of OUTBOX_STATES) {
        const value = counts
          .filter(
            (c) =>
              c.topic === t.name &&
              (state === 'retrying'
                ? c.status === 'pending' && c.attempted
                : state === 'pending'
                  ? c.status === 'pending' && !c.attempted
                  : c.status === state),
          )
          .reduce((a, c) => a + c.count, 0);
        depth.samples.push({ labels: { target: t.name, state }, value });
      }
    const per = (name: string, help: string, pick: (s: { delivered: number; failedAttempts: number; dead: number }) => number): Metric => ({
      name,
      help,
      type: 'counter',
      samples: [...this.deps.dispatcher.stats].map(([target, s]) => ({ labels: { target }, value: pick(s) })),
    });
    return [
      depth,
      per('tagway_exports_deliveries_total', 'Export entries delivered.', (s) => s.delivered),
      per('tagway_exports_failed_attempts_total', 'Export delivery attempts that failed.', (s) => s.failedAttempts),
      per('tagway_exports_dead_total', 'Export entries given up (refused by the target or too old).', (s) => s.dead),
      {
        name: 'tagway_exports_outbox_full_total',
        help: 'Report periods not enqueued because a target reached its maxPending (each once, however often retried).',
        type: 'counter',
        samples: [{ value: this.deps.engine.capRejections }],
      },
    ];
  }
}

function stateOf(e: OutboxEntry): OutboxState {
  return e.status === 'pending' && e.attempts > 0 ? 'retrying' : e.status;
}

function itemOf(e: OutboxEntry): OutboxItem {
  const p = e.payload as ExportPayload;
  return {
    id: e.id,
    state: stateOf(e),
    report: p.report,
    target: e.topic,
    key: p.key,
    periodStart: new Date(p.periodStart).toISOString(),
    attempts: e.attempts,
    createdAt: new Date(e.createdAt).toISOString(),
    nextAttemptAt: e.status === 'pending' ? new Date(e.nextAttemptAt).toISOString() : null,
    deliveredAt: e.deliveredAt === null ? null : new Date(e.deliveredAt).toISOString(),
    lastError: e.lastError,
  };
}

function safeUrl(u: string): string {
  try {
    const x = new URL(u);
    return `${x.protocol}//${x.host}${x.pathname}`;
  } catch {
    return '';
  }
}
