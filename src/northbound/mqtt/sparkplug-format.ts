import type { IClientOptions } from 'mqtt';
import spPayload from 'sparkplug-payload';
import type { UMetric, UPayload, TypeStr } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { Clock } from '../../domain/clock.js';
import type { TagType, TagValue } from '../../domain/tag-types.js';
import type { Logger } from 'pino';
import type { TagState } from '../../runtime/tag-engine.js';
import type { MqttConnection, Outbound, PublishFormat } from './publisher.js';
import type { MqttPublisherSettings } from './settings.js';
import { deviceId } from './topics.js';
import { MAX_WRITE_PAYLOAD_BYTES, type MqttWrites, type WriteOutcome } from './writes.js';

const sparkplug = spPayload.get('spBv1.0')!;

/** Metrics one DCMD may carry; more are refused as a whole. */
export const MAX_DCMD_METRICS = 1_000;

export const REBIRTH_METRIC = 'Node Control/Rebirth';
/** Rebirths on request are at least this far apart. */
export const REBIRTH_MIN_INTERVAL_MS = 1_000;

const DATATYPE: Record<TagType, TypeStr> = {
  Bool: 'Boolean',
  Int8: 'Int8',
  UInt8: 'UInt8',
  Int16: 'Int16',
  UInt16: 'UInt16',
  Int32: 'Int32',
  UInt32: 'UInt32',
  Int64: 'Int64',
  UInt64: 'UInt64',
  Float32: 'Float',
  Float64: 'Double',
  String: 'String',
  DateTime: 'DateTime',
};

/** Our wire form → the value sparkplug-payload encodes (64-bit integers as decimal strings, DateTime as epoch ms). */
function metricValue(type: TagType, value: TagValue): UMetric['value'] {
  if (type === 'DateTime') return typeof value === 'string' ? Date.parse(value) : Number(value);
  return value;
}

/** A decoded metric value → what a REST client would send for the tag (the tag service coerces it strictly). */
function writeValue(type: TagType, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && 'toString' in v && 'low' in v) {
    // A protobuf Long: 64-bit types and DateTime. Int64 travels as the two's complement of the unsigned field.
    const n = BigInt((v as { toString(): string }).toString());
    if (type === 'DateTime') return new Date(Number(BigInt.asIntN(64, n))).toISOString();
    return (type === 'UInt64' ? BigInt.asUintN(64, n) : BigInt.asIntN(64, n)).toString();
  }
  if (type === 'DateTime' && typeof v === 'number') return new Date(v).toISOString();
  if ((type === 'Int64' || type === 'UInt64') && typeof v === 'number') return String(v);
  return v;
}

interface Item {
  alias: number;
  type: TypeStr;
  value: UMetric['value'];
  quality: number;
  timestamp: number;
}

/**
 * Sparkplug B 3.0 edge node: NBIRTH/NDEATH with bdSeq (NDEATH is the Last Will), one device per tag group with a
 * DBIRTH of every metric (name, alias, datatype, value, timestamp, the quality byte as the `Quality` property),
 * DDATA on change by alias, a rebirth on `Node Control/Rebirth`, and with `writes` DCMD as writes of the
 * `writeAs` user, answered on `<topicPrefix>/$dcmd/<deviceId>/response`. Every connection is a new birth.
 */
export class SparkplugFormat implements PublishFormat {
  private readonly base: string;
  /** Device id → indexes of its published tags. */
  private readonly devices = new Map<string, number[]>();
  private readonly deviceOf: string[];
  private readonly byName = new Map<string, number>();
  private bdSeqNext = 0;
  private bdSeq = 0;
  private seq = 0;
  /** Changes of this tick, per device, sent together as one DDATA. */
  private pending = new Map<string, Item[]>();
  private flushScheduled = false;
  private lastRebirth = -Infinity;
  private rebirthTimer: unknown;

  constructor(
    private readonly settings: MqttPublisherSettings,
    private readonly tags: readonly TagState[],
    private readonly connection: MqttConnection,
    private readonly writes: MqttWrites | undefined,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.base = `spBv1.0/${settings.groupId}`;
    this.deviceOf = tags.map((t, i) => {
      const d = deviceId(t.def.group);
      const list = this.devices.get(d) ?? [];
      list.push(i);
      this.devices.set(d, list);
      this.byName.set(t.def.name, i);
      return d;
    });
  }

  private topic(kind: string, device?: string): string {
    return `${this.base}/${kind}/${this.settings.edgeNodeId}${device === undefined ? '' : `/${device}`}`;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  private encode(p: UPayload): Buffer {
    return Buffer.from(sparkplug.encodePayload(p));
  }

  will(): NonNullable<IClientOptions['will']> {
    this.bdSeq = this.bdSeqNext;
    this.bdSeqNext = (this.bdSeqNext + 1) % 256;
    const payload = this.encode({ timestamp: this.clock.now(), metrics: [{ name: 'bdSeq', type: 'Int64', value: this.bdSeq }] });
    return { topic: this.topic('NDEATH'), payload, qos: 1, retain: false };
  }

  subscriptions(): string[] {
    const subs = [this.topic('NCMD')];
    if (this.writes) subs.push(`${this.topic('DCMD')}/+`);
    return subs;
  }

  /** NBIRTH (sequence restarts at 0), then a DBIRTH per device, each built when sent. */
  intro(): Outbound[] {
    const out: Outbound[] = [
      {
        topic: this.topic('NBIRTH'),
        retain: false,
        replay: false,
        payload: () => {
          this.seq = 0;
          return this.encode({
            timestamp: this.clock.now(),
            seq: this.nextSeq(),
            metrics: [
              { name: 'bdSeq', type: 'Int64', value: this.bdSeq },
              { name: REBIRTH_METRIC, type: 'Boolean', value: false },
            ],
          });
        },
      },
    ];
    for (const [device, indexes] of this.devices) {
      out.push({
        topic: this.topic('DBIRTH', device),
        retain: false,
        replay: false,
        payload: () =>
          this.encode({
            timestamp: this.clock.now(),
            seq: this.nextSeq(),
            metrics: indexes.map((i) => {
              const t = this.tags[i]!;
              return { ...this.metric(this.item(i)), name: t.def.name };
            }),
          }),
      });
    }
    return out;
  }

  snapshot(): undefined {
    return undefined;
  }

  private item(i: number): Item {
    const t = this.tags[i]!;
    return {
      alias: i + 1,
      type: DATATYPE[t.def.type],
      value: metricValue(t.def.type, t.value),
      quality: t.quality,
      timestamp: t.timestamp,
    };
  }

  private metric(it: Item, historical = false): UMetric {
    const m: UMetric = {
      alias: it.alias,
      type: it.type,
      value: it.value,
      timestamp: it.timestamp,
      properties: { Quality: { type: 'Int32', value: it.quality } },
    };
    if (historical) m.isHistorical = true;
    return m;
  }

  /** A change of the i-th published tag: joins this tick's DDATA of its device. */
  change(i: number): void {
    const d = this.deviceOf[i]!;
    const list = this.pending.get(d);
    if (list) list.push(this.item(i));
    else this.pending.set(d, [this.item(i)]);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    const generation = this.connection.isConnected ? this.connection.generation : -1;
    for (const [device, items] of pending) {
      this.connection.send({
        topic: this.topic('DDATA', device),
        retain: false,
        replay: true,
        // Queued while the broker was away (or sent again after a loss): history, behind the new births.
        payload: () => {
          const historical = generation !== this.connection.generation;
          return this.encode({ timestamp: this.clock.now(), seq: this.nextSeq(), metrics: items.map((it) => this.metric(it, historical)) });
        },
      });
    }
  }

  /**
   * Births again on the same connection (and the same bdSeq), ahead of anything queued. At most one per
   * REBIRTH_MIN_INTERVAL_MS: requests in between are served by one later rebirth, so that a stream of NCMDs
   * cannot make Tagway publish every metric again and again.
   */
  rebirth(): void {
    if (this.rebirthTimer !== undefined) return;
    const wait = this.lastRebirth + REBIRTH_MIN_INTERVAL_MS - this.clock.now();
    if (wait > 0) {
      this.rebirthTimer = this.clock.setTimeout(() => {
        this.rebirthTimer = undefined;
        this.rebirth();
      }, wait);
      return;
    }
    this.lastRebirth = this.clock.now();
    this.logger.info('northbound MQTT: Sparkplug rebirth on request');
    this.connection.sendNow(this.intro());
  }

  /** Cancels a rebirth that waits for its turn (at stop). */
  cancel(): void {
    if (this.rebirthTimer !== undefined) this.clock.clearTimeout(this.rebirthTimer);
    this.rebirthTimer = undefined;
  }

  message(topic: string, payload: Buffer): void {
    if (topic === this.topic('NCMD')) {
      if (payload.length > MAX_WRITE_PAYLOAD_BYTES) return;
      const p = sparkplug.decodePayload(payload);
      if (p.metrics?.some((m) => m.name === REBIRTH_METRIC && m.value === true)) this.rebirth();
      return;
    }
    const prefix = `${this.topic('DCMD')}/`;
    if (!this.writes || !topic.startsWith(prefix)) return;
    this.command(topic.slice(prefix.length), payload, this.writes);
  }

  private command(device: string, payload: Buffer, writes: MqttWrites): void {
    const respond = (o: WriteOutcome & { metric?: string }): void => {
      const body = o.ok ? { ok: true, metric: o.metric } : { ok: false, metric: o.metric, code: o.code, message: o.message };
      this.connection.publishDirect(`${this.settings.topicPrefix}/$dcmd/${device}/response`, JSON.stringify(body));
    };
    if (payload.length > MAX_WRITE_PAYLOAD_BYTES) {
      writes.refused++;
      respond({ ok: false, code: 'PAYLOAD_TOO_LARGE', message: `A DCMD has at most ${MAX_WRITE_PAYLOAD_BYTES} bytes` });
      return;
    }
    let metrics: UMetric[];
    try {
      metrics = sparkplug.decodePayload(payload).metrics ?? [];
    } catch {
      writes.refused++;
      respond({ ok: false, code: 'VALIDATION_FAILED', message: 'The DCMD is not a Sparkplug B payload' });
      return;
    }
    if (metrics.length > MAX_DCMD_METRICS) {
      writes.refused++;
      respond({ ok: false, code: 'PAYLOAD_TOO_LARGE', message: `A DCMD carries at most ${MAX_DCMD_METRICS} metrics` });
      return;
    }
    for (const m of metrics) {
      const alias = m.alias === undefined || m.alias === null ? undefined : Number(m.alias.toString());
      const i = m.name ? this.byName.get(m.name) : alias !== undefined ? alias - 1 : undefined;
      const tag = i === undefined ? undefined : this.tags[i];
      const label = m.name ?? (alias === undefined ? undefined : `alias ${alias}`);
      if (tag === undefined || this.deviceOf[i!] !== device) {
        writes.refused++;
        respond({ ok: false, metric: label, code: 'TAG_NOT_FOUND', message: `Device '${device}' has no metric ${label ?? '(unnamed)'}` });
        continue;
      }
      void writes.write(tag.def.name, writeValue(tag.def.type, m.value)).then((o) => respond({ ...o, metric: tag.def.name }));
    }
  }

  /** NDEATH of the current bdSeq: the orderly stop says what the Last Will would have said. */
  goodbye(): Outbound {
    return {
      topic: this.topic('NDEATH'),
      retain: false,
      replay: false,
      payload: this.encode({ timestamp: this.clock.now(), metrics: [{ name: 'bdSeq', type: 'Int64', value: this.bdSeq }] }),
    };
  }
}
