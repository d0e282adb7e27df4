import type { PermissionSet } from '../../domain/permissions.js';
import { TagwayError } from '../../domain/problems.js';
import { compileAlarmFilter, type AlarmFilterSpec, type AlarmPredicate } from './alarm-filter.js';
import { AlarmQueue, Backpressure } from './backpressure.js';
import type { PushHub } from './hub.js';
import { resolveTags, specChars, TagSubscription, validateSpec, type TagSubscriptionSpec } from './subscription.js';
import { PUSH_CLOSE, type AlarmEvent, type ChannelOwner, type PushEncoder, type PushSink } from './types.js';

/** One alarm subscription: a filter and the last event id it has seen (so a replay and live events never overlap). */
export class AlarmSubscription {
  readonly kind = 'alarms' as const;
  lastEventId: number;
  /**
   * A replay filled its page: the client must come back for the rest (SSE: reconnect with Last-Event-ID).
   * Until the resync marker goes out, live events are not queued; they would only be replayed again.
   */
  awaitingResync = false;
  /** Live events held back while an asynchronous replay is read (undefined when none is under way). */
  heldBack: Array<[AlarmEvent, string]> | undefined;
  /** More live events arrived during the replay than may be queued: the client must resync. */
  heldBackOverflow = false;
  readonly idJson: string;
  constructor(
    readonly id: string,
    readonly predicate: AlarmPredicate,
    since: number,
  ) {
    this.lastEventId = since;
    this.idJson = JSON.stringify(id);
  }
}

export type Subscription = TagSubscription | AlarmSubscription;

export interface AlarmSubscribeOptions {
  /** Replay stored events after this eventId first (SSE Last-Event-ID). */
  sinceEventId?: number | undefined;
}

/**
 * One client of the hub, whatever its transport. The adapter creates it once the client is authenticated,
 * forwards the client's requests to it, and calls `dispose()` when the transport closes.
 */
export class PushConnection {
  private readonly subs = new Map<string, Subscription>();
  /** The tag subscriptions again, as an array: the flush walks it on every tick. */
  private tagSubs: TagSubscription[] = [];
  private alarmSubs: AlarmSubscription[] = [];
  private readonly alarms: AlarmQueue<AlarmSubscription>;
  readonly bp: Backpressure;
  /** In the hub's list of connections to flush this tick. */
  scheduled = false;
  closed = false;
  private perms: PermissionSet;
  /** Characters of the names and globs the tag subscriptions hold (budgeted per connection). */
  private patternChars = 0;
  private ownerValue: ChannelOwner | undefined;
  /** Bumped on every owner change and re-check: a slower, older re-check never overrides a newer one. */
  checkSeq = 0;

  constructor(
    private readonly hub: PushHub,
    readonly sink: PushSink,
    private readonly encoder: PushEncoder,
    perms: PermissionSet,
  ) {
    this.perms = perms;
    const o = hub.options;
    this.bp = new Backpressure(sink, o.highWaterBytes, o.lowWaterBytes, o.stallTimeoutMs);
    this.alarms = new AlarmQueue(o.maxQueuedAlarmEvents);
  }

  get permissions(): PermissionSet {
    return this.perms;
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Who holds the channel, for revocation; undefined until the adapter says (tests, trusted callers). */
  get owner(): ChannelOwner | undefined {
    return this.ownerValue;
  }

  /** Sets (or, after re-authentication on the open channel, replaces) the owner; re-checks in flight are void. */
  setOwner(owner: ChannelOwner | undefined): void {
    this.ownerValue = owner;
    this.checkSeq++;
  }

  /** Tags covered by each tag subscription, by id (what a client is told after a re-scope). */
  tagCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.tagSubs) out[s.id] = s.size;
    return out;
  }

  /** Value slots waiting to go out. */
  get pendingValues(): number {
    let n = 0;
    for (const s of this.tagSubs) n += s.pending.size;
    return n;
  }

  get queuedAlarmEvents(): number {
    return this.alarms.size;
  }

  /**
   * Subscribes to tags; returns how many tags the subscription covers. Current values follow on the next tick,
   * so an adapter that answers `subscribed` right after this call is guaranteed to answer first.
   */
  subscribe(id: string, spec: TagSubscriptionSpec): number {
    this.checkNewId(id);
    validateSpec(spec);
    const chars = specChars(spec);
    const maxChars = this.hub.options.maxPatternCharsPerConnection;
    if (this.patternChars + chars > maxChars) {
      throw new TagwayError(
        'PAYLOAD_TOO_LARGE',
        `The subscriptions of one connection may name at most ${maxChars} characters of tag names and globs; unsubscribe first`,
      );
    }
    const tags = resolveTags(this.hub.engine, spec.tags, this.perms);
    const sub = new TagSubscription(id, spec, tags, this.hub.engine);
    sub.markAll();
    this.addTagSub(sub);
    this.patternChars += chars;
    this.hub.requestFlush(this);
    return tags.length;
  }

  subscribeAlarms(id: string, filter: AlarmFilterSpec, opts: AlarmSubscribeOptions = {}): void {
    this.checkNewId(id);
    if (!this.perms.has('alarms:read')) throw new TagwayError('FORBIDDEN', 'Reading alarms needs the alarms:read permission');
    const predicate = compileAlarmFilter(filter);
    const source = this.hub.alarmSource;
    if (!source) throw new TagwayError('SERVICE_UNAVAILABLE', 'The alarm engine is not running');
    const since = opts.sinceEventId;
    const sub = new AlarmSubscription(id, predicate, since ?? 0);
    this.subs.set(id, sub);
    this.alarmSubs.push(sub);
    this.hub.alarmConnectionAdded(this);
    if (since !== undefined) {
      const limit = this.hub.options.maxQueuedAlarmEvents;
      const replay = source.eventsSince(since, limit);
      // Synchronous with registration: no live event can slip between the replay and the subscription.
      if (Array.isArray(replay)) return this.replayInto(sub, replay, limit);
      // Asynchronous: live events wait behind the replay, so that the order stays the journal's.
      sub.heldBack = [];
      replay.then(
        (events) => {
          if (this.subs.get(id) === sub) this.replayInto(sub, events, limit);
        },
        () => {
          // The journal cannot be read: the client resumes later with its Last-Event-ID.
          sub.heldBack = undefined;
          if (this.subs.get(id) !== sub) return;
          this.alarms.pushResync(sub);
          sub.awaitingResync = true;
          this.hub.requestFlush(this);
        },
      );
    }
  }

  private replayInto(sub: AlarmSubscription, replay: readonly AlarmEvent[], limit: number): void {
    const held = sub.heldBack ?? [];
    sub.heldBack = undefined;
    for (const e of replay) this.offerAlarmTo(sub, e, JSON.stringify(e));
    // A full page may not be all: let the client come back for the rest.
    if (replay.length >= limit || sub.heldBackOverflow) {
      sub.heldBackOverflow = false;
      this.alarms.pushResync(sub);
      sub.awaitingResync = true;
    } else {
      for (const [e, json] of held) this.offerAlarmTo(sub, e, json);
    }
    if (this.alarms.size > 0) this.hub.requestFlush(this);
  }

  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.subs.delete(id);
    if (sub.kind === 'tags') {
      this.patternChars -= specChars(sub.spec);
      this.tagSubs = this.tagSubs.filter((s) => s !== sub);
      this.hub.unindex(sub);
      if (sub.timer !== undefined) this.hub.clock.clearTimeout(sub.timer);
    } else {
      this.alarmSubs = this.alarmSubs.filter((s) => s !== sub);
      this.alarms.removeSub(sub);
      if (this.alarmSubs.length === 0) this.hub.alarmConnectionRemoved(this);
    }
    return true;
  }

  /**
   * New permissions after re-authentication (a refreshed token, perhaps for changed groups): every tag
   * subscription is resolved again, silently dropping what may no longer be read and sending what now may.
   */
  setPermissions(perms: PermissionSet): void {
    this.perms = perms;
    const engine = this.hub.engine;
    for (const old of [...this.tagSubs]) {
      const tags = resolveTags(engine, old.spec.tags, perms, { lenient: true });
      const sub = new TagSubscription(old.id, old.spec, tags, engine);
      sub.carryOverFrom(old);
      if (old.timer !== undefined) this.hub.clock.clearTimeout(old.timer);
      this.hub.unindex(old);
      this.tagSubs = this.tagSubs.filter((s) => s !== old);
      this.addTagSub(sub);
    }
    this.hub.requestFlush(this);
  }

  /** Ends the connection from the server side (slow consumer, logout, shutdown). */
  close(code: number = PUSH_CLOSE.NORMAL, reason = ''): void {
    if (this.closed) return;
    this.dispose();
    try {
      this.sink.close(code, reason);
    } catch {
      /* the transport may already be gone */
    }
  }

  /** Forgets everything; the adapter calls this when the transport closed. Idempotent. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.tagSubs) {
      this.hub.unindex(s);
      if (s.timer !== undefined) this.hub.clock.clearTimeout(s.timer);
    }
    this.tagSubs = [];
    this.alarmSubs = [];
    this.patternChars = 0;
    this.subs.clear();
    this.alarms.clear();
    this.ownerValue = undefined;
    this.hub.removeConnection(this);
  }

  /** @internal A live alarm event from the hub (already serialised once for all connections). */
  offerAlarm(e: AlarmEvent, json: string): void {
    if (!this.mayRead(e)) return;
    let queued = false;
    for (const sub of this.alarmSubs) queued = this.offerAlarmTo(sub, e, json) || queued;
    if (queued) this.hub.requestFlush(this);
  }

  private offerAlarmTo(sub: AlarmSubscription, e: AlarmEvent, json: string): boolean {
    if (sub.heldBack) {
      if (sub.heldBack.length < this.hub.options.maxQueuedAlarmEvents) sub.heldBack.push([e, json]);
      else sub.heldBackOverflow = true;
      return false;
    }
    if (e.eventId <= sub.lastEventId || sub.awaitingResync) return false;
    sub.lastEventId = e.eventId;
    if (!this.mayRead(e) || !sub.predicate(e)) return false;
    if (this.alarms.push(sub, e.eventId, json, this.alarmSubs)) this.hub.stats.resyncs++;
    return true;
  }

  private mayRead(e: AlarmEvent): boolean {
    return typeof e.tag === 'string' && e.tag.length > 0 ? this.perms.allows('alarms:read', e.tag) : this.perms.has('alarms:read');
  }

  /**
   * @internal Sends what is pending, unless the sink is congested: then everything stays coalesced (values) or
   * queued (alarm events) until the hub sees the buffer drain.
   */
  flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    const now = this.hub.clock.now();
    if (this.bp.enter(now)) {
      this.hub.watchCongestion(this);
      return;
    }
    for (const sub of this.tagSubs) {
      if (sub.pending.size === 0) continue;
      if (now < sub.nextAt) {
        this.armInterval(sub, now);
        continue;
      }
      if (!this.sendValues(sub, now)) {
        this.hub.watchCongestion(this);
        return;
      }
    }
    if (!this.sendAlarms(now)) return;
    // Register congestion now rather than on the next change, so the stall timeout starts counting.
    if (this.bp.enter(now)) this.hub.watchCongestion(this);
  }

  private sendValues(sub: TagSubscription, now: number): boolean {
    const engine = this.hub.engine;
    const tags = engine.tags;
    const max = this.hub.options.maxBatchItems;
    const stats = this.hub.stats;
    let sentAny = false;
    while (sub.pending.size > 0) {
      if (this.bp.enter(now)) return false;
      const items: string[] = [];
      while (items.length < max) {
        const pos = sub.pending.take();
        if (pos < 0) break;
        const tag = tags[sub.tags[pos]!]!;
        // Checked again here: the value may have come back within the deadband since it was marked.
        if (!sub.passes(pos, tag)) continue;
        sub.sent(pos, tag);
        items.push(engine.valueJson(tag));
      }
      if (items.length === 0) continue;
      this.sink.send(this.encoder.values(sub.idJson, items));
      stats.valueMessages++;
      stats.valueItems += items.length;
      sentAny = true;
    }
    if (sentAny && sub.minIntervalMs > 0) sub.nextAt = now + sub.minIntervalMs;
    return true;
  }

  private sendAlarms(now: number): boolean {
    for (;;) {
      const it = this.alarms.peek();
      if (it === undefined) return true;
      if (this.bp.enter(now)) {
        this.hub.watchCongestion(this);
        return false;
      }
      this.alarms.shift();
      if (it.json === undefined) {
        const text = this.encoder.resync(it.sub.idJson);
        if (text === undefined) {
          this.close(PUSH_CLOSE.RESYNC, 'alarm events were dropped; resume with Last-Event-ID');
          return false;
        }
        it.sub.awaitingResync = false;
        this.sink.send(text);
      } else {
        this.sink.send(this.encoder.alarm(it.sub.idJson, it.eventId, it.json));
        this.hub.stats.alarmMessages++;
      }
    }
  }

  private armInterval(sub: TagSubscription, now: number): void {
    if (sub.timer !== undefined) return;
    sub.timer = this.hub.clock.setTimeout(() => {
      sub.timer = undefined;
      this.flush();
    }, sub.nextAt - now);
  }

  private addTagSub(sub: TagSubscription): void {
    this.subs.set(sub.id, sub);
    this.tagSubs.push(sub);
    this.hub.index(this, sub);
  }

  private checkNewId(id: string): void {
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
      throw new TagwayError('VALIDATION_FAILED', 'id: must be a string of 1 to 200 characters', {
        errors: [{ field: 'id', message: 'must be a string of 1 to 200 characters' }],
      });
    }
    if (this.subs.has(id)) throw new TagwayError('CONFLICT', `Subscription id '${id}' is already in use; unsubscribe it first`);
    if (this.subs.size >= this.hub.options.maxSubscriptions) {
      throw new TagwayError('TOO_MANY_REQUESTS', `At most ${this.hub.options.maxSubscriptions} subscriptions per connection`);
    }
  }
}
