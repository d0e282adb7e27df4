import type { PushSink } from './types.js';

/**
 * Congestion of one connection, judged only from its sink's buffered byte count (SignalK's BackpressureManager
 * idea): above the high-water mark the connection is congested and the hub stops writing to it, so the buffer
 * cannot grow by more than one message past the mark; at or below the low-water mark it resumes. The gap
 * between the two marks stops the connection flapping in and out on every message. A connection that stays
 * congested longer than the stall timeout has stopped reading and is dropped.
 */
export class Backpressure {
  congested = false;
  /** Clock time the current congestion began. */
  since = 0;

  constructor(
    private readonly sink: PushSink,
    private readonly highWater: number,
    private readonly lowWater: number,
    private readonly stallTimeoutMs: number,
  ) {}

  /** Re-checks the buffer before a write; true when the connection is (now) congested. */
  enter(now: number): boolean {
    if (this.congested) return true;
    if (this.sink.bufferedAmount() > this.highWater) {
      this.congested = true;
      this.since = now;
      return true;
    }
    return false;
  }

  /** For a congested connection: has it drained, is it still waiting, or has it stalled for good? */
  poll(now: number): 'drained' | 'waiting' | 'stalled' {
    if (!this.congested) return 'drained';
    if (this.sink.bufferedAmount() <= this.lowWater) {
      this.congested = false;
      return 'drained';
    }
    return now - this.since >= this.stallTimeoutMs ? 'stalled' : 'waiting';
  }
}

/**
 * Alarm events waiting to be sent to one connection, in order, at most `max`. Unlike values, events cannot be
 * coalesced (each is a journal entry), so when the bound is hit the queue is emptied and replaced by one resync
 * marker per alarm subscription: the client is told it missed events and must reload (`GET /alarms/current`,
 * or SSE Last-Event-ID). Memory stays bounded whatever the client does.
 */
export interface QueuedAlarm<S> {
  sub: S;
  /** 0 for a resync marker. */
  eventId: number;
  /** The archive event as JSON, shared by every connection; undefined for a resync marker. */
  json: string | undefined;
}

export class AlarmQueue<S> {
  private items: QueuedAlarm<S>[] = [];
  private head = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Appends an event; returns true when the queue overflowed and was replaced by resync markers first. */
  push(sub: S, eventId: number, json: string, allSubs: Iterable<S>): boolean {
    let overflowed = false;
    if (this.size >= this.max) {
      this.items = [];
      this.head = 0;
      for (const s of allSubs) this.items.push({ sub: s, eventId: 0, json: undefined });
      overflowed = true;
    }
    this.items.push({ sub, eventId, json });
    return overflowed;
  }

  /** Appends a resync marker (e.g. a replay that hit its page limit). */
  pushResync(sub: S): void {
    this.items.push({ sub, eventId: 0, json: undefined });
  }

  peek(): QueuedAlarm<S> | undefined {
    return this.items[this.head];
  }

  shift(): QueuedAlarm<S> | undefined {
    const it = this.items[this.head];
    if (it === undefined) return undefined;
    this.head++;
    // Compact now and then instead of Array.shift on every event, which is O(n).
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return it;
  }

  /** Forgets the events of one subscription (unsubscribe). */
  removeSub(sub: S): void {
    this.items = this.items.slice(this.head).filter((i) => i.sub !== sub);
    this.head = 0;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
