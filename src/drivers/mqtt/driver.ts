import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions } from 'mqtt';
import { TagwayError } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import { Backoff } from '../backoff.js';
import { ConnectionSupervisor } from '../shared/supervisor.js';
import type { ConnectionDefinition, ConnectionStats, Driver, DriverHost, DriverTag } from '../driver.js';
import { mqttClientOptions, readMqttOptions, readMqttTagOptions, topicProblem, type MqttOptions, type MqttTagOptions } from './options.js';
import { decodePayload, encodePayload } from './payload.js';
import { errorText, openMqttSession, type MqttSessionBase } from './session.js';

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

/** One broker connection: the client and what the current attempt learnt. */
interface MqttSession extends MqttSessionBase {
  /** Bindings that received a fitting message in this session (they keep GOOD when the session comes up). */
  fresh: Set<Binding>;
  /** Topics whose subscription the broker refused in this session. */
  refused: Set<string>;
}

/**
 * MQTT client driver (mqtt.js, MQTT 3.1.1 or 5). Each tag is one exact topic, optionally a JSON pointer into its
 * payload. mqtt.js's own reconnect is off (`reconnectPeriod: 0`): on any loss the client is ended and a new one
 * made by the shared ConnectionSupervisor, so states, BAD marking, back-off and `stop()` behave as for every protocol.
 */
export class MqttDriver implements Driver {
  readonly publishesWrites = false;
  readonly options: MqttOptions;
  private readonly byTopic = new Map<string, { qos: 0 | 1 | 2; bindings: Binding[] }>();
  private readonly byIndex = new Map<number, Binding>();
  private readonly counters: ConnectionStats = { reads: 0, writes: 0, errors: 0, rttMs: undefined };
  private readonly clientId: string;
  private readonly supervisor: ConnectionSupervisor<MqttSession>;
  private running = false;
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
    // Tags whose topic or options are unusable keep BAD_CONFIGURATION_ERROR: the supervisor marks only the others.
    const bound = [...this.byIndex.values()].map((b) => b.tag);
    this.supervisor = new ConnectionSupervisor<MqttSession>(
      host,
      bound,
      new Backoff(options.reconnectMinMs, options.reconnectMaxMs),
      {
        open: (signal) => this.open(signal),
        close: (session) => this.endClient(session),
        up: (session) => this.up(session),
        down: (session) => {
          session.dead = true;
          this.rejectPending(`connection lost before the broker acknowledged`);
        },
      },
      {
        failedAttemptState: 'ERROR',
        stoppedQuality: Quality.BAD_NOT_CONNECTED,
        onFailure: (reason, phase) =>
          host.logger.warn(
            { connection: connection.name, url: options.url },
            `MQTT ${phase === 'connect' ? 'connect failed' : 'connection lost'}: ${reason}`,
          ),
      },
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const tag of this.tags) if (!this.byIndex.has(tag.index)) this.host.setQuality(tag.index, Quality.BAD_CONFIGURATION_ERROR);
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.rejectPending('the connection was stopped');
    await this.supervisor.stop();
    await Promise.allSettled([...this.endings]);
  }

  stats(): ConnectionStats {
    return { ...this.counters, errors: this.counters.errors + this.supervisor.failures };
  }

  get isConnected(): boolean {
    return this.supervisor.session !== undefined;
  }

  private clientOptions(): IClientOptions {
    // Writes while disconnected are refused, never queued for later: a late setpoint is worse than none.
    return { ...mqttClientOptions(this.options, this.clientId), queueQoSZero: false };
  }

  /** Connects and subscribes; resolves once the broker acknowledged the subscriptions. */
  private open(signal: AbortSignal): Promise<MqttSession> {
    return openMqttSession<MqttSession>({
      connect: () => ({
        client: mqtt.connect(this.options.url, this.clientOptions()),
        lastError: undefined,
        dead: false,
        fresh: new Set(),
        refused: new Set(),
      }),
      signal,
      timeoutMs: this.options.timeoutMs,
      ready: (session) => this.subscribe(session),
      onMessage: (session, topic, payload) => this.onMessage(session, topic, payload),
      lost: (session, reason) => this.supervisor.lost(session, reason),
      end: (session) => this.endClient(session),
    });
  }

  private async subscribe(session: MqttSession): Promise<void> {
    const map: Record<string, { qos: 0 | 1 | 2 }> = {};
    for (const [topic, e] of this.byTopic) map[topic] = { qos: e.qos };
    const granted = this.byTopic.size === 0 ? [] : await session.client.subscribeAsync(map);
    for (const g of granted) {
      // SUBACK 0x80 and above (MQTT 5 reason codes; 128 in 3.1.1) is a refusal, e.g. not authorised.
      if (g.qos >= 0x80) {
        session.refused.add(g.topic);
        this.host.logger.warn({ topic: g.topic, reason: g.qos }, 'the broker refused the subscription');
        for (const b of this.byTopic.get(g.topic)?.bindings ?? []) this.host.setQuality(b.tag.index, Quality.BAD_CONFIGURATION_ERROR);
      }
    }
  }

  private up(session: MqttSession): void {
    // Until a message arrives the last value is all we have: usable, not good. Retained messages may already have
    // arrived with the SUBACK; those tags are fresh and keep their GOOD.
    for (const b of this.byIndex.values()) {
      if (session.fresh.has(b) || session.refused.has(b.tag.def.address ?? '')) continue;
      this.host.setQuality(b.tag.index, b.hasValue ? Quality.UNCERTAIN_LAST_USABLE_VALUE : Quality.UNCERTAIN_INITIAL_VALUE);
    }
  }

  /** Ends a client; resolves once it is gone. `stop()` also awaits endings started by failed attempts. */
  private endClient(session: MqttSession): Promise<void> {
    const client = session.client;
    client.removeAllListeners('connect');
    client.removeAllListeners('message');
    client.removeAllListeners('close');
    // mqtt.js emits 'error' on a socket that dies while ending; the listener set in open() stays so it is never unhandled.
    const p = new Promise<void>((resolve) => {
      client.end(true, {}, () => resolve());
    });
    this.endings.add(p);
    void p.finally(() => this.endings.delete(p));
    return p;
  }

  private rejectPending(reason: string): void {
    for (const p of this.pending) p.reject(new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.connection.name}': ${reason}`));
    this.pending.clear();
  }

  private onMessage(session: MqttSession, topic: string, payload: Buffer): void {
    const entry = this.byTopic.get(topic);
    if (!entry) return;
    const now = this.host.clock.now();
    for (const b of entry.bindings) {
      const r = decodePayload(b.tag.def.type, payload, b.options.pointer);
      if (r.ok) {
        this.counters.reads++;
        b.hasValue = true;
        session.fresh.add(b);
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
    const client = this.supervisor.session?.client;
    if (!b) throw new TagwayError('DEVICE_UNAVAILABLE', `Tag '${tag.def.name}': its topic or options are not usable`);
    if (!client)
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
