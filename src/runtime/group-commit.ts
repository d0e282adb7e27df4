import type { CommitRider, DriverKeyValueStore } from '../drivers/driver.js';
import type { AuditRow, NewAuditEntry } from '../storage/audit-repository.js';
import type { KeyValueEntry, KeyValueRepository } from '../storage/key-value-repository.js';
import type { Storage } from '../storage/open.js';

type KvEntry = { key: string; value: unknown; at: number };

interface KvOp {
  namespace: string;
  entries: ReadonlyArray<KvEntry>;
  /** Audit rows committed in the same transaction as these entries or not at all (see `rider`). */
  riders: readonly AuditOp[] | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface AuditOp {
  entries: readonly NewAuditEntry[];
  resolve: (rows: AuditRow[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Why a rider's rows were not stored although its value was: storage refused the value with them but took it alone
 * (a full disk: a value updated in place needs no new page, rows do). Whoever made the rider records them its own
 * way (the audit trail queues them, and holds them while storage refuses them).
 */
export class RiderDetached extends Error {
  constructor(readonly refusal: unknown) {
    super(`the value was stored without its audit rows: ${refusal instanceof Error ? refusal.message : String(refusal)}`);
    this.name = 'RiderDetached';
  }
}

/** A rider: an AuditOp handed out opaquely, which drivers pass back to `setManyWith` untouched. */
class RiderOp implements AuditOp {
  resolve!: (rows: AuditRow[]) => void;
  reject!: (e: unknown) => void;
  readonly rows: Promise<AuditRow[]>;
  constructor(readonly entries: readonly NewAuditEntry[]) {
    this.rows = new Promise<AuditRow[]>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/**
 * Group commit of client writes: the retained values of internal tags and the audit rows that arrive while a group
 * is being committed wait, and all of them go into ONE transaction (one multi-row statement loop per table) in the
 * next turn of the event loop; the WAL is then synced off the event loop (`deferSync`), one sync for every group
 * committed meanwhile (a group of values alone skips its own: the group with their audit rows syncs for both). 50 concurrent bulk writes thus share a few commits and syncs instead of queueing for 100 of
 * them while the event loop stands still. While the storage's syncs are all busy, the next group is held back
 * uncommitted until one ends (its own sync could not start earlier), so it takes every write that arrived meanwhile.
 *
 * When each promise resolves:
 * - a value (`setMany`) once its group is COMMITTED: visible, and safe from kill -9 (the WAL frames are written);
 *   the tag engine then publishes it and its write observer queues the audit row;
 * - an audit row (`appendMany`) once its group is committed AND synced. That sync also covers every group committed
 *   before, the value's included, so a client write answered after its audit row (the tag engine awaits its write
 *   observers) is durable. Refused audit rows are reported only after the earlier groups' syncs settled, so an
 *   answer given while storage refuses the trail (the trail holds the rows) still follows the value's sync.
 * - a rider's audit rows (`rider`, passed with values to `setManyWith`: a single write's row, known before its value
 *   is stored) commit in the SAME transaction as those values, or not at all; they resolve at commit and sync. A
 *   write then takes one group and one sync instead of two groups (value, then its row) and a sync.
 */
export class GroupCommit {
  private kv: KvOp[] = [];
  private audit: AuditOp[] = [];
  private readonly contributors: Array<() => void> = [];
  private scheduled = false;
  private committing = false;
  private wanted = false;
  private forming = false;
  /** Settles once the group held back by busy WAL syncs (see `run`) has formed. */
  private held: Promise<void> | undefined;
  /** A group of values alone committed since the last sync started (it waits for the next one). */
  private valuesUnsynced = false;
  /** Settles once every group committed so far is synced (or its sync failed). */
  private synced: Promise<unknown> = Promise.resolve();
  /** Groups committed and items in them (metrics and benchmarks). */
  readonly stats = { groups: 0, values: 0, auditRows: 0, failures: 0 };

  constructor(private readonly storage: Pick<Storage, 'transaction' | 'whenSyncSlotFree'>) {}

  /** Writes key-value entries in the next group; resolves once committed (see the class comment). */
  setMany(namespace: string, entries: ReadonlyArray<KvEntry>): Promise<void> {
    return this.setManyWith(namespace, entries, undefined);
  }

  /**
   * `setMany` with riders (from `rider`): their audit rows go into the same transaction as these entries, and are
   * stored if and only if the entries are. Resolves once committed, as `setMany`; each rider's own promise resolves
   * once committed and synced, and rejects (nothing stored) when the entries are refused.
   */
  setManyWith(namespace: string, entries: ReadonlyArray<KvEntry>, riders: readonly CommitRider[] | undefined): Promise<void> {
    const ops = riders === undefined || riders.length === 0 ? undefined : riders.map(toOp);
    if (entries.length === 0 && ops === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.kv.push({ namespace, entries, riders: ops, resolve, reject });
      this.request();
    });
  }

  /**
   * Audit rows to commit together with values (`setManyWith`) rather than in a group of their own: `rows` resolves
   * with them once committed and synced, rejects when their values were refused (then nothing of them is stored).
   */
  rider(entries: readonly NewAuditEntry[]): { rider: CommitRider; rows: Promise<AuditRow[]> } {
    const op = new RiderOp(entries);
    return { rider: op as unknown as CommitRider, rows: op.rows };
  }

  /** Appends audit rows (chained in order) in the next group; resolves with them once committed and durable. */
  appendMany(entries: readonly NewAuditEntry[]): Promise<AuditRow[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise<AuditRow[]>((resolve, reject) => {
      this.audit.push({ entries, resolve, reject });
      this.request();
    });
  }

  /**
   * Called at the start of every group, synchronously: a producer that queues its own rows (the audit trail keeps
   * them in order across storage outages) hands them over here, so that they join the group being formed.
   */
  beforeEachGroup(contribute: () => void): () => void {
    this.contributors.push(contribute);
    return () => {
      const i = this.contributors.indexOf(contribute);
      if (i >= 0) this.contributors.splice(i, 1);
    };
  }

  /** Asks for a group soon (a contributor has rows): in the next turn, or right after the commit under way. */
  request(): void {
    if (this.forming) return;
    this.wanted = true;
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    // setImmediate, not a microtask: the writes parsed in this turn of the event loop, and the audit rows of the
    // values the previous group just committed, all join this group.
    setImmediate(this.run);
  }

  /** Commits what is queued and waits until it is committed and synced (shutdown, before storage closes). */
  async drain(): Promise<void> {
    // Bounded: a producer that keeps writing during shutdown cannot hold it up for ever.
    for (let i = 0; i < 1000 && (this.scheduled || this.committing || this.kv.length > 0 || this.audit.length > 0); i++) {
      if (!this.scheduled && !this.committing) this.request();
      await (this.held ?? new Promise<void>((resolve) => setImmediate(resolve)));
    }
    await this.syncNow();
    await this.synced;
  }

  /** A key-value repository whose writes go through this group commit; reads pass straight to `base`. */
  keyValues(base: KeyValueRepository): KeyValueRepository & Required<Pick<DriverKeyValueStore, 'setManyWith'>> {
    return {
      get: (namespace: string, key: string): Promise<KeyValueEntry | undefined> => base.get(namespace, key),
      list: (namespace: string): Promise<KeyValueEntry[]> => base.list(namespace),
      delete: (namespace: string, key: string): Promise<boolean> => base.delete(namespace, key),
      set: (namespace: string, key: string, value: unknown, at: number): Promise<void> => this.setMany(namespace, [{ key, value, at }]),
      setMany: (namespace, entries) => this.setMany(namespace, entries),
      setManyWith: (namespace, entries, riders) => this.setManyWith(namespace, entries, riders),
    };
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.committing) return;
    // Both WAL syncs busy: a group committed now would have its sync wait for one of them to end anyway. Held back
    // until then, it gathers the writes that arrive meanwhile: fewer, larger commits (the WAL frames of a commit cost
    // the event loop more than the rows in them), answered no later. Its values become visible that much later.
    const held = this.storage.whenSyncSlotFree?.();
    if (held !== undefined) {
      this.scheduled = true;
      this.held = held.then(() => {
        this.held = undefined;
        setImmediate(this.run);
      });
      return;
    }
    this.wanted = false;
    this.forming = true;
    try {
      for (const c of this.contributors) c();
    } finally {
      this.forming = false;
    }
    const kv = this.kv;
    const audit = this.audit;
    if (kv.length === 0 && audit.length === 0) return;
    this.kv = [];
    this.audit = [];
    this.committing = true;
    void this.commit(kv, audit).finally(() => this.committed());
  };

  /** The commit under way is done (its sync may still run): the next group may form. */
  private committed(): void {
    if (!this.committing) return;
    this.committing = false;
    if (this.wanted || this.kv.length > 0 || this.audit.length > 0) this.request();
  }

  private async commit(kv: KvOp[], queued: AuditOp[]): Promise<void> {
    // The trail's queued rows first (they were recorded before), then the riders, in the order of their values.
    let audit = queued;
    for (const op of kv) {
      if (op.riders === undefined) continue;
      if (audit === queued) audit = [...queued];
      audit.push(...op.riders);
    }
    const entries = audit.length === 1 ? audit[0]!.entries : audit.flatMap((a) => a.entries);
    let isCommitted = false;
    const onCommit = (): void => {
      if (isCommitted) return;
      isCommitted = true;
      // A syncing group's sync starts right after its commit and covers the values committed before it.
      this.valuesUnsynced = audit.length === 0;
      this.stats.groups++;
      for (const op of kv) {
        this.stats.values += op.entries.length;
        op.resolve();
      }
      this.committed();
    };
    const syncedBefore = this.synced;
    const tx = this.storage.transaction(
      async (t) => {
        for (const [namespace, list] of byNamespace(kv)) await t.keyValues.setMany(namespace, list);
        return entries.length === 0 ? [] : t.audit.appendMany(entries);
      },
      {
        deferSync: true,
        // A group of values only: nobody waits for its sync; the group with their audit rows, next, syncs for both.
        syncLater: audit.length === 0,
        onCommit,
      },
    );
    this.synced = Promise.allSettled([syncedBefore, tx]);
    let rows: AuditRow[];
    try {
      rows = await tx;
    } catch (err) {
      this.stats.failures++;
      if (isCommitted) {
        // Committed, but the sync failed (an I/O error): the rows are in the database, their durability unknown.
        for (const op of audit) op.reject(err);
        return;
      }
      if (kv.length + queued.length === 1 && kv[0]?.riders === undefined) {
        for (const op of kv) op.reject(err);
        await this.rejectAudit(queued, err, syncedBefore);
        return;
      }
      // One part's refusal must not take the others with it (a value that cannot be stored, audit rows refused by a
      // full disk while a value still fits): commit them apart, as they were before grouping.
      await this.commitApart(kv, queued, syncedBefore);
      return;
    }
    // A backend that does not call onCommit has committed by the time the unit resolves.
    onCommit();
    this.stats.auditRows += rows.length;
    resolveOps(audit, rows);
  }

  private async commitApart(kv: KvOp[], audit: AuditOp[], syncedBefore: Promise<unknown>): Promise<void> {
    const syncs: Array<Promise<unknown>> = [syncedBefore];
    for (const op of kv) {
      const riders = op.riders ?? [];
      // Each value with its riders' rows, all or none: a row never outlives the value it reports.
      const err = riders.length === 0 ? undefined : await this.commitOne(op, riders, syncs);
      if (riders.length > 0 && err === undefined) continue;
      // The value alone, as before grouping: a full disk may still take a value updated in place, not new rows. Its
      // riders' owners then record the rows their own way (the audit trail holds them while storage refuses them).
      const errAlone = await this.commitOne(op, [], syncs);
      if (errAlone !== undefined) op.reject(errAlone);
      for (const r of riders) r.reject(errAlone === undefined ? new RiderDetached(err) : errAlone);
    }
    // In arrival order: the audit trail has one append in flight at a time, so the chain keeps the order of events.
    for (const op of audit) {
      try {
        op.resolve(await this.storage.transaction((t) => t.audit.appendMany(op.entries), { deferSync: true }));
      } catch (err) {
        await this.rejectAudit([op], err, Promise.allSettled(syncs));
      }
    }
  }

  /**
   * Commits one value op (with these riders' rows) in a transaction of its own; undefined once done, else why it was
   * refused (nothing of it stored; the op is then still to settle).
   */
  private async commitOne(op: KvOp, riders: readonly AuditOp[], syncs: Array<Promise<unknown>>): Promise<unknown> {
    let committed = false;
    const rows = riders.length === 0 ? [] : riders.length === 1 ? riders[0]!.entries : riders.flatMap((r) => r.entries);
    const tx = this.storage.transaction(
      async (t) => {
        await t.keyValues.setMany(op.namespace, op.entries);
        return rows.length === 0 ? [] : t.audit.appendMany(rows);
      },
      {
        deferSync: true,
        syncLater: rows.length === 0,
        onCommit: () => {
          committed = true;
          if (rows.length === 0) this.valuesUnsynced = true;
          op.resolve();
        },
      },
    );
    syncs.push(tx.catch(() => undefined));
    try {
      const stored = await tx;
      // Resolving twice is harmless: for a backend that does not call onCommit.
      op.resolve();
      this.stats.auditRows += stored.length;
      resolveOps(riders, stored);
      return undefined;
    } catch (err) {
      if (!committed) return err;
      // Committed, but the sync failed: the rows are in the database, their durability unknown.
      for (const r of riders) r.reject(err);
      return undefined;
    }
  }

  /** Refused rows are reported once the values committed before them are synced (see the class comment). */
  private async rejectAudit(audit: readonly AuditOp[], err: unknown, syncedBefore: Promise<unknown>): Promise<void> {
    if (audit.length === 0) return;
    await syncedBefore;
    if (this.valuesUnsynced) await this.syncNow();
    for (const op of audit) op.reject(err);
  }

  /** Syncs everything committed so far (groups of values alone commit without a sync of their own). */
  private syncNow(): Promise<unknown> {
    this.valuesUnsynced = false;
    const p = this.storage.transaction(() => Promise.resolve(), { deferSync: true }).catch(() => undefined);
    this.synced = Promise.allSettled([this.synced, p]);
    return p;
  }
}

/** Hands each op its own rows out of one append of all their entries, in order. */
function resolveOps(ops: readonly AuditOp[], rows: AuditRow[]): void {
  let at = 0;
  for (const op of ops) {
    op.resolve(ops.length === 1 ? rows : rows.slice(at, at + op.entries.length));
    at += op.entries.length;
  }
}

function toOp(rider: CommitRider): AuditOp {
  if (!(rider instanceof RiderOp)) throw new TypeError('not a rider made by GroupCommit.rider');
  return rider;
}

/**
 * The ops' entries per namespace, one per key: a group holds only the end state, the key's last write (the same
 * rows as writing them all in order, without rewriting a setpoint 50 times when 50 clients write it in one group).
 */
function byNamespace(kv: readonly KvOp[]): Map<string, KvEntry[]> {
  const out = new Map<string, Map<string, KvEntry>>();
  for (const op of kv) {
    let keys = out.get(op.namespace);
    if (keys === undefined) out.set(op.namespace, (keys = new Map()));
    for (const e of op.entries) keys.set(e.key, e);
  }
  return new Map([...out].map(([ns, keys]) => [ns, [...keys.values()]]));
}
