import { qualityName } from '../domain/quality.js';
import { TagwayError } from '../domain/problems.js';
import type { Actor } from './actor.js';
import type { ConnectionService } from './connection-service.js';

export type MetricType = 'gauge' | 'counter';

export interface Metric {
  name: string;
  help: string;
  type: MetricType;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

/** A capability's own figures for /metrics (historian, push hub, alarm engine contribute theirs). */
export type MetricSource = () => Metric[];

export interface MetricsServiceDeps {
  tags: { readonly tags: ReadonlyArray<{ readonly def: { readonly name: string }; readonly quality: number }> };
  connections: ConnectionService;
  /** Milliseconds since the runtime started. */
  uptimeMs(): number;
  sources: readonly MetricSource[];
}

/**
 * The server's own figures. Needs `tags:read`. A caller whose `tags:read` is scoped gets the tag and connection
 * figures over its scope only (tags by quality among the tags it may read, the connections that supply them) and
 * no server-wide figures (alarms, historian, push, memory): those count things outside its rights. A monitoring
 * scraper is given unscoped `tags:read`.
 */
export class MetricsService {
  constructor(private readonly deps: MetricsServiceDeps) {}

  collect(actor: Actor): Metric[] {
    const perms = actor.principal.permissions;
    if (!perms.has('tags:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:read'");
    const global = perms.unscoped('tags:read');
    const byQuality = { GOOD: 0, UNCERTAIN: 0, BAD: 0 };
    for (const t of this.deps.tags.tags) if (global || perms.allows('tags:read', t.def.name)) byQuality[qualityName(t.quality)]++;
    const conns = this.deps.connections.list(actor);
    const perConnection = (pick: (c: (typeof conns)[number]) => number) =>
      conns.map((c) => ({ labels: { connection: c.name, driver: c.driver }, value: pick(c) }));
    const metrics: Metric[] = [
      {
        name: 'tagway_uptime_seconds',
        help: 'Seconds since the runtime started.',
        type: 'gauge',
        samples: [{ value: Math.round(this.deps.uptimeMs() / 1000) }],
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
        name: 'tagway_connection_reconnects_total',
        help: 'Times the connection was established again after it had been lost.',
        type: 'counter',
        samples: perConnection((c) => c.reconnects),
      },
      {
        name: 'tagway_connection_rtt_milliseconds',
        help: 'Last round-trip time, where the protocol has one.',
        type: 'gauge',
        samples: conns
          .filter((c) => c.stats.rttMs !== undefined)
          .map((c) => ({ labels: { connection: c.name, driver: c.driver }, value: c.stats.rttMs! })),
      },
    ];
    if (!global) return metrics;
    const mem = process.memoryUsage();
    metrics.push(
      { name: 'process_resident_memory_bytes', help: 'Resident set size.', type: 'gauge', samples: [{ value: mem.rss }] },
      { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use.', type: 'gauge', samples: [{ value: mem.heapUsed }] },
    );
    for (const s of this.deps.sources) metrics.push(...s());
    return metrics;
  }
}
