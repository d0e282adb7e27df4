import { computeFieldRolled, counterWrap, type FieldValue, type QualityFlag } from '../../domain/exports/aggregates.js';
import { planRollups, rollupFieldsFor, type RolledSeries, type RollupField, type RollupPlan } from '../../domain/history/rollup.js';
import { TagwayError } from '../../domain/problems.js';
import { INTEGER_RANGES } from '../../domain/tag-types.js';
import type { ExportReportConfig, ExportsConfig } from '../../project/exports.js';
import type { OutboxRepository } from '../../storage/outbox-repository.js';
import type { ExportPayload, ReportDocument, TargetSender } from './types.js';

/** What a report reads: the historian's series and the alarm journal, behind a small seam (see main.ts). */
export interface ReportSource {
  /** Samples still in the historian's buffer are written first: a report at a shift end sees the last minute. */
  flush(): Promise<void>;
  tagInfo(name: string): { type: string; max?: number | string | undefined } | undefined;
  /**
   * The period as roll-ups of its whole minutes and raw samples of its edges, with the last sample before it
   * (HistoryRepository.rolledSeries); throws SeriesTooLarge beyond `maxRows` rows.
   */
  rolledSeries(tag: string, plan: RollupPlan, maxRows: number, fields?: ReadonlySet<RollupField>): Promise<RolledSeries>;
  /** RAISED events of alarms matching the glob in [from, to). */
  countRaised(glob: string, from: number, to: number): Promise<number>;
}

export interface ReportPeriod {
  start: number;
  end: number;
  /** The shift's name for shiftEnd reports, null for cron and manual time ranges. */
  shift: string | null;
}

/**
 * Rows one field may read (an 8 h shift at 1 s is 480 minute roll-ups, or 28,800 samples were it read raw);
 * beyond, the report is refused, not truncated.
 */
export const MAX_FIELD_SAMPLES = 1_000_000;

export interface EnqueuedEntry {
  target: string;
  id: number;
  key: string;
}

/** Idempotency key of a report period at a target: the same after any restart, any recomputation. */
export function idempotencyKey(report: string, period: ReportPeriod, target: string): string {
  return `${report}/${new Date(period.start).toISOString()}/${new Date(period.end).toISOString()}/${target}`;
}

/** Computes reports and turns each (period, target) into one outbox entry, committed before any delivery. */
export class ReportEngine {
  /** Report periods refused because a target's outbox was full, each counted once however often it is tried again. */
  capRejections = 0;
  /**
   * The last period refused, per report. The scheduler tries a refused period again until it goes in and holds the
   * later ones behind it, so its retries are always of the last period refused: one per report is enough memory.
   */
  private readonly lastRefused = new Map<string, string>();

  constructor(
    private readonly config: ExportsConfig,
    private readonly source: ReportSource,
    private readonly outbox: OutboxRepository,
    private readonly senders: ReadonlyMap<string, TargetSender>,
    private readonly now: () => number,
  ) {}

  report(name: string): ExportReportConfig | undefined {
    return this.config.reports.find((r) => r.name === name);
  }

  async compute(report: ExportReportConfig, period: ReportPeriod): Promise<ReportDocument> {
    await this.source.flush();
    const values: Record<string, number | string | null> = {};
    const flags: Record<string, QualityFlag[]> = {};
    for (const f of report.fields) {
      let r: FieldValue;
      if (f.aggregate === 'alarmCount') r = { value: await this.source.countRaised(f.alarms ?? '**', period.start, period.end), flags: [] };
      else {
        const tag = f.tag ?? '';
        const info = this.source.tagInfo(tag);
        if (!info) r = { value: null, flags: ['noData'] };
        else {
          let rolled: RolledSeries;
          try {
            // Whole minutes from their roll-ups, raw samples only for the partial minutes at the edges: the same
            // values and flags as from the raw samples (computeFieldRolled), read in a fraction of the rows.
            rolled = await this.source.rolledSeries(
              tag,
              planRollups(period.start, period.end),
              MAX_FIELD_SAMPLES,
              rollupFieldsFor(f.aggregate),
            );
          } catch (err) {
            if ((err as Error).name === 'SeriesTooLarge')
              throw new TagwayError(
                'PAYLOAD_TOO_LARGE',
                `Field '${f.name}': the period holds more than ${MAX_FIELD_SAMPLES} samples (or minute roll-ups) of '${tag}'`,
              );
            throw err;
          }
          r = computeFieldRolled(f.aggregate, rolled, period.start, period.end, {
            wrapAt: f.aggregate === 'delta' ? counterWrap(info.type, info.max, INTEGER_RANGES) : undefined,
            maxGapMs: f.maxGapMs,
          });
        }
      }
      values[f.name] = r.value;
      if (r.flags.length) flags[f.name] = r.flags;
    }
    return {
      report: report.name,
      period: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString(), shift: period.shift },
      values,
      flags,
      generatedAt: new Date(this.now()).toISOString(),
    };
  }

  /**
   * One entry per target, in one transaction. A period already enqueued for a target (same key) is not added again:
   * its existing id is answered. A target at its cap refuses the whole report (OUTBOX_FULL), so that no target gets
   * a period the others miss.
   */
  async enqueue(report: ExportReportConfig, doc: ReportDocument, period: ReportPeriod): Promise<EnqueuedEntry[]> {
    const pending = new Map<string, number>();
    for (const c of await this.outbox.counts()) if (c.status === 'pending') pending.set(c.topic, (pending.get(c.topic) ?? 0) + c.count);
    for (const name of report.targets) {
      const t = this.config.targets.find((x) => x.name === name);
      if (t && (pending.get(name) ?? 0) >= t.maxPending) {
        const refused = `${period.start}/${period.end}`;
        if (this.lastRefused.get(report.name) !== refused) {
          this.lastRefused.set(report.name, refused);
          this.capRejections++;
        }
        throw new TagwayError(
          'OUTBOX_FULL',
          `Target '${name}' has ${pending.get(name)} entries waiting (maxPending ${t.maxPending}); report '${report.name}' for ${doc.period.start} was not enqueued`,
        );
      }
    }
    const entries = report.targets.map((target) => {
      const key = idempotencyKey(report.name, period, target);
      const sender = this.senders.get(target);
      if (!sender) throw new TagwayError('INTERNAL_ERROR', `No sender for target '${target}'`);
      const payload: ExportPayload = { key, report: report.name, periodStart: period.start, body: sender.prepare(doc, key) };
      return { topic: target, payload, key, group: report.name };
    });
    const ids = await this.outbox.enqueue(entries, this.now());
    return entries.map((e, i) => ({ target: e.topic, id: ids[i]!, key: e.key }));
  }
}
