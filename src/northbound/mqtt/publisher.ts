import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../domain/clock.js';
import { Backoff } from '../../drivers/backoff.js';
import { mqttClientOptions } from '../../drivers/mqtt/options.js';
import { openMqttSession, type MqttSessionBase } from '../../drivers/mqtt/session.js';
import { ConnectionSupervisor } from '../../drivers/shared/supervisor.js';
import type { Logger } from 'pino';
import { BoundedQueue } from './queue.js';
import { brokerAddress, type MqttPublisherSettings } from './settings.js';

/** One message for the broker. */
export interface Outbound {
  topic: string;
  retain: boolean;
  /** Sparkplug builds its payload when it is sent (sequence numbers, historical flags); JSON ahead of time. */
  payload: Buffer | (() => Buffer);
  /**
   * Values are sent again after a lost connection when the broker never acknowledged them; a birth or a status
   * belongs to its connection and is replaced by the next connection's own.
   */
  replay: boolean;
}

/** What one payload format (JSON topics, Sparkplug B) adds to the shared connection, queue and pump. */
export interface PublishFormat {
  /** The Last Will of the next connection (called once per connect attempt). */
  will(): NonNullable<IClientOptions['will']>;
  /** Topic filters to subscribe to (writes, commands). */
  subscriptions(): string[];
  /**
   * Messages that open a connection, before anything queued (status online, Sparkplug births). `lostValues`: the
   * queue dropped messages since the last connection (or there was none), so subscribers need the present state.
   */
  intro(lostValues: boolean): Outbound[];
  /** Messages after the backlog of this connection: the current value of every tag when `lostValues`. */
  snapshot(lostValues: boolean): Iterator<Outbound> | undefined;
  /** A message on a subscribed topic. */
  message(topic: string, payload: Buffer): void;
  /** The goodbye of an orderly stop (status offline, Sparkplug NDEATH). */
  goodbye(): Outbound | undefined;
}

interface Session extends MqttSessionBase {
  /** Messages sent and not yet acknowledged (QoS 1) or written (QoS 0), by local id, oldest first. */
  inflight: Map<number, Outbound>;
  intro: Outbound[];
  /** Queue entries that were there at connect: sent before the snapshot. */
  backlog: number;
  snapshot: Iterator<Outbound> | undefined;
}

/** Largest packet the broker may deliver to the publisher (MQTT 5): a write payload, its topic and headers. */
export const MAX_INBOUND_PACKET_BYTES = 256 * 1024;

/** Bound on unacknowledged messages per connection; beyond it messages wait in the bounded queue. */
export const MAX_INFLIGHT = 1_000;

export interface PublisherStats {
  published: number;
  dropped: number;
  queued: number;
  connected: boolean;
}

export interface PublisherDeps {
  settings: MqttPublisherSettings;
  clock: Clock;
  logger: Logger;
}

/**
 * The northbound connection to one broker: the MQTT driver's ConnectionSupervisor (back-off with jitter,
 * reconnect forever until stop), a bounded store-and-forward queue, and a pump that sends in order with at most
 * MAX_INFLIGHT unacknowledged messages. After a reconnect it sends the format's intro, the backlog in order, then
 * (when messages were dropped, or at the first connect) the current value of every tag. At least once: what a lost
 * connection sent without acknowledgement is sent again.
 */
export class MqttConnection {
  private readonly queue: BoundedQueue<Outbound>;
  private readonly supervisor: ConnectionSupervisor<Session>;
  private readonly clientId: string;
  private format!: PublishFormat;
  private nextId = 0;
  private published = 0;
  private droppedAtLastConnect = -1;
  private running = false;
  private readonly endings = new Set<Promise<void>>();
  /** Bumped at every connection; Sparkplug marks messages queued under an older one as historical. */
  generation = 0;

  constructor(private readonly d: PublisherDeps) {
    const s = d.settings;
    this.queue = new BoundedQueue<Outbound>(s.queueSize);
    this.clientId =
      s.broker.clientId ?? `tagway-nb-${s.format === 'sparkplugB' ? s.edgeNodeId.slice(0, 40) : 'json'}-${randomBytes(4).toString('hex')}`;
    const host = {
      clock: d.clock,
      setQuality: () => undefined,
      state: (state: string, error?: string) => d.logger.debug({ state, error }, 'northbound MQTT connection'),
    };
    this.supervisor = new ConnectionSupervisor<Session>(
      host,
      [],
      new Backoff(s.broker.reconnectMinMs, s.broker.reconnectMaxMs),
      {
        open: (signal) => this.open(signal),
        close: (session) => this.endClient(session),
        up: (session) => this.up(session),
        down: (session) => this.down(session),
      },
      {
        failedAttemptState: 'ERROR',
        onFailure: (reason, phase) =>
          d.logger.warn(
            { url: brokerAddress(s.broker.url) },
            `northbound MQTT ${phase === 'connect' ? 'connect failed' : 'connection lost'}: ${reason}`,
          ),
      },
    );
  }

  start(format: PublishFormat): void {
    this.format = format;
    this.running = true;
    this.supervisor.start();
  }

  get isConnected(): boolean {
    return this.supervisor.session !== undefined;
  }

  stats(): PublisherStats {
    return { published: this.published, dropped: this.queue.dropped, queued: this.queue.size, connected: this.isConnected };
  }

  /** Queues a message and sends what the connection can take. */
  send(m: Outbound): void {
    this.queue.push(m);
    this.pump();
  }

  /** Sends ahead of the queue on the current connection only (births after a rebirth request, write answers). */
  sendNow(messages: Outbound[]): void {
    const s = this.supervisor.session;
    if (!s) return;
    s.intro.push(...messages);
    this.pump();
  }

  /** Publishes directly on the current connection, outside the queue; never replayed. */
  publishDirect(topic: string, payload: Buffer | string): void {
    const s = this.supervisor.session;
    if (!s || s.dead) return;
    s.client.publish(topic, payload, { qos: this.d.settings.qos, retain: false }, () => undefined);
  }

  private pump(): void {
    const s = this.supervisor.session;
    if (!s || s.dead) return;
    while (s.inflight.size < MAX_INFLIGHT) {
      let m = s.intro.shift();
      if (m === undefined && s.backlog > 0) {
        s.backlog--;
        m = this.queue.shift();
      }
      if (m === undefined && s.snapshot) {
        const r = s.snapshot.next();
        if (r.done) s.snapshot = undefined;
        else m = r.value;
      }
      m ??= this.queue.shift();
      if (m === undefined) return;
      this.transmit(s, m);
    }
  }

  private transmit(s: Session, m: Outbound): void {
    const id = this.nextId++;
    s.inflight.set(id, m);
    const payload = typeof m.payload === 'function' ? m.payload() : m.payload;
    const opts: IClientPublishOptions = { qos: this.d.settings.qos, retain: m.retain };
    s.client.publish(m.topic, payload, opts, (err) => {
      // A failed send stays in flight: the lost connection's down() queues it again.
      if (err || s.dead) return;
      s.inflight.delete(id);
      this.published++;
      this.pump();
    });
  }

  private open(signal: AbortSignal): Promise<Session> {
    return openMqttSession<Session>({
      connect: () => {
        const opts: IClientOptions = { ...mqttClientOptions(this.d.settings.broker, this.clientId), will: this.format.will() };
        // What Tagway receives is writes and commands only: MQTT 5 lets the broker know it need not deliver larger packets.
        if (opts.protocolVersion === 5) opts.properties = { ...opts.properties, maximumPacketSize: MAX_INBOUND_PACKET_BYTES };
        return {
          client: mqtt.connect(this.d.settings.broker.url, opts),
          lastError: undefined,
          dead: false,
          inflight: new Map(),
          intro: [],
          backlog: 0,
          snapshot: undefined,
        };
      },
      signal,
      timeoutMs: this.d.settings.broker.timeoutMs,
      ready: async (session) => {
        const refused = await subscribeAll(session.client, this.format.subscriptions());
        // Values still flow; only the writes (or commands) on these topics are lost, which the log says.
        if (refused.length > 0)
          this.d.logger.warn({ refused: refused.slice(0, 5), count: refused.length }, 'northbound MQTT: the broker refused subscriptions');
      },
      onMessage: (_session, topic, payload) => {
        try {
          this.format.message(topic, payload);
        } catch (err) {
          this.d.logger.warn({ topic, err }, 'northbound MQTT: a message could not be handled');
        }
      },
      lost: (session, reason) => this.supervisor.lost(session, reason),
      end: (session) => this.endClient(session),
    });
  }

  private up(session: Session): void {
    this.generation++;
    const lostValues = this.droppedAtLastConnect !== this.queue.dropped;
    this.droppedAtLastConnect = this.queue.dropped;
    session.intro = this.format.intro(lostValues);
    session.backlog = this.queue.size;
    session.snapshot = this.format.snapshot(lostValues);
    this.pump();
  }

  private down(session: Session): void {
    session.dead = true;
    // Sent but never acknowledged: older than anything queued, so they go back to the front, in order.
    const again = [...session.inflight.values()].filter((m) => m.replay);
    session.inflight.clear();
    if (this.running) this.queue.unshiftAll(again);
  }

  /**
   * Ends a client; resolves once it is gone. A client the broker still counts as connected (an attempt that timed
   * out after its CONNACK, or an orderly stop) says DISCONNECT first, so that the broker discards its Last Will:
   * otherwise a stale `offline` or NDEATH would follow, possibly after the next connection's `online` or birth.
   */
  private endClient(session: Session): Promise<void> {
    const client = session.client;
    client.removeAllListeners('connect');
    client.removeAllListeners('message');
    client.removeAllListeners('close');
    const p = new Promise<void>((resolve) => {
      if (!client.connected) {
        client.end(true, {}, () => resolve());
        return;
      }
      const force = setTimeout(() => client.end(true, {}, () => resolve()), 1000);
      client.end(false, {}, () => {
        clearTimeout(force);
        resolve();
      });
    });
    this.endings.add(p);
    void p.finally(() => this.endings.delete(p));
    return p;
  }

  /**
   * Stops for good: says goodbye (status offline, NDEATH) when connected, waiting up to a second for the
   * broker's acknowledgement, then disconnects. Queued messages are discarded (they live in memory only).
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const s = this.supervisor.session;
    const bye = this.format.goodbye();
    if (s && !s.dead && bye) {
      const payload = typeof bye.payload === 'function' ? bye.payload() : bye.payload;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        s.client.publish(bye.topic, payload, { qos: 1, retain: bye.retain }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await this.supervisor.stop();
    await Promise.allSettled([...this.endings]);
    this.queue.clear();
  }
}

/** Subscribes in chunks (one SUBSCRIBE per 500 filters keeps each packet small); answers the refused filters. */
async function subscribeAll(client: MqttClient, topics: readonly string[]): Promise<string[]> {
  const refused: string[] = [];
  for (let i = 0; i < topics.length; i += 500) {
    const map: Record<string, { qos: 0 | 1 }> = {};
    for (const t of topics.slice(i, i + 500)) map[t] = { qos: 1 };
    const granted = await client.subscribeAsync(map);
    // SUBACK 0x80 and above (MQTT 5 reason codes; 128 in 3.1.1) is a refusal, e.g. not authorised.
    for (const g of granted) if (g.qos >= 0x80) refused.push(g.topic);
  }
  return refused;
}
