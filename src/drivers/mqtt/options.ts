import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { GENERIC_CONNECTION_KEYS, OptionReader, type OptionProblem } from '../shared/options.js';
import { parsePointer } from './json-pointer.js';

export interface MqttOptions {
  url: string;
  username: string | undefined;
  password: string | undefined;
  clientId: string | undefined;
  protocolVersion: 4 | 5;
  /** PEM file paths, read at each connect (certificates may be renewed while Tagway runs). */
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  rejectUnauthorized: boolean;
  /** Seconds, as MQTT counts them. */
  keepalive: number;
  clean: boolean;
  /** Bound on CONNECT → CONNACK and on a publish's acknowledgement. */
  timeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export function readMqttOptions(options: Readonly<Record<string, unknown>>): { options: MqttOptions; problems: OptionProblem[] } {
  const r = new OptionReader(options, { known: GENERIC_CONNECTION_KEYS });
  const url =
    r.string('url', {
      required: true,
      pattern: /^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/,
      patternText: 'an mqtt:// or mqtts:// URL such as "mqtt://10.0.0.5:1883"',
    }) ?? '';
  const username = r.string('username');
  const rawPassword = options['password'];
  r.markSeen('password');
  let password: string | undefined;
  if (typeof rawPassword === 'string') password = rawPassword;
  else if (rawPassword !== undefined && rawPassword !== null) r.problem('password', 'must be a string');
  // Keeps the secret out of the project file: the password comes from this environment variable when set.
  const passwordEnv = r.string('passwordEnv', { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, patternText: 'an environment variable name' });
  if (passwordEnv !== undefined) {
    if (password !== undefined) r.problem('passwordEnv', 'give either password or passwordEnv, not both');
    else password = process.env[passwordEnv] ?? '';
  }
  if (password !== undefined && username === undefined) r.problem('password', 'needs a username');
  const clientId = r.string('clientId', { pattern: /^[\x21-\x7e]{1,128}$/, patternText: '1–128 printable ASCII characters' });
  const protocolVersion = r.oneOf('protocolVersion', [4, 5] as const, 5);
  const ca = r.string('ca');
  const cert = r.string('cert');
  const key = r.string('key');
  if ((cert === undefined) !== (key === undefined)) r.problem(cert === undefined ? 'cert' : 'key', 'cert and key go together');
  if ((ca || cert) && !url.startsWith('mqtts://')) r.problem('url', 'must be mqtts:// when ca, cert or key are set');
  const rejectUnauthorized = r.boolean('rejectUnauthorized', true);
  const keepalive = r.int('keepalive', 30, 0, 65535);
  const clean = r.boolean('clean', true);
  const timeoutMs = r.int('timeoutMs', 5000, 100, 600_000);
  const reconnectMinMs = r.int('reconnectMinMs', 500, 10, 3_600_000);
  const reconnectMaxMs = r.int('reconnectMaxMs', 30_000, 10, 3_600_000);
  if (reconnectMaxMs < reconnectMinMs) r.problem('reconnectMaxMs', 'must not be below reconnectMinMs');
  return {
    options: {
      url,
      username,
      password,
      clientId,
      protocolVersion,
      ca,
      cert,
      key,
      rejectUnauthorized,
      keepalive,
      clean,
      timeoutMs,
      reconnectMinMs,
      reconnectMaxMs,
    },
    problems: r.rejectUnknown(),
  };
}

/**
 * mqtt.js client options for one connect (the driver and the northbound publisher share them). mqtt.js's own
 * reconnect is off: the ConnectionSupervisor reconnects with back-off. TLS files are read at each connect, so a
 * renewed certificate is used without a restart.
 */
export function mqttClientOptions(o: MqttOptions, clientId: string): IClientOptions {
  const opts: IClientOptions = {
    clientId,
    protocolVersion: o.protocolVersion,
    keepalive: o.keepalive,
    clean: o.clean,
    reconnectPeriod: 0,
    connectTimeout: o.timeoutMs,
    resubscribe: false,
  };
  if (o.username !== undefined) opts.username = o.username;
  if (o.password !== undefined) opts.password = o.password;
  if (o.url.startsWith('mqtts://')) {
    opts.rejectUnauthorized = o.rejectUnauthorized;
    if (o.ca) opts.ca = readFileSync(o.ca);
    if (o.cert) opts.cert = readFileSync(o.cert);
    if (o.key) opts.key = readFileSync(o.key);
  }
  return opts;
}

export interface MqttTagOptions {
  /** Parsed JSON pointer tokens, or undefined for a plain-text payload. */
  pointer: string[] | undefined;
  qos: 0 | 1 | 2;
  retain: boolean;
  writeTopic: string | undefined;
}

/** Why a topic cannot name one tag's value, or undefined. Wildcards subscribe to many topics: refused. */
export function topicProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'the topic is empty';
  if (/[+#]/.test(topic)) return `topic '${topic}' contains a wildcard (+ or #); a tag needs one exact topic`;
  if (topic.includes('\u0000')) return 'the topic contains a NUL character';
  if (Buffer.byteLength(topic) > 65535) return 'the topic is longer than 65535 bytes';
  return undefined;
}

export function readMqttTagOptions(options: Readonly<Record<string, unknown>> | undefined): {
  options: MqttTagOptions;
  problems: OptionProblem[];
} {
  const r = new OptionReader(options ?? {});
  const jsonPointer = options?.['jsonPointer'];
  r.markSeen('jsonPointer');
  let pointer: string[] | undefined;
  if (jsonPointer !== undefined) {
    if (typeof jsonPointer !== 'string') r.problem('jsonPointer', 'must be a string such as "/value"');
    else {
      const p = parsePointer(jsonPointer);
      if (p.ok) pointer = p.tokens;
      else r.problem('jsonPointer', p.message);
    }
  }
  const qos = r.oneOf('qos', [0, 1, 2] as const, 1);
  const retain = r.boolean('retain', false);
  const writeTopic = r.string('writeTopic');
  if (writeTopic !== undefined) {
    const p = topicProblem(writeTopic);
    if (p) r.problem('writeTopic', p);
  }
  return { options: { pointer, qos, retain, writeTopic }, problems: r.rejectUnknown() };
}
