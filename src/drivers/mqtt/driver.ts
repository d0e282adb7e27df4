import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { TagwayError } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import { Backoff } from '../backoff.js';
import type { ConnectionDefinition, ConnectionStats, Driver, DriverHost, DriverTag } from '../driver.js';
import { readMqttOptions, readMqttTagOptions, topicProblem, type MqttOptions, type MqttTagOptions } from './options.js';
import { decodePayload, encodePayload } from './payload.js';

interface Binding {
  tag: DriverTag;
  options: MqttTagOptions;
  /** Received at least one value that fitted (decides UNCERTAIN last-usable vs initial after a reconnect). */
  hasValue: boolean;
  /** A payload that did not fit was logged; quiet until one fits again. */
  complained: boolean;
}

interface Pending {
  reject(err: TagwayError): void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * MQTT client driver (mqtt.js, MQTT 3.1.1 or 5). Each tag is one exact topic, optionally a JSON pointer into its
 * payload. mqtt.js's own reconnect is off (`reconnectPeriod: 0`): on any loss the client is ended and a new one
 * made with our Backoff, so the states, the BAD marking and `stop()` are all in one place.
 */
export class MqttDriver implements Driver {
  readonly publishesWrites = false;
  readonly options: MqttOptions;
  private readonly byTopic = new Map<string, { qos: 0 | 1 | 2; bindings: Binding[] }>();
  private readonly byIndex = new Map<number, Binding>();
  private readonly backoff: Backoff;
  private readonly counters: ConnectionStats = { reads: 0, writes: 0, errors: 0, rttMs: undefined };
  private readonly clientId: string;
  private client: MqttClient | undefined;
  private connected = false;
  private stopping = true;
  private generation = 0;
  private timer: unknown;
  /** Bounds the current attempt until CONNACK; cleared with the client so stop() leaves no timer behind. */
  private guard: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Pending>();
  private readonly endings = new Set<Promise<void>>();

  constructor(
    private readonly connection: ConnectionDefinition,
    private readonly tags: DriverTag[],
    private readonly host: DriverHost,
  ) {
    const { options, problems } = readMqttOptions(connection);
    if (problems.length > 0) {
      throw new TagwayError('VALIDATION_FAILED', `Connection '${connection.name}': ${problems.map(([k, m]) => `${k} ${m}`).join('; ')}`);
    }
    this.options = options;
    this.backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
    // A fixed default would make two Tagway instances kick each other off the broker; random keeps them apart.
    this.clientId =
      options.clientId ?? `tagway-${connection.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
    for (const tag of tags) {
      const topic = tag.def.address ?? '';
      const t = readMqttTagOptions(tag.def.options);
      const problem = topicProblem(topic) ?? t.problems.map(([k, m]) => `options.${k} ${m}`).join('; ');
      if (problem) {
        host.logger.warn({ tag: tag.def.name }, problem);
        continue;
      }
      const binding: Binding = { tag, options: t.options, hasValue: false, complained: false };
      this.byIndex.set(tag.index, binding);
      const entry = this.byTopic.get(topic) ?? { qos: 0, bindings: [] };
      entry.qos = Math.max(entry.qos, t.options.qos) as 0 | 1 | 2;
      entry.bindings.push(binding);
      this.byTopic.set(topic, entry);
    }
  }

  async start(): Promise<void> {
    if (!this.stopping) return;
    this.stopping = false;
    for (const tag of this.tags) if (!this.byIndex.has(tag.index)) this.host.setQuality(tag.index, Quality.BAD_CONFIGURATION_ERROR);
    this.attempt();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.generation++;
    if (this.timer !== undefined) {
      this.host.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const wasConnected = this.connected;
    this.connected = false;
    this.rejectPending('the connection was stopped');
    this.endClient();
    await Promise.allSettled([...this.endings]);
    this.markAll(Quality.BAD_NOT_CONNECTED);
    this.host.state('DISCONNECTED', wasConnected ? undefined : 'stopped');
  }

  stats(): ConnectionStats {
    return { ...this.counters };
  }

  get isConnected(): boolean {
    return this.connected;
  }

  private markAll(quality: number): void {
    for (const b of this.byIndex.values()) this.host.setQuality(b.tag.index, quality);
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    const opts: IClientOptions = {
      clientId: this.clientId,
      protocolVersion: o.protocolVersion,
      keepalive: o.keepalive,
      clean: o.clean,
      reconnectPeriod: 0,
      connectTimeout: o.timeoutMs,
      // Writes while disconnected are refused, never queued for later: a late setpoint is worse than none.
      queueQoSZero: false,
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

  private attempt(): void {
    const gen = ++this.generation;
    this.host.state('CONNECTING');
    let client: MqttClient;
    try {
      client = mqtt.connect(this.options.url, this.clientOptions());
    } catch (err) {
      // e.g. a TLS file that cannot be read: reported like any failed attempt, retried with back-off.
      queueMicrotask(() => this.fail(gen, errorText(err)));
      return;
    }
    this.client = client;
    let lastError: string | undefined;
    // mqtt.js's connectTimeout covers CONNECT → CONNACK; this guard also covers a TCP connect that hangs.
    const guard = setTimeout(() => this.fail(gen, `no CONNACK within ${this.options.timeoutMs} ms`), this.options.timeoutMs + 500);
    this.guard = guard;
    client.on('error', (err) => {
      lastError = errorText(err);
    });
    client.on('close', () => {
      clearTimeout(guard);
      this.fail(gen, lastError ?? 'connection closed');
    });
    client.on('message', (topic, payload) => {
      if (gen === this.generation) this.onMessage(topic, payload);
    });
    client.on('connect', () => {
      clearTimeout(guard);
      if (gen !== this.generation) return;
      this.subscribe(client, gen).catch((err: unknown) => this.fail(gen, `subscribe failed: ${errorText(err)}`));
    });
  }

  private async subscribe(client: MqttClient, gen: number): Promise<void> {
    const map: Record<string, { qos: 0 | 1 | 2 }> = {};
    for (const [topic, e] of this.byTopic) map[topic] = { qos: e.qos };
    const granted = this.byTopic.size === 0 ? [] : await client.subscribeAsync(map);
    if (gen !== this.generation) return;
    for (const g of granted) {
      // SUBACK 0x80 and above (MQTT 5 reason codes; 128 in 3.1.1) is a refusal, e.g. not authorised.
      if (g.qos >= 0x80) {
        this.host.logger.warn({ topic: g.topic, reason: g.qos }, 'the broker refused the subscription');
        for (const b of this.byTopic.get(g.topic)?.bindings ?? []) this.host.setQuality(b.tag.index, Quality.BAD_CONFIGURATION_ERROR);
      }
    }
    this.connected = true;
    this.backoff.reset();
    // Until a message arrives the last value is all we have: usable, not good (retained messages follow at once).
    for (const b of this.byIndex.values()) {
      const q = b.hasValue ? Quality.UNCERTAIN_LAST_USABLE_VALUE : Quality.UNCERTAIN_INITIAL_VALUE;
      if (!granted.some((g) => g.qos >= 0x80 && g.topic === (b.tag.def.address ?? ''))) this.host.setQuality(b.tag.index, q);
    }
    this.host.state('CONNECTED');
  }

  private fail(gen: number, reason: string): void {
    if (gen !== this.generation || this.stopping) return;
    this.generation++;
    const state = this.connected ? 'DISCONNECTED' : 'ERROR';
    this.connected = false;
    this.counters.errors++;
    this.rejectPending(`connection lost before the broker acknowledged (${reason})`);
    this.markAll(Quality.BAD_NOT_CONNECTED);
    this.host.state(state, reason);
    this.host.logger.warn(
      { connection: this.connection.name, url: this.options.url },
      `MQTT ${state === 'ERROR' ? 'connect failed' : 'connection lost'}: ${reason}`,
    );
    this.endClient();
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopping) this.attempt();
    }, this.backoff.next());
  }

  private endClient(): void {
    if (this.guard !== undefined) {
      clearTimeout(this.guard);
      this.guard = undefined;
    }
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('connect');
    client.removeAllListeners('message');
    client.removeAllListeners('close');
    // mqtt.js emits 'error' on a socket that dies while ending; keep a listener so it is never unhandled.
    const p = new Promise<void>((resolve) => {
      client.end(true, {}, () => resolve());
    });
    this.endings.add(p);
    void p.finally(() => this.endings.delete(p));
  }

  private rejectPending(reason: string): void {
    for (const p of this.pending) p.reject(new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.connection.name}': ${reason}`));
    this.pending.clear();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const entry = this.byTopic.get(topic);
    if (!entry) return;
    const now = this.host.clock.now();
    for (const b of entry.bindings) {
      const r = decodePayload(b.tag.def.type, payload, b.options.pointer);
      if (r.ok) {
        this.counters.reads++;
        b.hasValue = true;
        b.complained = false;
        this.host.update(b.tag.index, r.value, Quality.GOOD, now);
      } else {
        this.counters.errors++;
        this.host.setQuality(b.tag.index, Quality.BAD_CONFIGURATION_ERROR, now);
        if (!b.complained) {
          b.complained = true;
          this.host.logger.warn({ tag: b.tag.def.name, topic }, `payload does not fit the tag: ${r.message}`);
        }
      }
    }
  }

  async write(tag: DriverTag, value: TagValue): Promise<void> {
    const b = this.byIndex.get(tag.index);
    const client = this.client;
    if (!b) throw new TagwayError('DEVICE_UNAVAILABLE', `Tag '${tag.def.name}': its topic or options are not usable`);
    if (!this.connected || !client)
      throw new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.connection.name}' is not connected; cannot write '${tag.def.name}'`);
    const topic = b.options.writeTopic ?? tag.def.address!;
    const payload = encodePayload(tag.def.type, value, b.options.pointer);
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const entry: Pending = {
        reject: (err) => {
          clearTimeout(timer);
          this.counters.errors++;
          reject(err);
        },
      };
      // QoS 0 completes when the packet is written; QoS 1/2 when PUBACK / PUBCOMP arrives.
      const timer = setTimeout(() => {
        this.pending.delete(entry);
        this.counters.errors++;
        reject(
          new TagwayError(
            'DEVICE_TIMEOUT',
            `Tag '${tag.def.name}': the broker did not acknowledge the publish within ${this.options.timeoutMs} ms`,
          ),
        );
      }, this.options.timeoutMs);
      this.pending.add(entry);
      client.publish(topic, payload, { qos: b.options.qos, retain: b.options.retain }, (err) => {
        if (!this.pending.delete(entry)) return;
        clearTimeout(timer);
        if (err) {
          this.counters.errors++;
          reject(new TagwayError('DEVICE_UNAVAILABLE', `Tag '${tag.def.name}': publish failed: ${errorText(err)}`, { cause: err }));
        } else {
          this.counters.writes++;
          this.counters.rttMs = Math.round((performance.now() - started) * 10) / 10;
          resolve();
        }
      });
    });
  }
}
