import { compileGlob } from '../../domain/glob.js';
import { TagwayError } from '../../domain/problems.js';
import { OptionReader, type OptionProblem } from '../../drivers/shared/options.js';
import { readMqttOptions, type MqttOptions } from '../../drivers/mqtt/options.js';
import { Compile } from 'typebox/compile';
import { NorthboundMqttSchema } from '../../project/schema/northbound-mqtt.js';
import type { ProjectFile } from '../../project/schema/project.js';
import type { PathMessage } from '../../project/schema-errors.js';

/** The publisher's settings, defaults filled in. */
export interface MqttPublisherSettings {
  broker: MqttOptions;
  tags: string;
  format: 'json' | 'sparkplugB';
  topicPrefix: string;
  groupId: string;
  edgeNodeId: string;
  retain: boolean;
  qos: 0 | 1;
  writes: boolean;
  writeAs: string | undefined;
  queueSize: number;
}

export const DEFAULT_QUEUE_SIZE = 10_000;

/** The broker as logs and audit rows name it: the URL without any user:password@ (never a secret on record). */
export function brokerAddress(url: string): string {
  return url.replace(/^(mqtts?:\/\/)[^@/]*@/, '$1');
}

/** The keys of the section that are the broker connection, read by the MQTT driver's own reader. */
const BROKER_KEYS = [
  'url',
  'username',
  'password',
  'passwordEnv',
  'clientId',
  'protocolVersion',
  'ca',
  'cert',
  'key',
  'rejectUnauthorized',
  'keepalive',
  'timeoutMs',
  'reconnectMinMs',
  'reconnectMaxMs',
];

// A topic level of ours must not hold a wildcard, and a Sparkplug id must not hold a level separator either.
const TOPIC_PREFIX = /^[^+#\u0000]+$/;
const SPARKPLUG_ID = /^[^+#/\u0000]+$/;

const checkSection = Compile(NorthboundMqttSchema);

/** Reads `northbound.mqtt` strictly; `problems` are `[key, message]` like a driver's option problems. */
export function readMqttPublisherSettings(section: Readonly<Record<string, unknown>>): {
  settings: MqttPublisherSettings;
  problems: OptionProblem[];
} {
  const brokerPart: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) (BROKER_KEYS.includes(k) ? brokerPart : rest)[k] = v;
  const broker = readMqttOptions(brokerPart);
  const r = new OptionReader(rest);
  const tags = r.string('tags') ?? '**';
  try {
    compileGlob(tags);
  } catch (err) {
    r.problem('tags', err instanceof TagwayError ? err.message : String(err));
  }
  const format = r.oneOf('format', ['json', 'sparkplugB'] as const, 'json');
  const topicPrefix = r.string('topicPrefix', { pattern: TOPIC_PREFIX, patternText: 'a topic without the wildcards + and #' }) ?? 'tagway';
  if (topicPrefix.startsWith('$')) r.problem('topicPrefix', "must not start with '$' (brokers reserve such topics)");
  const groupId = r.string('groupId', { pattern: SPARKPLUG_ID, patternText: 'one topic level without + # or /' }) ?? 'Tagway';
  const edgeNodeId = r.string('edgeNodeId', { pattern: SPARKPLUG_ID, patternText: 'one topic level without + # or /' }) ?? 'tagway';
  const retain = r.boolean('retain', true);
  const qos = r.oneOf('qos', [0, 1] as const, 1);
  const writes = r.boolean('writes', false);
  const writeAs = r.string('writeAs', { pattern: /^[A-Za-z0-9_.@-]{1,64}$/, patternText: 'a Tagway user name' });
  if (writes && writeAs === undefined) r.problem('writeAs', 'is required when writes is true: the user MQTT writes act as');
  const queueSize = r.int('queueSize', DEFAULT_QUEUE_SIZE, 1, 1_000_000);
  return {
    settings: { broker: broker.options, tags, format, topicPrefix, groupId, edgeNodeId, retain, qos, writes, writeAs, queueSize },
    problems: [...broker.problems, ...r.rejectUnknown()],
  };
}

/** The project cross-check of `northbound.mqtt` (registered in src/server/built-ins.ts). */
export function validateNorthboundMqtt(project: ProjectFile): PathMessage[] {
  const section = project.northbound?.mqtt;
  // A section the schema refused is reported there once; these checks would only repeat it.
  if (section === undefined || !checkSection.Check(section)) return [];
  const { problems } = readMqttPublisherSettings(section as Record<string, unknown>);
  return problems.map(([key, message]) => ({ path: `/northbound/mqtt/${key}`, message: `'${key}' ${message}` }));
}
