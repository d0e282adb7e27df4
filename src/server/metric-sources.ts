import type { AlarmEngine } from '../runtime/alarms/engine.js';
import type { Historian } from '../runtime/historian.js';
import type { PushHub } from '../runtime/push/hub.js';
import type { MetricSource } from '../services/metrics-service.js';

type OneSample = ReturnType<MetricSource>[number];

/** A metric with a single unlabelled sample, the shape of every engine figure. */
function one(type: 'gauge' | 'counter', name: string, help: string, value: number): OneSample {
  return { name, help, type, samples: [{ value }] };
}

/** The engines' own figures for `GET /metrics` (tags and connections are the metrics service's own). */
export function engineMetricSources(alarms: AlarmEngine, historian: Historian, hub: PushHub): MetricSource[] {
  return [
    () => [one('gauge', 'tagway_alarms_current', 'Alarm occurrences active or waiting for acknowledgement.', alarms.currentNow().length)],
    () => {
      const h = historian.stats();
      return [
        one('gauge', 'tagway_history_buffered_samples', 'Samples waiting to be written.', h.buffered),
        one('counter', 'tagway_history_written_total', 'Samples written.', h.written),
        one('counter', 'tagway_history_dropped_total', 'Samples dropped because storage did not keep up.', h.dropped),
        one('counter', 'tagway_history_failed_flushes_total', 'Batch writes that failed.', h.failedFlushes),
      ];
    },
    () => {
      const p = hub.currentStats();
      return [
        one('gauge', 'tagway_push_connections', 'Open WebSocket and SSE clients.', p.connections),
        one('gauge', 'tagway_push_congested_connections', 'Clients whose socket is congested (values coalesced).', p.congested),
        one('gauge', 'tagway_push_buffered_bytes', 'Bytes buffered for clients that have not read yet.', p.bufferedBytes),
        one('counter', 'tagway_push_value_items_total', 'Value items sent.', p.valueItems),
        one('counter', 'tagway_push_dropped_connections_total', 'Clients dropped for not reading.', p.droppedConnections),
        one('counter', 'tagway_push_resyncs_total', 'Resync notices sent after dropped alarm events.', p.resyncs),
      ];
    },
  ];
}
