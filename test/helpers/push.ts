import { PermissionSet, type Grant } from '../../src/domain/permissions.js';
import { Quality } from '../../src/domain/quality.js';
import { ManualClock } from '../../src/domain/clock.js';
import { PushHub } from '../../src/runtime/push/hub.js';
import type { AlarmEvent, AlarmEventSource, PushHubOptions, PushSink } from '../../src/runtime/push/types.js';
import type { TagDefinition } from '../../src/domain/tag-definition.js';
import { TagEngine } from '../../src/runtime/tag-engine.js';

export { Quality };

/**
 * A sink that behaves like a socket: while "paused" (the client stops reading) every send piles up in the
 * buffered byte count; `resume()` lets the client read everything, which empties the buffer.
 */
export class TestSink implements PushSink {
  delivered: string[] = [];
  private backlog: string[] = [];
  private buffered = 0;
  paused = false;
  closed: { code: number; reason: string } | undefined;
  private drainListeners: Array<() => void> = [];

  onDrain(l: () => void): void {
    this.drainListeners.push(l);
  }

  send(text: string): void {
    if (this.closed) return;
    if (this.paused) {
      this.backlog.push(text);
      this.buffered += Buffer.byteLength(text);
    } else this.delivered.push(text);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  resume(): void {
    this.paused = false;
    this.delivered.push(...this.backlog);
    this.backlog = [];
    this.buffered = 0;
    for (const l of this.drainListeners) l();
  }
  /** Delivered messages parsed as JSON (WebSocket framing). */
  json(): Array<Record<string, unknown>> {
    return this.delivered.map((m) => JSON.parse(m) as Record<string, unknown>);
  }
  /** `[name, value]` of every value item delivered, in order. */
  values(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const m of this.json()) {
      if (m.type !== 'values') continue;
      for (const it of m.items as Array<{ name: string; value: unknown }>) out.push([it.name, it.value]);
    }
    return out;
  }
  take(): void {
    this.delivered = [];
  }
}

/** A small in-memory alarm journal: the real contract (live events plus replay), not a mock of anything. */
export class MemoryAlarmSource implements AlarmEventSource {
  readonly events: AlarmEvent[] = [];
  private listeners: Array<(e: AlarmEvent) => void> = [];
  onEvent(l: (e: AlarmEvent) => void): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }
  eventsSince(eventId: number, limit: number): AlarmEvent[] {
    return this.events.filter((e) => e.eventId > eventId).slice(0, limit);
  }
  emit(partial: Partial<AlarmEvent> & { alarm: string }): AlarmEvent {
    const e: AlarmEvent = {
      eventId: this.events.length + 1,
      id: `occ-${this.events.length + 1}`,
      number: 1,
      class: 'Alarm',
      priority: 10,
      event: 'RAISED',
      at: new Date(0).toISOString(),
      state: 'RAISED',
      text: 't',
      tag: 'Tank1.Level',
      value: 1,
      user: null,
      ...partial,
    };
    this.events.push(e);
    for (const l of this.listeners) l(e);
    return e;
  }
}

export function def(name: string, extra: Partial<TagDefinition> = {}): TagDefinition {
  return { name, type: 'Float64', access: 'readwrite', connection: 'sim', ...extra };
}

export const ALL = new PermissionSet([{ permission: 'tags:read' }, { permission: 'alarms:read' }]);
export function perms(...grants: Grant[]): PermissionSet {
  return new PermissionSet(grants);
}

export function setup(defs: TagDefinition[], opts: PushHubOptions & { alarms?: AlarmEventSource } = {}) {
  const clock = new ManualClock();
  const engine = new TagEngine(defs, clock);
  const hub = new PushHub(engine, { clock, schedule: () => {}, ...opts });
  const set = (name: string, value: number | string | boolean, quality: number = Quality.GOOD) => {
    engine.update(engine.require(name).index, value, quality);
  };
  return { clock, engine, hub, set };
}
