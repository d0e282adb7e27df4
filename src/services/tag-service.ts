import { auditValue } from '../domain/audit/value.js';
import { compileGlob } from '../domain/glob.js';
import { TagwayError, type ItemError } from '../domain/problems.js';
import type { TagType } from '../domain/tag-types.js';
import type { AuditEvent } from '../runtime/audit.js';
import type { TagEngine, TagState, WriteContext } from '../runtime/tag-engine.js';
import type { Actor } from './actor.js';
import { ConcurrencyBudget } from './concurrency-budget.js';

/** The part of the audit trail the tag service writes to. */
export interface TagAudit {
  /** Resolves once the row is committed (batched with the other rows of the same tick). */
  recordSoon(e: AuditEvent): Promise<void>;
}

export interface TagServiceOptions {
  /** Most names or items in one bulk read or write (→ PAYLOAD_TOO_LARGE). */
  maxBulkItems: number;
  /** Bulk reads/writes one principal may have in flight at once (→ TOO_MANY_REQUESTS). */
  maxConcurrentBulk: number;
}

export interface ItemFailure {
  name: string;
  error: ItemError;
}
/** A bulk read's item: the tag's live state (encoders copy its cached JSON) or why it cannot be read. */
export type ReadResult = TagState | ItemFailure;
export type WriteResult = { name: string; status: 'OK' } | ItemFailure;

export interface ListQuery {
  /** Name glob (`*` within a segment, `**` across). */
  filter?: string | undefined;
  group?: string | undefined;
  type?: TagType | undefined;
  limit?: number | undefined;
  /** Continue after the tag with this index (the `next` of the previous page). */
  after?: number | undefined;
}

export interface ListResult {
  tags: TagState[];
  /** Tags matching the filters that the caller may read. */
  total: number;
  /** With a limit: the index to continue after, or null on the last page. Without a limit: absent. */
  next?: number | null;
}

/** A bulk request smaller than this never waits for the concurrency budget: HMIs poll in parallel with small ones. */
export const BULK_BUDGET_MIN_BYTES = 65_536;
/** How many refused items one audit row lists in full (the rest are counted). */
export const AUDIT_REFUSED_ITEMS_MAX = 100;

const noop = (): void => undefined;

/** True for a bulk read's item that failed (a TagState has a definition, a failure has an error). */
export function isFailure(r: ReadResult): r is ItemFailure {
  return (r as ItemFailure).error !== undefined;
}

function notFound(name: string): ItemError {
  return { code: 'TAG_NOT_FOUND', message: `No tag named '${name}'` };
}

/**
 * Listing, reading and writing tags for any front end (REST, WebSocket, and later GraphQL, OPC UA, MQTT): the
 * permission checks with tag scopes, the bulk budgets and the audit of refused writes live here, once.
 *
 * A tag the caller may not read is answered exactly like a tag that does not exist (TAG_NOT_FOUND), so that names
 * outside a caller's scope cannot be probed. A caller who holds a permission on no tag at all gets FORBIDDEN for
 * every name, existing or not, which reveals nothing either.
 */
export class TagService {
  private readonly bulkBudget: ConcurrencyBudget;

  constructor(
    private readonly engine: TagEngine,
    private readonly audit: TagAudit,
    private readonly opts: TagServiceOptions,
  ) {
    this.bulkBudget = new ConcurrencyBudget(opts.maxConcurrentBulk, 'bulk reads or writes');
  }

  /** Tags the caller may read, in project order, filtered and paged. */
  list(actor: Actor, q: ListQuery = {}): ListResult {
    const perms = actor.principal.permissions;
    if (!perms.has('tags:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:read'");
    const match = q.filter ? compileGlob(q.filter) : undefined;
    const start = q.after === undefined ? 0 : q.after + 1;
    const wanted = (t: TagState): boolean =>
      (!match || match(t.def.name)) &&
      (q.group === undefined || t.def.group === q.group) &&
      (q.type === undefined || t.def.type === q.type) &&
      perms.allows('tags:read', t.def.name);
    const tags: TagState[] = [];
    let total = 0;
    let last = -1;
    for (const tag of this.engine.tags) {
      if (!wanted(tag)) continue;
      total++;
      if (tag.index < start || (q.limit !== undefined && tags.length >= q.limit)) continue;
      last = tag.index;
      tags.push(tag);
    }
    if (q.limit === undefined) return { tags, total };
    const more = tags.length === q.limit && this.engine.tags.slice(last + 1).some(wanted);
    return { tags, total, next: more ? last : null };
  }

  /** One tag's live state. Synchronous: the hot path of every HMI. */
  read(actor: Actor, name: string): TagState {
    const perms = actor.principal.permissions;
    const tag = this.engine.get(name);
    if (tag !== undefined && perms.allows('tags:read', name)) return tag;
    if (!perms.has('tags:read')) throw new TagwayError('FORBIDDEN', `You may not read tag '${name}'`);
    throw new TagwayError('TAG_NOT_FOUND', `No tag named '${name}'`);
  }

  /**
   * Many tags in request order, each its state or its error. Synchronous and allocation-free per readable item:
   * encoders copy the engine's cached JSON bytes of each state.
   */
  readMany(actor: Actor, names: readonly string[]): ReadResult[] {
    const perms = actor.principal.permissions;
    if (!perms.has('tags:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:read'");
    this.checkBulkSize(names.length, 'names');
    const out = new Array<ReadResult>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const tag = this.engine.get(name);
      out[i] = tag !== undefined && perms.allows('tags:read', name) ? tag : { name, error: notFound(name) };
    }
    return out;
  }

  /**
   * Whether a write of this tag by the caller would pass the permission and access checks (front ends that show
   * writability, e.g. OPC UA's UserAccessLevel). The write itself still checks; this audits nothing.
   */
  mayWrite(actor: Actor, name: string): boolean {
    const tag = this.engine.get(name);
    return tag !== undefined && tag.def.access === 'readwrite' && actor.principal.permissions.allows('tags:write', name);
  }

  /** Validates and writes one value; resolves with the tag once the device (or storage) accepted it. */
  async write(actor: Actor, name: string, value: unknown): Promise<TagState> {
    const perms = actor.principal.permissions;
    const tag = this.engine.get(name);
    if (!perms.has('tags:write')) {
      if (tag) await this.auditRefused(actor, [{ name, value }]);
      throw new TagwayError('FORBIDDEN', `You may not write tag '${name}'`);
    }
    if (!tag) throw new TagwayError('TAG_NOT_FOUND', `No tag named '${name}'`);
    if (!perms.allows('tags:write', name)) {
      await this.auditRefused(actor, [{ name, value }]);
      if (perms.allows('tags:read', name)) throw new TagwayError('FORBIDDEN', `You may not write tag '${name}'`);
      throw new TagwayError('TAG_NOT_FOUND', `No tag named '${name}'`);
    }
    return this.engine.write(tag, value, this.context(actor));
  }

  /**
   * Writes many tags, each item succeeding or failing alone, answered in request order. All writes start in the
   * same tick so that drivers can batch them (one transaction for internal tags); the refused ones are audited in
   * one row for the whole request. Without `perItem`, a caller who may write no tag at all is refused as a whole
   * (REST); with it every item gets its own answer (the WebSocket protocol answers every write message).
   */
  async writeMany(
    actor: Actor,
    items: ReadonlyArray<{ name: string; value: unknown; timestamp?: number | undefined; quality?: number | undefined }>,
    opts: { perItem?: boolean } = {},
  ): Promise<WriteResult[]> {
    const perms = actor.principal.permissions;
    if (!opts.perItem && !perms.has('tags:write')) throw new TagwayError('FORBIDDEN', "You lack the permission 'tags:write'");
    this.checkBulkSize(items.length, 'items');
    const ctx = this.context(actor);
    const results = new Array<WriteResult>(items.length);
    // The permitted items go to the engine together: one driver call per connection, one audit append.
    const writes: Array<{ tag: TagState; raw: unknown }> = [];
    const at: number[] = [];
    const stamped: Array<Promise<void>> = [];
    let refused: Array<{ name: string; value: unknown }> | undefined;
    for (let i = 0; i < items.length; i++) {
      const { name, value, timestamp, quality } = items[i]!;
      const tag = this.engine.get(name);
      if (!tag) {
        results[i] = { name, error: notFound(name) };
        continue;
      }
      if (!perms.allows('tags:write', name)) {
        (refused ??= []).push({ name, value });
        results[i] = perms.allows('tags:read', name)
          ? { name, error: { code: 'FORBIDDEN', message: `You may not write tag '${name}'` } }
          : { name, error: notFound(name) };
        continue;
      }
      // A value with its own source time or quality (WinCC Unified's write inputs) is written alone with them.
      if (timestamp !== undefined || quality !== undefined) {
        stamped.push(
          this.engine.write(tag, value, { ...ctx, timestamp, quality }).then(
            () => {
              results[i] = { name, status: 'OK' };
            },
            (err: unknown) => {
              results[i] = { name, error: problemOf(err) };
            },
          ),
        );
        continue;
      }
      writes.push({ tag, raw: value });
      at.push(i);
    }
    const refusedAudit = refused ? this.auditRefused(actor, refused) : undefined;
    if (writes.length > 0) {
      const errors = await this.engine.writeMany(writes, ctx);
      for (let j = 0; j < at.length; j++) {
        const i = at[j]!;
        const name = items[i]!.name;
        const err = errors[j];
        results[i] = err === undefined ? { name, status: 'OK' } : { name, error: problemOf(err) };
      }
    }
    await Promise.all(stamped);
    if (refusedAudit) await refusedAudit;
    return results;
  }

  /**
   * Takes one of the principal's bulk slots for the whole life of a request (from before its body is read until
   * its answer is sent, or for a WebSocket write until it is answered), so that one client's parallel 10,000-name
   * requests cannot occupy the server. Returns the release (safe to call twice); TOO_MANY_REQUESTS with
   * Retry-After when the principal already has its budget in flight. Requests under `BULK_BUDGET_MIN_BYTES`
   * (`sizeBytes` as received; undefined = unknown, counted) pass freely.
   */
  admitBulk(actor: Actor, sizeBytes: number | undefined): () => void {
    if (sizeBytes !== undefined && sizeBytes < BULK_BUDGET_MIN_BYTES) return noop;
    return this.bulkBudget.acquire(actor.principal.username);
  }

  private checkBulkSize(n: number, what: string): void {
    const max = this.opts.maxBulkItems;
    if (n > max) throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${max} ${what} per request; got ${n}`);
  }

  private context(actor: Actor): WriteContext {
    return { user: actor.principal.username, clientAddress: actor.clientAddress };
  }

  /**
   * One row per request for writes refused for lack of permission (they never reach the engine, whose observer
   * audits the others): a single item as `{newValue}` on its tag, many as a list of the first
   * AUDIT_REFUSED_ITEMS_MAX with the count of the rest. Values enter only truncated (size and hash when large).
   */
  private auditRefused(actor: Actor, refused: ReadonlyArray<{ name: string; value: unknown }>): Promise<void> {
    const base = { action: 'tag.write' as const, user: actor.principal.username, clientAddress: actor.clientAddress, result: 'FORBIDDEN' };
    if (refused.length === 1) {
      const only = refused[0]!;
      return this.audit.recordSoon({ ...base, target: only.name, details: { newValue: auditValue(only.value) } });
    }
    const listed = refused
      .slice(0, AUDIT_REFUSED_ITEMS_MAX)
      .map((r) => ({ name: r.name, code: 'FORBIDDEN', newValue: auditValue(r.value) }));
    const details: Record<string, unknown> = { refused: refused.length, items: listed };
    if (refused.length > listed.length) details.omitted = refused.length - listed.length;
    return this.audit.recordSoon({ ...base, target: null, details });
  }
}

/** A write's failure as a per-item problem (anything but a TagwayError is an internal error, without its text). */
function problemOf(err: unknown): ItemError {
  return err instanceof TagwayError
    ? { code: err.code, message: err.message }
    : { code: 'INTERNAL_ERROR', message: 'The write failed unexpectedly' };
}
