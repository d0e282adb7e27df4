import type { IClientOptions } from 'mqtt';
import { qualityName } from '../../domain/quality.js';
import type { Logger } from 'pino';
import type { TagState } from '../../runtime/tag-engine.js';
import type { MqttConnection, Outbound, PublishFormat } from './publisher.js';
import type { MqttPublisherSettings } from './settings.js';
import { responseTopic, setTopic, statusTopic, tagTopic } from './topics.js';
import { parseSetPayload, type MqttWrites, type WriteOutcome } from './writes.js';

/** `{"value","quality","qualityCode","timestamp"}` of a tag's current state. */
export function valuePayload(tag: TagState): Buffer {
  return Buffer.from(
    `{"value":${JSON.stringify(tag.value)},"quality":"${qualityName(tag.quality)}","qualityCode":${tag.quality},"timestamp":"${new Date(tag.timestamp).toISOString()}"}`,
  );
}

/**
 * The unified-namespace layout: one retained topic per tag, `<prefix>/<name with . as levels>`, a `$status` topic
 * (`online`, and `offline` as the Last Will), and with `writes` the topic `<tag topic>/set` per writable tag, answered
 * on `<tag topic>/set/response`.
 */
export class JsonFormat implements PublishFormat {
  private readonly topics: string[];
  /** Write topic → tag, for the writable published tags. */
  private readonly bySetTopic = new Map<string, TagState>();

  constructor(
    private readonly settings: MqttPublisherSettings,
    private readonly tags: readonly TagState[],
    private readonly connection: MqttConnection,
    private readonly writes: MqttWrites | undefined,
    logger: Logger,
  ) {
    this.topics = tags.map((t) => tagTopic(settings.topicPrefix, t.def.name));
    if (writes) {
      const valueTopics = new Set(this.topics);
      tags.forEach((t, i) => {
        if (t.def.access !== 'readwrite') return;
        const topic = setTopic(this.topics[i]!);
        // Tag `A.set` publishes on the write topic of tag `A`: its own values would come back as writes.
        if (valueTopics.has(topic) || valueTopics.has(responseTopic(this.topics[i]!))) {
          logger.warn({ tag: t.def.name, topic }, 'northbound MQTT: no write topic for this tag, another tag publishes on it');
          return;
        }
        this.bySetTopic.set(topic, t);
      });
    }
  }

  /** The topic of the i-th published tag. */
  topicOf(i: number): string {
    return this.topics[i]!;
  }

  change(i: number): Outbound {
    return { topic: this.topics[i]!, retain: this.settings.retain, payload: valuePayload(this.tags[i]!), replay: true };
  }

  will(): NonNullable<IClientOptions['will']> {
    return { topic: statusTopic(this.settings.topicPrefix), payload: Buffer.from('offline'), qos: 1, retain: true };
  }

  subscriptions(): string[] {
    return [...this.bySetTopic.keys()];
  }

  intro(): Outbound[] {
    return [{ topic: statusTopic(this.settings.topicPrefix), retain: true, payload: Buffer.from('online'), replay: false }];
  }

  *snapshot(lostValues: boolean): Iterator<Outbound> {
    if (!lostValues) return;
    // Read when sent, not when connected: a value that changes meanwhile is published as it is then.
    for (let i = 0; i < this.tags.length; i++) yield { ...this.change(i), replay: false };
  }

  message(topic: string, payload: Buffer): void {
    const tag = this.bySetTopic.get(topic);
    if (!tag || !this.writes) return;
    const parsed = parseSetPayload(payload);
    const answer = (o: WriteOutcome): void => {
      const body = o.ok ? { ok: true, name: tag.def.name } : { ok: false, name: tag.def.name, code: o.code, message: o.message };
      this.connection.publishDirect(`${topic}/response`, JSON.stringify(body));
    };
    if (!parsed.ok) {
      this.writes.refused++;
      answer(parsed);
      return;
    }
    void this.writes.write(tag.def.name, parsed.value).then(answer);
  }

  goodbye(): Outbound {
    return { topic: statusTopic(this.settings.topicPrefix), retain: true, payload: Buffer.from('offline'), replay: false };
  }
}
