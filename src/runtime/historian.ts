import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { shouldLog, type LoggedPoint } from '../domain/history/deadband.js';
import type { StoredValue } from '../domain/history/series.js';
import type { TagValue } from '../domain/tag-types.js';
import type { HistoryRepository } from '../storage/history-repository.js';
import type { Clock } from '../domain/clock.js';
import type { TagDefinition } from '../domain/tag-definition.js';
import type { TagChange, TagEngine, TagState } from './tag-engine.js';

export interface HistorianLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface HistorianOptions {
  /** Buffered samples are written at least this often (ms). */
  flushIntervalMs?: number | undefined;
  /**
   * …and as soon as this many are buffered. Larger batches write fewer pages per row (each batch rewrites
   * about one B-tree leaf per tag), smaller ones block the event loop for less time: 50,000 is ~0.1 s.
   */
  flushMaxValues?: number | undefined;
  /**
   * Most samples held in memory while storage fails. Beyond it, new samples are dropped (and counted in
   * `stats().dropped`): the history already buffered stays contiguous, and a trend shows one gap where the
   * store stalled rather than holes scattered across the outage.
   */
  maxBufferedValues?: number | undefined;
  /** Retention for tags without their own `history.retentionDays` (and for tags no longer in the project). */
  defaultRetentionDays?: number | undefined;
  /** How often the background pruning pass runs (ms). */
  pruneIntervalMs?: number | undefined;
  /** Rows deleted per transaction while pruning; the event loop gets a turn between batches. */
  pruneBatchRows?: number | undefined;
  /** Interval for `cyclic`/`both` tags without `intervalMs`. */
  defaultCyclicIntervalMs?: number | undefined;
  logger?: HistorianLogger | undefined;
}

/** Interval of `cyclic`/`both` tags without `intervalMs` unless the historian is given another. */
export const DEFAULT_CYCLIC_INTERVAL_MS = 1000;

export interface HistorianStats {
  /** Tags that log history. */
  tags: number;
  buffered: number;
  written: number;
  dropped: number;
  failedFlushes: number;
  pruned: number;
  lastError: string | undefined;
}

const DAY_MS = 86_400_000;

const noLogger: HistorianLogger = { info() {}, warn() {}, error() {} };

interface Logged {
  index: number;
  name: string;
  /** The store's id, once asked for (at the first flush that has a sample of the tag). */
  tagId: number | undefined;
  onChange: boolean;
  deadband: number;
  last: LoggedPoint | undefined;
}

/** Bool values are stored as 1/0 so that averages over them mean "fraction of time true". */
function toStored(v: TagValue): StoredValue {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/**
 * Logs the history of every tag whose definition has `history`:
 * - `onChange`: each change that passes the tag's absolute deadband (compared with the last logged value);
 * - `cyclic`: the current value every `intervalMs`, one timer per distinct interval shared by its tags;
 * - `both`: either.
 * In every mode a change of quality is logged at once, even with an unchanged value, so that a connection loss
 * and its end are visible in a trend. At `start()` the current state of each tag is logged as its first point.
 *
 * Samples are buffered column-wise and written in one transaction every `flushIntervalMs`, or sooner when
 * `flushMaxValues` are waiting, and on `stop()`. A failed write keeps the batch for the next attempt, up to
 * `maxBufferedValues`. Old samples are pruned in the background in small batches.
 */
export class Historian {
  private readonly flushIntervalMs: number;
  private readonly flushMaxValues: number;
  private readonly maxBuffered: number;
  private readonly defaultRetentionDays: number;
  private readonly pruneIntervalMs: number;
  private readonly pruneBatchRows: number;
  private readonly log: HistorianLogger;

  /** By tag index; undefined for tags without history. */
  private readonly logged: (Logged | undefined)[] = [];
  private readonly cyclicGroups = new Map<number, TagState[]>();
  private timers: { handle: unknown; kind: 'timeout' | 'interval' }[] = [];
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private flushScheduled = false;
  private pruning: Promise<number> | undefined;
  /** The flush under way: flushes run one after the other, in order. */
  private flushing: Promise<number> = Promise.resolve(0);
  /** Samples of the write under way (still held in memory, counted against `maxBufferedValues`). */
  private inFlight = 0;

  // The buffer, column-wise: plain arrays grow cheaply and go to the store without copying (bTag holds tag
  // indexes, turned into store ids at the flush).
  private bTag: number[] = [];
  private bTs: number[] = [];
  private bValue: StoredValue[] = [];
  private bQuality: number[] = [];

  private written = 0;
  private dropped = 0;
  private failedFlushes = 0;
  private pruned = 0;
  private lastError: string | undefined;

  constructor(
    private readonly engine: TagEngine,
    private readonly store: HistoryRepository,
    private readonly clock: Clock,
    opts: HistorianOptions = {},
  ) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.flushMaxValues = opts.flushMaxValues ?? 50_000;
    this.maxBuffered = opts.maxBufferedValues ?? 2_000_000;
    this.defaultRetentionDays = opts.defaultRetentionDays ?? 90;
    this.pruneIntervalMs = opts.pruneIntervalMs ?? 3_600_000;
    this.pruneBatchRows = opts.pruneBatchRows ?? 5000;
    this.log = opts.logger ?? noLogger;
    const defaultCyclic = opts.defaultCyclicIntervalMs ?? DEFAULT_CYCLIC_INTERVAL_MS;
    for (const tag of engine.tags) {
      const spec = tag.def.history;
      if (!spec) continue;
      this.logged[tag.index] = {
        index: tag.index,
        name: tag.def.name,
        tagId: undefined,
        onChange: spec.mode !== 'cyclic',
        deadband: spec.deadband ?? 0,
        last: undefined,
      };
      if (spec.mode !== 'onChange') {
        const every = spec.intervalMs ?? defaultCyclic;
        const group = this.cyclicGroups.get(every) ?? [];
        group.push(tag);
        this.cyclicGroups.set(every, group);
      }
    }
  }

  /** Whether the tag logs history. */
  logs(tag: TagState | TagDefinition): boolean {
    return 'index' in tag ? this.logged[tag.index] !== undefined : tag.history !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const tag of this.engine.tags) {
      const l = this.logged[tag.index];
      if (l) this.append(l, tag.value, tag.quality, tag.timestamp);
    }
    this.unsubscribe = this.engine.onChange((c) => this.onChange(c));
    this.every(this.flushIntervalMs, () => void this.flush());
    for (const [every, tags] of this.cyclicGroups) {
      // Ticks fall on multiples of the interval, so cyclic samples line up with aggregation buckets.
      const first = every - (this.clock.now() % every);
      const t = this.clock.setTimeout(() => {
        this.tick(tags);
        this.every(every, () => this.tick(tags));
      }, first);
      this.timers.push({ handle: t, kind: 'timeout' });
    }
    this.every(this.pruneIntervalMs, () => {
      void this.prune();
    });
  }

  /** Stops logging and writes what is buffered (flush on shutdown). Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.timers) {
      if (t.kind === 'timeout') this.clock.clearTimeout(t.handle);
      else this.clock.clearInterval(t.handle);
    }
    this.timers = [];
    await this.flush();
    if (this.bTag.length > 0) {
      this.log.error({ lost: this.bTag.length, error: this.lastError }, 'history samples could not be written at shutdown');
    }
  }

  stats(): HistorianStats {
    let tags = 0;
    for (const l of this.logged) if (l) tags++;
    return {
      tags,
      buffered: this.bTag.length + this.inFlight,
      written: this.written,
      dropped: this.dropped,
      failedFlushes: this.failedFlushes,
      pruned: this.pruned,
      lastError: this.lastError,
    };
  }

  /**
   * Writes the buffer in one transaction; resolves with how many samples were written. Flushes queue behind the
   * one under way, so batches reach the store in order.
   */
  flush(): Promise<number> {
    this.flushScheduled = false;
    const run = this.flushing.then(() => this.flushNow());
    this.flushing = run.catch(() => 0);
    return run;
  }

  private async flushNow(): Promise<number> {
    const n = this.bTag.length;
    if (n === 0) return 0;
    const indexes = this.bTag;
    const ts = this.bTs;
    const values = this.bValue;
    const quality = this.bQuality;
    // Samples arriving while the write is under way go into fresh arrays behind it.
    this.bTag = [];
    this.bTs = [];
    this.bValue = [];
    this.bQuality = [];
    this.inFlight = n;
    try {
      const tagIds = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        const l = this.logged[indexes[i]!]!;
        tagIds[i] = l.tagId ??= await this.store.tagId(l.name);
      }
      await this.store.insertBatch({ count: n, tagIds, ts, values, quality });
    } catch (err) {
      // Keep the batch in front; new samples stay behind it and the next flush retries the lot.
      this.bTag = indexes.concat(this.bTag);
      this.bTs = ts.concat(this.bTs);
      this.bValue = values.concat(this.bValue);
      this.bQuality = quality.concat(this.bQuality);
      this.inFlight = 0;
      this.failedFlushes++;
      const msg = err instanceof Error ? err.message : String(err);
      if (this.lastError !== msg) this.log.error({ err, buffered: n }, 'writing history failed; keeping the samples to retry');
      this.lastError = msg;
      return 0;
    }
    this.inFlight = 0;
    this.written += n;
    if (this.lastError !== undefined) {
      this.log.info({ written: n, dropped: this.dropped }, 'writing history works again');
      this.lastError = undefined;
    }
    return n;
  }

  /**
   * One pruning pass: for each tag ever logged, deletes samples older than its retention, in batches of
   * `pruneBatchRows` with a turn of the event loop between them. Concurrent calls share one pass.
   */
  prune(): Promise<number> {
    this.pruning ??= this.prunePass().finally(() => {
      this.pruning = undefined;
    });
    return this.pruning;
  }

  private async prunePass(): Promise<number> {
    const retention = new Map<string, number>();
    for (const tag of this.engine.tags) {
      const days = tag.def.history?.retentionDays;
      if (days !== undefined) retention.set(tag.def.name, days);
    }
    const now = this.clock.now();
    let total = 0;
    try {
      const tags = await this.store.listTags();
      // Whole days older than every tag's retention go at once where the store is partitioned by time.
      if (this.store.dropBefore && tags.length > 0) {
        let oldest = Infinity;
        for (const { name } of tags) oldest = Math.min(oldest, now - (retention.get(name) ?? this.defaultRetentionDays) * DAY_MS);
        await this.store.dropBefore(oldest);
      }
      for (const { id, name } of tags) {
        // Stopped while this pass waited for a turn: the database may be closing; the next start prunes again.
        if (!this.running) break;
        const cutoff = now - (retention.get(name) ?? this.defaultRetentionDays) * DAY_MS;
        for (;;) {
          const n = await this.store.prune(id, cutoff, this.pruneBatchRows);
          total += n;
          if (n < this.pruneBatchRows || !this.running) break;
          await yieldToEventLoop();
        }
        await yieldToEventLoop();
      }
    } catch (err) {
      this.log.error({ err }, 'pruning history failed; the next pass retries');
    }
    this.pruned += total;
    return total;
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push({ handle: this.clock.setInterval(fn, ms), kind: 'interval' });
  }

  private onChange(c: TagChange): void {
    const tag = c.tag;
    const l = this.logged[tag.index];
    if (!l) return;
    const log = l.onChange ? shouldLog(l.last, tag.value, tag.quality, l.deadband) : l.last === undefined || l.last.quality !== tag.quality;
    if (log) this.append(l, tag.value, tag.quality, tag.timestamp);
  }

  private tick(tags: readonly TagState[]): void {
    const now = this.clock.now();
    for (const tag of tags) this.append(this.logged[tag.index]!, tag.value, tag.quality, now);
  }

  /**
   * In a cluster, only the node that runs a connection logs its tags (every node sees every value; the history
   * table is shared): `logsConnection` says which connections run here.
   */
  restrictTo(logsConnection: (connection: string) => boolean): void {
    this.logsConnection = logsConnection;
  }

  private logsConnection: ((connection: string) => boolean) | undefined;

  private append(l: Logged, value: TagValue, quality: number, ts: number): void {
    if (this.logsConnection !== undefined && !this.logsConnection(this.engine.tags[l.index]!.def.connection)) return;
    l.last = { value, quality };
    const n = this.bTag.length + this.inFlight;
    if (n >= this.maxBuffered) {
      if (this.dropped++ === 0 || this.dropped % 100_000 === 0) {
        this.log.warn({ dropped: this.dropped, buffered: n }, 'history buffer full (storage not keeping up); dropping new samples');
      }
      return;
    }
    this.bTag.push(l.index);
    this.bTs.push(ts);
    this.bValue.push(toStored(value));
    this.bQuality.push(quality);
    if (this.bTag.length >= this.flushMaxValues && !this.flushScheduled && this.running && this.lastError === undefined) {
      // Not inline: the listener runs inside a driver's update; the write waits for the next turn. While the
      // store is failing, only the regular timer retries, so a dead disk is not hammered on every change.
      this.flushScheduled = true;
      this.clock.setTimeout(() => {
        if (this.flushScheduled) void this.flush();
      }, 0);
    }
  }
}
