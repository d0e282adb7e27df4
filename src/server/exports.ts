import { createSender } from '../adapters/erp/targets.js';
import { exportsOfProject } from '../project/exports.js';
import type { Historian } from '../runtime/historian.js';
import { OutboxDispatcher } from '../runtime/exports/delivery.js';
import { ReportEngine, type ReportSource } from '../runtime/exports/reports.js';
import { ExportScheduler } from '../runtime/exports/scheduler.js';
import type { TargetSender } from '../runtime/exports/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { ExportService } from '../services/export-service.js';
import type { Metric, MetricSource } from '../services/metrics-service.js';

/** How often the outbox depth shown in /metrics is recounted. */
const COUNT_EVERY_MS = 2000;

/** Periods a full outbox holds back, per report, and how often that began (the scheduler keeps them, not storage). */
function heldMetrics(scheduler: ExportScheduler): Metric[] {
  return [
    {
      name: 'tagway_exports_periods_held',
      help: 'Report periods not yet enqueued because a target outbox is full (enqueued in order when there is room).',
      type: 'gauge',
      samples: scheduler.heldReports().map((h) => ({ labels: { report: h.report }, value: h.periods })),
    },
    {
      name: 'tagway_exports_held_total',
      help: 'Times a scheduled report was held back by a full outbox.',
      type: 'counter',
      samples: [{ value: scheduler.heldTotal }],
    },
  ];
}

/**
 * Wires the exports for the composition root (main.ts): ERP senders (outbound adapters), report engine, outbox
 * dispatcher and scheduler, and the service over them. Everything stops with the runtime, before storage closes.
 */
export async function composeExports(runtime: Runtime, historian: Historian): Promise<{ service: ExportService; metrics: MetricSource }> {
  const config = exportsOfProject(runtime.project);
  const { storage, clock } = runtime;
  const logger = runtime.logger.child({ service: 'exports' });
  const senders = new Map<string, TargetSender>(config.targets.map((t) => [t.name, createSender(t)]));
  const source: ReportSource = {
    flush: async () => {
      await historian.flush();
    },
    tagInfo: (name) => {
      const t = runtime.tags.get(name);
      return t && historian.logs(t) ? { type: t.def.type, max: t.def.max } : undefined;
    },
    rolledSeries: async (tag, plan, maxRows, fields) => {
      const id = await storage.history.findTagId(tag);
      return id === undefined
        ? { series: { length: 0, ts: [], values: [], quality: [] }, rollups: [] }
        : storage.history.rolledSeries(id, plan, maxRows, fields);
    },
    countRaised: async (glob, from, to) => {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await storage.alarmJournal.query({ from, to, alarm: glob, event: 'RAISED', order: 'asc', limit: 10_000, cursor });
        n += page.items.length;
        cursor = page.next ?? undefined;
      } while (cursor);
      return n;
    },
  };
  const engine = new ReportEngine(config, source, storage.outbox, senders, () => clock.now());
  const dispatcher = new OutboxDispatcher(storage.outbox, senders, config.targets, clock, logger);
  const service = new ExportService({
    config,
    engine,
    dispatcher,
    outbox: storage.outbox,
    audit: runtime.security.audit,
    now: () => clock.now(),
  });
  const scheduler = new ExportScheduler(
    config.reports,
    config.calendar,
    storage.keyValues,
    clock,
    async (report, period) => {
      const doc = await engine.compute(report, period);
      for (const e of await engine.enqueue(report, doc, period)) dispatcher.notify(e.target);
    },
    logger,
  );
  dispatcher.onSettled = () => scheduler.wake();
  let snapshot: Metric[] = [];
  const recount = () =>
    void service.metrics().then(
      (m) => (snapshot = m),
      () => undefined,
    );
  const timer = config.targets.length ? clock.setInterval(recount, COUNT_EVERY_MS) : undefined;
  recount();
  dispatcher.start();
  await scheduler.start();
  runtime.onStop(async () => {
    if (timer !== undefined) clock.clearInterval(timer);
    await scheduler.stop();
    await dispatcher.stop();
  });
  return { service, metrics: () => [...snapshot, ...heldMetrics(scheduler)] };
}
