import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal.js';
import type { Clock } from '../../domain/clock.js';
import { compileGlob } from '../../domain/glob.js';
import type { Metric } from '../../services/metrics-service.js';
import type { TagService } from '../../services/tag-service.js';
import type { TagEngine } from '../../runtime/tag-engine.js';
import { JsonFormat } from './json-format.js';
import { MqttConnection } from './publisher.js';
import { brokerAddress, type MqttPublisherSettings } from './settings.js';
import { SparkplugFormat } from './sparkplug-format.js';
import { MqttWrites } from './writes.js';

export { brokerAddress, readMqttPublisherSettings, validateNorthboundMqtt, type MqttPublisherSettings } from './settings.js';

export interface MqttPublisherDeps {
  settings: MqttPublisherSettings;
  engine: Pick<TagEngine, 'tags' | 'onChange'>;
  tags: Pick<TagService, 'write'>;
  principalFor(username: string): Principal | undefined;
  clock: Clock;
  logger: Logger;
}

export interface MqttPublisher {
  /** Connects (in the background, again and again until stop). */
  start(): void;
  stop(): Promise<void>;
  /** The publisher's figures for /metrics. */
  metrics(): Metric[];
  readonly connection: MqttConnection;
}

function one(type: 'gauge' | 'counter', name: string, help: string, value: number, labels?: Record<string, string>): Metric {
  return { name, help, type, samples: [labels ? { labels, value } : { value }] };
}

/**
 * The northbound MQTT publisher over the tags matching `settings.tags` (the tag set is fixed at start, as a
 * project reload cannot add tags). It follows the tag engine from `start()`; the connection is made, and remade,
 * in the background.
 */
export function createMqttPublisher(d: MqttPublisherDeps): MqttPublisher {
  const s = d.settings;
  const logger = d.logger;
  const wanted = compileGlob(s.tags);
  const published = d.engine.tags.filter((t) => wanted(t.def.name));
  const position = new Map(published.map((t, i) => [t.index, i]));
  const connection = new MqttConnection({ settings: s, clock: d.clock, logger });
  const writes =
    s.writes && s.writeAs !== undefined
      ? new MqttWrites({ tags: d.tags, principalFor: d.principalFor, writeAs: s.writeAs, clientAddress: brokerAddress(s.broker.url) })
      : undefined;
  let onChange: (i: number) => void;
  let format: JsonFormat | SparkplugFormat;
  if (s.format === 'json') {
    const json = new JsonFormat(s, published, connection, writes, logger);
    onChange = (i) => connection.send(json.change(i));
    format = json;
  } else {
    const sp = new SparkplugFormat(s, published, connection, writes, d.clock, logger);
    onChange = (i) => sp.change(i);
    format = sp;
  }
  let unsubscribe: (() => void) | undefined;
  return {
    connection,
    start: () => {
      if (unsubscribe) return;
      unsubscribe = d.engine.onChange((c) => {
        const i = position.get(c.tag.index);
        if (i !== undefined) onChange(i);
      });
      connection.start(format);
      logger.info({ url: brokerAddress(s.broker.url), format: s.format, tags: published.length }, 'northbound MQTT publisher started');
      // Users may be created later (tagway user add): a warning now, UNAUTHENTICATED answers until then.
      if (writes && d.principalFor(s.writeAs!) === undefined)
        logger.warn({ writeAs: s.writeAs }, 'northbound MQTT: the writeAs user does not exist or is disabled; writes are refused');
    },
    stop: async () => {
      unsubscribe?.();
      if (format instanceof SparkplugFormat) format.cancel();
      await connection.stop();
    },
    metrics: () => {
      const st = connection.stats();
      return [
        one(
          'gauge',
          'tagway_northbound_mqtt_connected',
          '1 while the northbound MQTT publisher is connected to its broker.',
          st.connected ? 1 : 0,
        ),
        one(
          'counter',
          'tagway_northbound_mqtt_published_total',
          'Messages the broker acknowledged (QoS 1) or that were sent (QoS 0).',
          st.published,
        ),
        one('gauge', 'tagway_northbound_mqtt_queued', 'Messages waiting in the store-and-forward queue.', st.queued),
        one(
          'counter',
          'tagway_northbound_mqtt_dropped_total',
          'Messages dropped, oldest first, from a full store-and-forward queue.',
          st.dropped,
        ),
        {
          name: 'tagway_northbound_mqtt_writes_total',
          help: 'Writes received through the broker, by outcome.',
          type: 'counter',
          samples: [
            { labels: { result: 'ok' }, value: writes?.ok ?? 0 },
            { labels: { result: 'refused' }, value: writes?.refused ?? 0 },
          ],
        },
      ];
    },
  };
}
