import { canonicalJson, type AuditEntryFields } from '../domain/audit/chain.js';
import { auditValue } from '../domain/audit/value.js';
import type { AlarmEventRecord } from '../domain/alarms/records.js';
import type { Clock } from '../domain/clock.js';
import type { CommitRider } from '../drivers/driver.js';
import type { AuditRepository, AuditRow, NewAuditEntry } from '../storage/audit-repository.js';
import { RiderDetached } from './group-commit.js';
import type { PreparedWrite, TagEngine, WriteEvent } from './tag-engine.js';

/** The storage side the trail needs. */
export type AuditStore = Pick<AuditRepository, 'appendMany'> & {
  /**
   * Present on a group commit (src/runtime/group-commit.ts): the trail then hands its queued rows to each group as
   * it forms instead of flushing on its own timer, so a value and the audit rows of the same moment share a commit.
   */
  beforeEachGroup?: (contribute: () => void) => () => void;
  request?: () => void;
  /** Present on a group commit: rows committed with a write's value, all or none (see TagEngine.prepareWrites). */
  rider?: (entries: readonly NewAuditEntry[]) => { rider: CommitRider; rows: Promise<AuditRow[]> };
};

/** Actions recorded. Dotted, so that GET /audit can filter families by listing them. */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.login_throttled',
  'auth.lockout',
  'auth.logout',
  'auth.refresh',
  'auth.token',
  'auth.token_failed',
  'tag.write',
  'alarm.acknowledge',
  'alarm.reset',
  'alarm.enable',
  'alarm.disable',
  'alarm.shelve',
  'alarm.unshelve',
  'user.create',
  'user.update',
  'user.unlock',
  'user.delete',
  'user.disable',
  'user.password',
  'group.create',
  'group.update',
  'group.delete',
  'client.create',
  'client.delete',
  'signing_key.rotate',
  'connections.reload',
  'exports.run',
  'exports.retry',
  'exports.discard',
  'board.create',
  'board.update',
  'board.delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEvent {
  action: AuditAction;
  user?: string | null | undefined;
  clientAddress?: string | null | undefined;
  /** What was acted on: a tag name, a username, an alarm id, a client id. */
  target?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
  /** `OK`, or the problem code that refused it (`UNAUTHENTICATED`, `OUT_OF_RANGE`, …). */
  result: string;
}

/** Keys whose values never enter the trail, whatever a caller passes: the trail outlives every secret's rotation. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|csrf/i;

export function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(x);
    return out;
  }
  return v;
}

/**
 * Records security-relevant events. `record` resolves after the row is committed, so a caller that awaits it
 * before answering the client never reports something the trail has not got (architecture: commit first).
 * Rows of the same tick share one append (one transaction, one fsync), in the order they were recorded.
 */
/** Rows kept in memory while storage refuses them (a full disk); past this the oldest are dropped and counted. */
export const MAX_HELD_AUDIT_ROWS = 100_000;
/** How often held rows are offered to storage again. */
const RETRY_MS = 500;

export class AuditTrail {
  /** Rows waiting for the next append, and one waiter per record call (a bulk write's rows share one). */
  private pending: Array<Omit<AuditEntryFields, 'id'>> = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /**
   * Rows whose commit storage refused. What they record has happened (a value reached a device, a user logged in),
   * so they are not dropped: they are committed first, in order, with their original times, as soon as storage
   * takes writes again. Only a crash during the outage loses them.
   */
  private held: Array<Omit<AuditEntryFields, 'id'>> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private refusedSince: number | undefined;
  private lastError = '';
  /** Held rows dropped because the outage outlasted MAX_HELD_AUDIT_ROWS. */
  droppedRows = 0;
  private flushScheduled = false;
  /** The append under way: appends run one after the other, so the chain keeps the order of events. */
  private appending: Promise<void> | undefined;
  /** The group commit the store belongs to, when it is one. */
  private readonly group: { request(): void } | undefined;

  /** Told of every committed row (the event bus's `audit.recorded`); undefined until the composition sets it. */
  onCommitted: ((e: { action: string; user: string; target?: string | undefined; result: string }) => void) | undefined;
  /** Whether `onCommitted` has anyone to tell (the bus's listeners): a bulk write's 1,000 rows skip it otherwise. */
  committedListened: (() => boolean) | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
  ) {
    const { beforeEachGroup, request } = store;
    if (beforeEachGroup !== undefined && request !== undefined) {
      this.group = { request: () => request.call(store) };
      // A group forming while this trail's append is still under way gets nothing: the rows wait for that append
      // (the chain keeps the order of events), which asks for the next group when it is done.
      beforeEachGroup.call(store, () => {
        if (this.appending === undefined) void this.flush();
      });
    }
  }

  private entry(e: AuditEvent): Omit<AuditEntryFields, 'id'> {
    return {
      at: this.isoNow(),
      action: e.action,
      user: e.user ?? null,
      clientAddress: e.clientAddress ?? null,
      target: e.target ?? null,
      details: e.details === undefined ? null : canonicalJson(redact(e.details)),
      result: e.result,
    };
  }

  private lastMs = NaN;
  private lastIso = '';
  /** The clock as ISO text; a bulk write of 1,000 tags happens within one millisecond, so the text is reused. */
  private isoNow(): string {
    const now = this.clock.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastIso = new Date(now).toISOString();
    }
    return this.lastIso;
  }

  /**
   * Records an event; resolves once the row is committed. A caller that does not await it (a synchronous path)
   * still gets the row committed within the tick; a failure then is not unhandled (the store reports it).
   */
  record(e: AuditEvent): Promise<void> {
    const p = this.recordSoon(e);
    p.catch(() => undefined);
    return p;
  }

  /**
   * Records an event together with the others of the same tick (one transaction, one fsync for a bulk write of
   * 1,000 tags instead of 1,000); resolves once the row is committed.
   */
  recordSoon(e: AuditEvent): Promise<void> {
    return this.enqueue(this.entry(e));
  }

  private enqueue(entry: Omit<AuditEntryFields, 'id'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push(entry);
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.group) {
      this.group.request();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Commits queued rows now (also at shutdown); resolves when they (and any append under way) are committed. */
  flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.appending !== undefined) {
      // One append at a time keeps the chain in the order of events (and held rows first); what arrives meanwhile
      // goes into the next one, as a whole.
      return this.pending.length > 0 || this.held.length > 0 ? this.appending.then(() => this.flush()) : this.appending;
    }
    const batch = this.pending;
    const waiters = this.waiters;
    if (batch.length === 0 && this.held.length === 0) return Promise.resolve();
    this.pending = [];
    this.waiters = [];
    // Held rows go first: the chain keeps the order in which things happened.
    const held = this.held;
    this.held = [];
    const rows = held.length === 0 ? batch : [...held, ...batch];
    const done = this.store.appendMany(rows).then(
      () => {
        this.refusedSince = undefined;
        for (const w of waiters) w.resolve();
        this.tellCommitted(rows);
      },
      (err: unknown) => {
        this.hold(rows, err);
        for (const w of waiters) w.reject(err);
      },
    );
    const appending = done.then(() => {
      this.appending = undefined;
      if (this.pending.length > 0) this.schedule();
    });
    this.appending = appending;
    return appending;
  }

  /** Tells `onCommitted` of committed rows, when it has anyone to tell. */
  private tellCommitted(rows: ReadonlyArray<Omit<AuditEntryFields, 'id'>>): void {
    const told = this.onCommitted;
    if (told && (this.committedListened?.() ?? true))
      for (const r of rows) told({ action: r.action, user: r.user ?? '', target: r.target ?? undefined, result: r.result });
  }

  private hold(rows: Array<Omit<AuditEntryFields, 'id'>>, err: unknown): void {
    this.refusedSince ??= this.clock.now();
    this.lastError = err instanceof Error ? err.message : String(err);
    this.held = rows;
    const over = this.held.length - MAX_HELD_AUDIT_ROWS;
    if (over > 0) {
      this.held.splice(0, over);
      this.droppedRows += over;
    }
    if (this.retryTimer === undefined) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** For /health: degraded while rows wait for storage (and, after an outage that overflowed, saying so). */
  storageState(): { ok: boolean; reason?: string } {
    if (this.held.length === 0 && this.droppedRows === 0) return { ok: true };
    const since = this.refusedSince === undefined ? '' : ` since ${new Date(this.refusedSince).toISOString()}`;
    const dropped = this.droppedRows > 0 ? `; ${this.droppedRows} rows dropped after the in-memory limit` : '';
    return { ok: this.held.length === 0, reason: `${this.held.length} audit rows wait for storage${since} (${this.lastError})${dropped}` };
  }

  /** Stops retrying (shutdown); the last flush is the caller's. */
  stopRetrying(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Records acknowledgements and resets from the alarm journal's committed events (they carry the user; the
   * client address is not known there). Returns the unsubscribe.
   */
  attachToAlarms(alarms: { onEvent(l: (e: AlarmEventRecord) => void): () => void }): () => void {
    return alarms.onEvent((e) => {
      if (e.event !== 'ACKNOWLEDGED' && e.event !== 'RESET') return;
      this.record({
        action: e.event === 'ACKNOWLEDGED' ? 'alarm.acknowledge' : 'alarm.reset',
        user: e.user,
        target: String(e.id),
        details: { alarm: e.alarm, tag: e.tag, state: e.state, eventId: e.eventId },
        result: 'OK',
      });
    });
  }

  /**
   * Records every write that passes through the engine, with old and new value: a single write as a row on its tag,
   * the items of one bulk request as ONE row listing them all (see `bulkWriteEntry`). Returns the unsubscribe.
   */
  attachTo(engine: TagEngine): () => void {
    const off = engine.onWrites((events) => {
      if (events.length === 1) {
        const e = events[0]!;
        // Prepared and committed with its value: nothing more to record.
        if (e.recorded !== undefined) return e.recorded;
        return this.enqueue(this.writeEntry(e));
      }
      return this.enqueue(this.bulkWriteEntry(events));
    });
    const rider = this.store.rider;
    if (rider === undefined) return off;
    const unprepare = engine.prepareWrites((e) => this.prepare(e, rider));
    return () => {
      unprepare();
      off();
    };
  }

  /**
   * A single write's row, to commit in its value's transaction. Not while rows are held (storage refused them): they
   * go first, in order, so the write is then recorded the usual way, behind them.
   */
  private prepare(e: WriteEvent, rider: NonNullable<AuditStore['rider']>): PreparedWrite | undefined {
    if (this.held.length > 0) return undefined;
    const entry = this.writeEntry(e);
    const made = rider.call(this.store, [entry]);
    const recorded = made.rows.then(
      () => this.tellCommitted([entry]),
      (err: unknown) => {
        // The value was stored, its row refused (a full disk): the row goes the usual way, held while refused.
        if (err instanceof RiderDetached) return this.enqueue(entry);
        throw err;
      },
    );
    // Rejected when the value was refused: the engine then records the failure the usual way; nobody else waits.
    recorded.catch(() => undefined);
    return { rider: made.rider, recorded };
  }

  /**
   * A bulk write's row: `target` null, `details` `{"items":[{"name","newValue","oldValue"[,"error"]},…]}` in request
   * order, `result` OK (all written), FAILED (none) or PARTIAL. One row per request rather than per item: a row with
   * its three index entries, canonical text and SHA-256 costs about 5 µs, more than everything else a durable value
   * costs together, so a row per item capped durable bulk writes near 120,000 values/s (docs/performance.md). The
   * trail still holds every item with its old and new value, chained and verified like any row.
   */
  private bulkWriteEntry(events: readonly WriteEvent[]): Omit<AuditEntryFields, 'id'> {
    let written = 0;
    for (const e of events) if (e.ok) written++;
    const first = events[0]!;
    return {
      at: this.isoNow(),
      action: 'tag.write',
      user: first.ctx.user ?? null,
      clientAddress: first.ctx.clientAddress ?? null,
      target: null,
      details: bulkWriteDetails(events),
      result: written === events.length ? 'OK' : written === 0 ? 'FAILED' : 'PARTIAL',
    };
  }

  private writeEntry(w: WriteEvent): Omit<AuditEntryFields, 'id'> {
    const oldValue = jsonSafe(w.oldValue);
    const newValue = jsonSafe(w.newValue);
    const details = writeDetails(oldValue, newValue, w.ok ? undefined : w.error);
    return {
      at: this.isoNow(),
      action: 'tag.write',
      user: w.ctx.user ?? null,
      clientAddress: w.ctx.clientAddress ?? null,
      target: w.tag.def.name,
      details: details ?? canonicalJson(redact(w.ok ? { oldValue, newValue } : { oldValue, newValue, error: w.error })),
      // The engine's observer hands over the message, not the problem code; FAILED plus the message is enough to audit.
      result: w.ok ? 'OK' : 'FAILED',
    };
  }
}

/**
 * The canonical JSON of a write's details, written directly when both values are scalars (the common case): the
 * same text `canonicalJson(redact(details))` produces (keys sorted: error, newValue, oldValue; none is a secret
 * key), without walking and copying the object for every tag of a bulk write. Undefined otherwise.
 */
export function writeDetails(oldValue: unknown, newValue: unknown, error: string | undefined): string | undefined {
  return scalarWrite(undefined, oldValue, newValue, error);
}

/** `{"error"?,"name"?,"newValue","oldValue"}` (keys in canonical order) for scalar values; undefined otherwise. */
function scalarWrite(name: string | undefined, oldValue: unknown, newValue: unknown, error: string | undefined): string | undefined {
  if (!isScalar(oldValue) || !isScalar(newValue)) return undefined;
  const named = name === undefined ? '' : `"name":${JSON.stringify(name)},`;
  const values = `${named}"newValue":${JSON.stringify(newValue)},"oldValue":${JSON.stringify(oldValue)}}`;
  return error === undefined ? `{${values}` : `{"error":${JSON.stringify(error)},${values}`;
}

/**
 * The canonical JSON of a bulk write's items (`canonicalJson(redact({ items }))`, each item's keys sorted: error, name,
 * newValue, oldValue), written directly for scalar values: a bulk write of 1,000 tags is not walked and copied.
 */
export function bulkWriteDetails(events: ReadonlyArray<Pick<WriteEvent, 'tag' | 'oldValue' | 'newValue' | 'ok' | 'error'>>): string {
  const parts = new Array<string>(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const oldValue = jsonSafe(e.oldValue);
    const newValue = jsonSafe(e.newValue);
    const error = e.ok ? undefined : e.error;
    const name = e.tag.def.name;
    parts[i] = scalarWrite(name, oldValue, newValue, error) ?? canonicalJson(redact({ error, name, newValue, oldValue }));
  }
  return `{"items":[${parts.join(',')}]}`;
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** 64-bit integers and dates travel as strings, as in the API; a long string only as its size and hash. */
const jsonSafe = auditValue;
