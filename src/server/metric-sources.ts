import type { ClusterAlarms } from '../cluster/alarms.js';
import type { ClusterLink } from '../cluster/link.js';
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

/**
 * A cluster member's figures: what it runs, whether it may run anything (split brain), hand-overs, forwarded writes,
 * and with `alarms` its alarm part's: forwarded alarm actions and journal commits refused by fencing.
 */
export function clusterMetricSource(link: ClusterLink, alarms?: Pick<ClusterAlarms, 'counts'>): MetricSource {
  return () => {
    const c = link.stats();
    const a = alarms?.counts;
    return [
      one(
        'gauge',
        'tagway_cluster_owned_connections',
        'Connections whose lease this node holds (it runs their drivers).',
        c.ownedConnections,
      ),
      one(
        'gauge',
        'tagway_cluster_healthy',
        '1 while this node reaches NATS and PostgreSQL and may own connections, else 0.',
        c.healthy ? 1 : 0,
      ),
      one('counter', 'tagway_cluster_takeovers_total', 'Leases this node took.', c.takeovers),
      one('counter', 'tagway_cluster_leases_lost_total', 'Leases this node found taken by another node at renewal.', c.leasesLost),
      one('counter', 'tagway_cluster_forwarded_writes_total', 'Writes forwarded to the owner of a connection.', c.forwardedWrites),
      one(
        'counter',
        'tagway_cluster_forwarded_write_failures_total',
        'Forwarded writes the owner did not answer.',
        c.forwardedWriteFailures,
      ),
      one('counter', 'tagway_cluster_value_messages_total', 'Messages of tag changes this node published.', c.valueMessages),
      ...(a
        ? [
            one(
              'counter',
              'tagway_cluster_forwarded_alarm_actions_total',
              'Alarm actions (acknowledge, reset, enable, shelve…) forwarded to the owner of a connection.',
              a.forwardedActions,
            ),
            {
              name: 'tagway_cluster_forwarded_alarm_action_failures_total',
              help: 'Alarm actions answered 503 DEVICE_UNAVAILABLE (no owner, or it refused or could not be reached) or 504 DEVICE_TIMEOUT.',
              type: 'counter' as const,
              samples: [
                { labels: { reason: 'unavailable' }, value: a.forwardedActionsUnavailable },
                { labels: { reason: 'timeout' }, value: a.forwardedActionsTimedOut },
              ],
            },
            one(
              'counter',
              'tagway_cluster_fenced_commits_total',
              'Alarm journal commits refused because this node no longer held the lease their events were evaluated under.',
              a.fencedCommits,
            ),
            one(
              'counter',
              'tagway_cluster_fenced_alarm_events_total',
              'Alarm events dropped by those refusals (the new owner rebuilt those alarms from the journal).',
              a.fencedEvents,
            ),
          ]
        : []),
    ];
  };
}
