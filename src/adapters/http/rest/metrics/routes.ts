import { qualityName } from '../../../../domain/quality.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import { requirePermission } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { renderMetrics, type Metric } from './prometheus.js';

/** A capability's own figures for /metrics (historian, push hub, alarm engine contribute theirs). */
export type MetricSource = () => Metric[];

function coreMetrics(runtime: Runtime): Metric[] {
  const byQuality = { GOOD: 0, UNCERTAIN: 0, BAD: 0 };
  for (const t of runtime.tags.tags) byQuality[qualityName(t.quality)]++;
  const conns = runtime.connections.list();
  const mem = process.memoryUsage();
  const perConnection = (pick: (c: (typeof conns)[number]) => number) =>
    conns.map((c) => ({ labels: { connection: c.name, driver: c.driver }, value: pick(c) }));
  return [
    {
      name: 'tagway_uptime_seconds',
      help: 'Seconds since the runtime started.',
      type: 'gauge',
      samples: [{ value: Math.round((runtime.clock.now() - runtime.startedAt) / 1000) }],
    },
    {
      name: 'tagway_tags',
      help: 'Tags by quality.',
      type: 'gauge',
      samples: Object.entries(byQuality).map(([quality, value]) => ({ labels: { quality }, value })),
    },
    {
      name: 'tagway_connection_up',
      help: '1 when the connection is CONNECTED.',
      type: 'gauge',
      samples: perConnection((c) => (c.state === 'CONNECTED' ? 1 : 0)),
    },
    {
      name: 'tagway_connection_reads_total',
      help: 'Reads (polls, notifications) of the connection.',
      type: 'counter',
      samples: perConnection((c) => c.stats.reads),
    },
    {
      name: 'tagway_connection_writes_total',
      help: 'Writes through the connection.',
      type: 'counter',
      samples: perConnection((c) => c.stats.writes),
    },
    {
      name: 'tagway_connection_errors_total',
      help: 'Errors of the connection.',
      type: 'counter',
      samples: perConnection((c) => c.stats.errors),
    },
    {
      name: 'tagway_connection_rtt_milliseconds',
      help: 'Last round-trip time, where the protocol has one.',
      type: 'gauge',
      samples: conns
        .filter((c) => c.stats.rttMs !== undefined)
        .map((c) => ({ labels: { connection: c.name, driver: c.driver }, value: c.stats.rttMs! })),
    },
    { name: 'process_resident_memory_bytes', help: 'Resident set size.', type: 'gauge', samples: [{ value: mem.rss }] },
    { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use.', type: 'gauge', samples: [{ value: mem.heapUsed }] },
  ];
}

/**
 * `GET /metrics` in Prometheus text format, for monitoring the server itself (not plant values). Needs
 * `tags:read`, so a scraper authenticates like any client (an API client's JWT or Basic).
 */
export function metricsRoutes(sources: MetricSource[]): ApiPlugin {
  return async (app, { runtime }) => {
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Server metrics (Prometheus)',
          description:
            'Prometheus text exposition format 0.0.4: tags by quality, connection state and counters, alarms, historian, push, memory.',
          tags: ['health'],
          produces: ['text/plain'],
          response: { ...problems(401, 403) },
        },
      },
      async (request, reply) => {
        requirePermission(request, 'tags:read');
        const metrics = [...coreMetrics(runtime), ...sources.flatMap((s) => s())];
        return reply.type('text/plain; version=0.0.4; charset=utf-8').serializer(String).send(renderMetrics(metrics));
      },
    );
  };
}
