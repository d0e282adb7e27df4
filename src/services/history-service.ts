import type { Clock } from '../domain/clock.js';
import type { AggregateName } from '../domain/history/aggregates.js';
import { bucketCount, DEFAULT_MAX_BUCKETS } from '../domain/history/bucket.js';
import { parseInterval } from '../domain/history/interval.js';
import { TagwayError, type ItemError } from '../domain/problems.js';
import {
  checkQuery,
  checkTagQuery,
  DEFAULT_RAW_LIMIT,
  MAX_RAW_LIMIT,
  type BucketItem,
  type HistoryQueries,
  type HistoryQuery,
  type HistoryResult,
  type RawItem,
} from '../runtime/history-query.js';
import type { TagState } from '../runtime/tag-engine.js';
import type { Actor } from './actor.js';
import { ConcurrencyBudget } from './concurrency-budget.js';

/** Options of a history query; times already parsed (epoch ms), the interval as written (`1m`, `PT1M`). */
export interface HistoryOptions {
  /** Inclusive; default one hour before `to`. */
  from?: number | undefined;
  /** Exclusive; default now. */
  to?: number | undefined;
  /** Raw samples per page and tag; default 1000. */
  limit?: number | undefined;
  order?: 'asc' | 'desc' | undefined;
  interval?: string | undefined;
  aggregate?: AggregateName | undefined;
  boundingValues?: boolean | undefined;
}

export interface HistoryManyInput extends HistoryOptions {
  tags: readonly string[];
  /** Raw queries: per tag, the `next` of its previous page. */
  cursors?: Readonly<Record<string, string>> | undefined;
  /** CSV and the like: the first tag that fails fails the whole request (before anything is answered). */
  failOnTagError?: boolean | undefined;
}

export type HistoryItems = readonly RawItem[] | readonly BucketItem[];

/** How one tag's answer ends: raw answers name the next page, aggregated ones may carry bounding values. */
export interface HistoryTail {
  next?: string | null;
  boundingValues?: { before: RawItem | null; after: RawItem | null };
}

/**
 * Where an answer goes, piece by piece, as it is read: a front end encodes each call at once (a returned promise
 * holds the service back until the client has taken the bytes), so no answer is ever held whole in memory.
 * Everything thrown before `begin` is a whole-request failure; after it, the answer is under way.
 */
export interface HistorySink {
  begin(shape: { aggregated: boolean }): void | Promise<void>;
  /** A tag's answer starts (many-tag queries: in request order, each name once). */
  tag(name: string): void | Promise<void>;
  items(items: HistoryItems): void | Promise<void>;
  end(tail: HistoryTail): void | Promise<void>;
  /** A tag that answers nothing but this error (many-tag queries). */
  failed(name: string, error: ItemError): void | Promise<void>;
}

export interface HistoryServiceOptions {
  /**
   * Most samples (raw items or buckets) one request may answer, over all its tags; also the most samples of one
   * tag an aggregate reads. Settings `--max-history-samples` (default 1,000,000).
   */
  maxSamples: number;
  /** Most history queries one principal may have in flight (`--max-concurrent-history`, default 2). */
  maxConcurrent: number;
  /** Most tags in one many-tag query. */
  maxTags: number;
  /** Samples read from the store and encoded at a time. */
  chunkSize?: number | undefined;
}

export const MAX_TAGS_PER_QUERY = 1000;
const DEFAULT_SPAN_MS = 3_600_000;
const DEFAULT_CHUNK = 2000;

type AggregateResult = Extract<HistoryResult, { kind: 'aggregate' }>;
type Planned = { name: string; tag: TagState; cursor: string | undefined } | { name: string; error: ItemError };

/**
 * Reading history (raw pages, aggregates, many tags at once) for every front end. `history:read` is tag-scoped:
 * the caller needs it for each tag (and for some tag to ask at all). Every request is bounded before any data is
 * read: duplicate names count once, the samples it could answer must fit `maxSamples`, and a principal has at most
 * `maxConcurrent` queries in flight; answers are streamed to a sink in chunks (raw samples are read chunk by chunk,
 * aggregates one tag at a time).
 */
export class HistoryService {
  private readonly budget: ConcurrencyBudget;
  private readonly chunkSize: number;

  constructor(
    private readonly queries: HistoryQueries,
    private readonly clock: Clock,
    private readonly opts: HistoryServiceOptions,
  ) {
    this.budget = new ConcurrencyBudget(opts.maxConcurrent, 'history queries');
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  }

  /** One tag's history; any failure (unknown tag, not logged, forbidden, invalid) fails the request. */
  async query(actor: Actor, name: string, options: HistoryOptions & { cursor?: string | undefined }, sink: HistorySink): Promise<void> {
    this.requireAny(actor);
    const tag = this.resolve(actor, name);
    const q = this.toQuery(options, options.cursor);
    checkTagQuery(tag, q);
    this.checkBudget(q, 1);
    await this.budget.run(actor.principal.username, async () => {
      await this.queries.flush();
      const buckets = q.aggregate !== undefined ? await this.aggregate(tag, q) : undefined;
      await sink.begin({ aggregated: q.aggregate !== undefined });
      if (buckets) await this.emitBuckets(buckets, sink);
      else await this.emitRaw(tag, q, sink);
    });
  }

  /**
   * Many tags with the same options: each name once, in request order; per tag its answer or its error
   * (TAG_NOT_FOUND, FORBIDDEN, NOT_FOUND when it logs no history, VALIDATION_FAILED for its cursor or type).
   */
  async queryMany(actor: Actor, input: HistoryManyInput, sink: HistorySink): Promise<void> {
    this.requireAny(actor);
    if (input.tags.length > this.opts.maxTags)
      throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${this.opts.maxTags} tags per query; got ${input.tags.length}`);
    // The same tag asked for twice is answered once: copies would only multiply the work and the answer.
    const names = [...new Set(input.tags)];
    const base = this.toQuery(input, undefined);
    this.checkBudget(base, names.length);
    // Every tag is resolved before the answer starts: a failing tag can still fail the whole request.
    const plan: Planned[] = names.map((name) => {
      try {
        const tag = this.resolve(actor, name);
        const cursor = input.cursors?.[name];
        checkQuery({ ...base, cursor });
        checkTagQuery(tag, base);
        return { name, tag, cursor };
      } catch (err) {
        if (input.failOnTagError || !(err instanceof TagwayError)) throw err;
        return { name, error: { code: err.code, message: err.message } };
      }
    });
    await this.budget.run(actor.principal.username, async () => {
      await this.queries.flush();
      // The answer starts with the first tag's: a one-tag request whose aggregate is over budget still gets a
      // problem answer rather than a cut connection.
      let begun = false;
      const begin = async () => {
        if (!begun) await sink.begin({ aggregated: base.aggregate !== undefined });
        begun = true;
      };
      for (const p of plan) {
        if ('error' in p) {
          await begin();
          await sink.failed(p.name, p.error);
          continue;
        }
        const q = { ...base, cursor: p.cursor };
        if (q.aggregate === undefined) {
          await begin();
          await sink.tag(p.name);
          await this.emitRaw(p.tag, q, sink);
          continue;
        }
        let buckets: AggregateResult;
        try {
          buckets = await this.aggregate(p.tag, q);
        } catch (err) {
          if (input.failOnTagError || !(err instanceof TagwayError)) throw err;
          await begin();
          await sink.failed(p.name, { code: err.code, message: err.message });
          continue;
        }
        await begin();
        await sink.tag(p.name);
        await this.emitBuckets(buckets, sink);
      }
      await begin();
    });
  }

  /** Tags that log history and whose history the caller may read, in project order. */
  loggedTags(actor: Actor): TagState[] {
    this.requireAny(actor);
    const perms = actor.principal.permissions;
    return this.queries.loggedTags().filter((t) => perms.allows('history:read', t.def.name));
  }

  /** One tag that logs history and whose history the caller may read (errors as `query`'s). */
  loggedTag(actor: Actor, name: string): TagState {
    this.requireAny(actor);
    return this.resolve(actor, name);
  }

  /** Whether the caller may read this tag's history and the tag logs any (front ends that show it, e.g. OPC UA). */
  mayRead(actor: Actor, name: string): boolean {
    try {
      this.resolve(actor, name);
      return true;
    } catch {
      return false;
    }
  }

  /** As `loggedTags`, but none (not FORBIDDEN) without `history:read`: for listings that show history tags among others (browse). */
  loggedTagsVisible(actor: Actor): TagState[] {
    const perms = actor.principal.permissions;
    if (!perms.has('history:read')) return [];
    return this.queries.loggedTags().filter((t) => perms.allows('history:read', t.def.name));
  }

  /** History queries a principal has in flight (tests, metrics). */
  running(actor: Actor): number {
    return this.budget.running(actor.principal.username);
  }

  private requireAny(actor: Actor): void {
    if (!actor.principal.permissions.has('history:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'history:read'");
  }

  /** The tag, if it exists, the actor may read its history, and it logs history (in that order of errors). */
  private resolve(actor: Actor, name: string): TagState {
    const tag = this.queries.requireTag(name);
    if (!actor.principal.permissions.allows('history:read', name))
      throw new TagwayError('FORBIDDEN', `You may not read the history of tag '${name}'`);
    this.queries.requireLogged(tag);
    return tag;
  }

  private toQuery(o: HistoryOptions, cursor: string | undefined): HistoryQuery {
    const to = o.to ?? this.clock.now();
    const q: HistoryQuery = {
      from: o.from ?? to - DEFAULT_SPAN_MS,
      to,
      limit: o.limit ?? DEFAULT_RAW_LIMIT,
      order: o.order ?? 'asc',
      cursor,
      intervalMs: o.interval !== undefined ? parseInterval(o.interval) : undefined,
      aggregate: o.aggregate,
      boundingValues: o.boundingValues ?? false,
    };
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_RAW_LIMIT)
      throw new TagwayError('VALIDATION_FAILED', `limit must be 1…${MAX_RAW_LIMIT}`, {
        errors: [{ field: 'limit', message: `must be a whole number 1…${MAX_RAW_LIMIT}` }],
      });
    checkQuery(q);
    return q;
  }

  /**
   * Refuses, before reading anything, a request that could answer more than the budget: raw pages `limit` per
   * tag, aggregates one bucket per interval per tag (and at most DEFAULT_MAX_BUCKETS per tag, as bucketize).
   */
  private checkBudget(q: HistoryQuery, tags: number): void {
    let perTag = q.limit;
    if (q.intervalMs !== undefined) {
      perTag = bucketCount(q.from, q.to, q.intervalMs);
      if (perTag > DEFAULT_MAX_BUCKETS)
        throw new TagwayError('VALIDATION_FAILED', `The range holds ${perTag} intervals; at most ${DEFAULT_MAX_BUCKETS} are answered`, {
          errors: [{ field: 'interval', message: `too small for the range: ${perTag} buckets, at most ${DEFAULT_MAX_BUCKETS}` }],
        });
    }
    const total = perTag * tags;
    if (total > this.opts.maxSamples) {
      const what = q.intervalMs !== undefined ? 'buckets' : 'samples';
      throw new TagwayError(
        'PAYLOAD_TOO_LARGE',
        `This query could answer ${total} ${what} (${tags} tag${tags === 1 ? '' : 's'} × ${perTag}); at most ${this.opts.maxSamples} ` +
          'per request. Ask for fewer tags, a shorter range, a larger interval or a smaller limit, and page with cursors.',
      );
    }
  }

  /**
   * One tag's buckets. They are few next to the samples they summarise (bounded by the budget); the samples are
   * read (at most `maxSamples` of them, PAYLOAD_TOO_LARGE beyond), summarised and dropped before the next tag's.
   */
  private async aggregate(tag: TagState, q: HistoryQuery): Promise<AggregateResult> {
    const r = await this.queries.query(tag, { ...q, maxSamplesRead: this.opts.maxSamples });
    if (r.kind !== 'aggregate') throw new Error('expected an aggregated result');
    return r;
  }

  private async emitBuckets(r: AggregateResult, sink: HistorySink): Promise<void> {
    for (let i = 0; i < r.items.length; i += this.chunkSize) await sink.items(r.items.slice(i, i + this.chunkSize));
    await sink.end(r.boundingValues ? { boundingValues: r.boundingValues } : {});
  }

  private async emitRaw(tag: TagState, q: HistoryQuery, sink: HistorySink): Promise<void> {
    const chunks = this.queries.rawChunks(tag, q, this.chunkSize);
    for (;;) {
      const step = await chunks.next();
      if (step.done) {
        await sink.end({ next: step.value });
        return;
      }
      await sink.items(step.value);
    }
  }
}

type Collected = { name: string; items: (RawItem | BucketItem)[]; tail?: HistoryTail } | { name: string; error: ItemError };

/** A sink that keeps the answer in memory, for callers that need it whole (tests, small internal reads). */
export class CollectingSink implements HistorySink {
  aggregated = false;
  /** One entry per tag; a one-tag query's entry has the name ''. */
  readonly tags: Collected[] = [];

  begin(shape: { aggregated: boolean }): void {
    this.aggregated = shape.aggregated;
  }
  tag(name: string): void {
    this.tags.push({ name, items: [] });
  }
  items(items: HistoryItems): void {
    const c = this.open();
    for (const i of items) c.items.push(i);
  }
  end(tail: HistoryTail): void {
    this.open().tail = tail;
  }
  failed(name: string, error: ItemError): void {
    this.tags.push({ name, error });
  }
  private open(): { name: string; items: (RawItem | BucketItem)[]; tail?: HistoryTail } {
    const last = this.tags.at(-1);
    if (last && !('error' in last) && last.tail === undefined) return last;
    const c = { name: '', items: [] };
    this.tags.push(c);
    return c;
  }
}
