import type { AlarmEngine } from '../runtime/alarms/engine.js';
import type { Historian } from '../runtime/historian.js';
import type { PushHub } from '../runtime/push/hub.js';
import type { MetricSource } from '../services/metrics-service.js';

/** The engines' own figures for `GET /metrics` (tags and connections are the metrics service's own). */
export function engineMetricSources(alarms: AlarmEngine, historian: Historian, hub: PushHub): MetricSource[] {
  return [
    () => [
      {
        name: 'tagway_alarms_current',
        help: 'Alarm occurrences active or waiting for acknowledgement.',
        type: 'gauge',
        samples: [{ value: alarms.currentNow().length }],
      },
    ],
    () => {
      const h = historian.stats();
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
      const p = hub.currentStats();
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
  ];
}
