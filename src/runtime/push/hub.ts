import type { PermissionSet } from '../../domain/permissions.js';
import { systemClock, type Clock } from '../../domain/clock.js';
import type { TagEngine, TagState } from '../tag-engine.js';
import { PushConnection } from './connection.js';
import type { TagSubscription } from './subscription.js';
import {
  PUSH_CLOSE,
  type AlarmEvent,
  type AlarmEventSource,
  type PushEncoder,
  type PushHubOptions,
  type PushSink,
  type PushStats,
} from './types.js';

interface IndexEntry {
  conn: PushConnection;
  sub: TagSubscription;
  /** Position of the tag in the subscription. */
  pos: number;
}

const DEFAULTS: Required<PushHubOptions> = {
  highWaterBytes: 256 * 1024,
  lowWaterBytes: 32 * 1024,
  stallTimeoutMs: 30_000,
  congestionCheckMs: 50,
  maxQueuedAlarmEvents: 1_000,
  maxBatchItems: 1_000,
  maxSubscriptions: 100,
  maxPatternCharsPerConnection: 1024 * 1024,
  schedule: (fn) => {
    setImmediate(fn);
  },
};

/**
 * Fans tag changes and alarm events out to push clients (WebSocket, SSE) without knowing their transport.
 *
 * One listener on the tag engine. Subscriptions are resolved to tag indexes once; `byTag[tag]` lists who wants
 * a tag, so a change costs O(subscribers of that tag), never a scan of every socket. A change only marks the
 * tag in the subscriber's coalescing set; once per tick (setImmediate) each touched connection sends one
 * `values` message per subscription with the latest value of each marked tag. A congested connection sends
 * nothing and keeps coalescing; a poller resumes it when its buffer drains, or drops it when it never does.
 */
export class PushHub {
  readonly options: Required<PushHubOptions>;
  readonly clock: Clock;
  readonly stats: Omit<PushStats, 'connections' | 'congested' | 'subscriptions' | 'pendingValues' | 'queuedAlarmEvents' | 'bufferedBytes'> =
    {
      droppedConnections: 0,
      resyncs: 0,
      valueMessages: 0,
      valueItems: 0,
      alarmMessages: 0,
    };
  private readonly byTag: (IndexEntry[] | undefined)[];
  private readonly connections = new Set<PushConnection>();
  private readonly alarmConnections = new Set<PushConnection>();
  private readonly congested = new Set<PushConnection>();
  private pending: PushConnection[] = [];
  private flushScheduled = false;
  private congestionTimer: unknown = undefined;
  private source: AlarmEventSource | undefined;
  private offAlarms: (() => void) | undefined;
  private readonly offTags: () => void;

  constructor(
    readonly engine: TagEngine,
    opts: PushHubOptions & { clock?: Clock; alarms?: AlarmEventSource } = {},
  ) {
    const { clock, alarms, ...rest } = opts;
    this.options = { ...DEFAULTS, ...stripUndefined(rest) };
    this.clock = clock ?? systemClock;
    this.byTag = new Array<IndexEntry[] | undefined>(engine.size);
    this.offTags = engine.onChange((c) => this.onTagChange(c.tag));
    if (alarms) this.setAlarmSource(alarms);
  }

  get alarmSource(): AlarmEventSource | undefined {
    return this.source;
  }

  /** Changes options (from configuration); limits apply to connections made afterwards. */
  configure(opts: PushHubOptions): void {
    Object.assign(this.options, stripUndefined(opts));
  }

  /** Plugs in (or replaces) the alarm engine; it may start after the hub. */
  setAlarmSource(source: AlarmEventSource | undefined): void {
    this.offAlarms?.();
    this.offAlarms = undefined;
    this.source = source;
    if (source) this.offAlarms = source.onEvent((e) => this.onAlarmEvent(e));
  }

  /** A new client, already authenticated; `encoder` frames its messages for its transport. */
  connect(sink: PushSink, encoder: PushEncoder, perms: PermissionSet): PushConnection {
    const conn = new PushConnection(this, sink, encoder, perms);
    this.connections.add(conn);
    sink.onDrain?.(() => this.drained(conn));
    return conn;
  }

  /** The open connections, as a copy (revocation walks them on the rare auth event). */
  connectionList(): PushConnection[] {
    return [...this.connections];
  }

  /** Sends everything pending now instead of on the next tick (tests, shutdown). */
  flush(): void {
    this.flushScheduled = false;
    const list = this.pending;
    this.pending = [];
    for (let i = 0; i < list.length; i++) list[i]!.flush();
  }

  currentStats(): PushStats {
    let subscriptions = 0,
      pendingValues = 0,
      queuedAlarmEvents = 0,
      bufferedBytes = 0;
    for (const c of this.connections) {
      bufferedBytes += c.sink.bufferedAmount();
      subscriptions += c.subscriptionCount;
      pendingValues += c.pendingValues;
      queuedAlarmEvents += c.queuedAlarmEvents;
    }
    return {
      connections: this.connections.size,
      congested: this.congested.size,
      subscriptions,
      pendingValues,
      queuedAlarmEvents,
      bufferedBytes,
      ...this.stats,
    };
  }

  /** Stops listening and closes every connection (server shutdown). */
  close(): void {
    this.offTags();
    this.setAlarmSource(undefined);
    for (const c of [...this.connections]) c.close(PUSH_CLOSE.GOING_AWAY, 'server shutting down');
    this.stopCongestionTimer();
  }

  private onTagChange(tag: TagState): void {
    const list = this.byTag[tag.index];
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const sub = e.sub;
      if (sub.pending.has(e.pos) || !sub.passes(e.pos, tag)) continue;
      sub.pending.mark(e.pos);
      // A throttled subscription has its timer; a congested connection has the poller: neither needs a tick.
      if (sub.timer === undefined) this.requestFlush(e.conn);
    }
  }

  private onAlarmEvent(e: AlarmEvent): void {
    if (this.alarmConnections.size === 0) return;
    const json = JSON.stringify(e);
    for (const c of this.alarmConnections) c.offerAlarm(e, json);
  }

  /** @internal */
  requestFlush(conn: PushConnection): void {
    if (conn.scheduled || conn.closed || conn.bp.congested) return;
    conn.scheduled = true;
    this.pending.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.options.schedule(() => {
        if (this.flushScheduled) this.flush();
      });
    }
  }

  /** @internal */
  index(conn: PushConnection, sub: TagSubscription): void {
    const tags = sub.tags;
    for (let pos = 0; pos < tags.length; pos++) {
      const t = tags[pos]!;
      const list = this.byTag[t];
      const entry = { conn, sub, pos };
      if (list === undefined) this.byTag[t] = [entry];
      else list.push(entry);
    }
  }

  /** @internal */
  unindex(sub: TagSubscription): void {
    for (const t of sub.tags) {
      const list = this.byTag[t];
      if (list === undefined) continue;
      const kept = list.filter((e) => e.sub !== sub);
      this.byTag[t] = kept.length === 0 ? undefined : kept;
    }
  }

  /** @internal */
  alarmConnectionAdded(conn: PushConnection): void {
    this.alarmConnections.add(conn);
  }

  /** @internal */
  alarmConnectionRemoved(conn: PushConnection): void {
    this.alarmConnections.delete(conn);
  }

  /** @internal */
  removeConnection(conn: PushConnection): void {
    this.connections.delete(conn);
    this.alarmConnections.delete(conn);
    this.congested.delete(conn);
    if (this.congested.size === 0) this.stopCongestionTimer();
  }

  /** @internal A connection became congested: poll it until it drains or stalls. */
  watchCongestion(conn: PushConnection): void {
    if (conn.closed) return;
    this.congested.add(conn);
    if (this.congestionTimer === undefined) {
      this.congestionTimer = this.clock.setInterval(() => this.pollCongested(), this.options.congestionCheckMs);
    }
  }

  private drained(conn: PushConnection): void {
    if (conn.closed || !conn.bp.congested) return;
    if (conn.bp.poll(this.clock.now()) !== 'drained') return;
    this.congested.delete(conn);
    if (this.congested.size === 0) this.stopCongestionTimer();
    conn.flush();
  }

  private pollCongested(): void {
    const now = this.clock.now();
    for (const c of [...this.congested]) {
      const state = c.bp.poll(now);
      if (state === 'waiting') continue;
      this.congested.delete(c);
      if (state === 'drained') c.flush();
      else {
        this.stats.droppedConnections++;
        c.close(
          PUSH_CLOSE.SLOW_CONSUMER,
          `client too slow: send buffer not drained for ${Math.round(this.options.stallTimeoutMs / 1000)} s`,
        );
      }
    }
    if (this.congested.size === 0) this.stopCongestionTimer();
  }

  private stopCongestionTimer(): void {
    if (this.congestionTimer !== undefined) {
      this.clock.clearInterval(this.congestionTimer);
      this.congestionTimer = undefined;
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
