import { alarmRoutes } from '../adapters/http/rest/alarms/routes.js';
import type { ApiPlugin } from '../adapters/http/rest/plugin.js';
import type { Authenticator } from '../adapters/http/rest/authenticate.js';
import { createAlarmEngine } from '../runtime/alarms/setup.js';
import { AlarmService } from '../services/alarm-service.js';
import type { Runtime } from '../runtime/runtime.js';
import { adminRoutes } from '../adapters/http/rest/admin/routes.js';
import { auditRoutes } from '../adapters/http/rest/audit/routes.js';
import { pushExtension } from '../adapters/http/rest/push/index.js';
import { securityAuthenticators } from '../adapters/http/rest/security/authenticators.js';
import { tokenRoutes } from '../adapters/http/rest/security/token-routes.js';
import { attachHistory } from './history.js';
import { metricsRoutes } from '../adapters/http/rest/metrics/routes.js';

/**
 * Capabilities beyond the core (alarms, history, push, audit, extra authentication methods) attach here:
 * each creates its runtime service on the runtime and contributes route plugins and authenticators.
 */
export interface Extensions {
  plugins: ApiPlugin[];
  authenticators: Authenticator[];
}

export async function extensions(runtime: Runtime): Promise<Extensions> {
  const alarms = await createAlarmEngine(runtime);
  runtime.onStop(runtime.security.audit.attachToAlarms(alarms));
  // The alarm journal's storage state in /health: degraded while events wait for a journal that refuses commits.
  runtime.onStop(
    runtime.storageHealth.register(() => {
      const s = alarms.storageState();
      return s.state === 'ok'
        ? { name: 'alarm journal', ok: true }
        : {
            name: 'alarm journal',
            ok: false,
            reason: `${s.reason ?? 'commit refused'}; ${s.pendingEvents} events waiting since ${s.since ?? '?'}`,
          };
    }),
  );
  // Tag logging (historian) and /tags/{name}/history, /history/query.
  const history = attachHistory(runtime);
  // Live push (/ws, /events): tag values, and the alarm engine's committed journal events.
  const push = pushExtension(runtime, { alarms });
  const metrics = metricsRoutes([
    () => [
      {
        name: 'tagway_alarms_current',
        help: 'Alarm occurrences active or waiting for acknowledgement.',
        type: 'gauge',
        samples: [{ value: alarms.currentNow().length }],
      },
    ],
    () => {
      const h = history.historian.stats();
      return [
        {
          name: 'tagway_history_buffered_samples',
          help: 'Samples waiting to be written.',
          type: 'gauge',
          samples: [{ value: h.buffered }],
        },
        { name: 'tagway_history_written_total', help: 'Samples written.', type: 'counter', samples: [{ value: h.written }] },
        {
          name: 'tagway_history_dropped_total',
          help: 'Samples dropped because storage did not keep up.',
          type: 'counter',
          samples: [{ value: h.dropped }],
        },
        {
          name: 'tagway_history_failed_flushes_total',
          help: 'Batch writes that failed.',
          type: 'counter',
          samples: [{ value: h.failedFlushes }],
        },
      ];
    },
    () => {
      const p = push.service.hub.currentStats();
      return [
        { name: 'tagway_push_connections', help: 'Open WebSocket and SSE clients.', type: 'gauge', samples: [{ value: p.connections }] },
        {
          name: 'tagway_push_congested_connections',
          help: 'Clients whose socket is congested (values coalesced).',
          type: 'gauge',
          samples: [{ value: p.congested }],
        },
        {
          name: 'tagway_push_buffered_bytes',
          help: 'Bytes buffered for clients that have not read yet.',
          type: 'gauge',
          samples: [{ value: p.bufferedBytes }],
        },
        { name: 'tagway_push_value_items_total', help: 'Value items sent.', type: 'counter', samples: [{ value: p.valueItems }] },
        {
          name: 'tagway_push_dropped_connections_total',
          help: 'Clients dropped for not reading.',
          type: 'counter',
          samples: [{ value: p.droppedConnections }],
        },
        {
          name: 'tagway_push_resyncs_total',
          help: 'Resync notices sent after dropped alarm events.',
          type: 'counter',
          samples: [{ value: p.resyncs }],
        },
      ];
    },
  ]);
  return {
    plugins: [
      metrics,
      alarmRoutes(new AlarmService({ engine: alarms, audit: runtime.security.audit, maxBulkItems: runtime.config.maxBulkItems })),
      history.plugin,
      push.plugin,
      tokenRoutes,
      auditRoutes,
      adminRoutes,
    ],
    authenticators: [...securityAuthenticators],
  };
}
