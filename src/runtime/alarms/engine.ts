import { mergeClasses, type AlarmClass, type AlarmDefinition } from '../../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../../domain/alarms/records.js';
import type { Clock } from '../../domain/clock.js';
import { TagwayError } from '../../domain/problems.js';
import type { TagValue } from '../../domain/tag-types.js';
import type { AlarmJournalRepository, AlarmSettingsRepository, ArchivePage, ArchiveQuery } from '../../storage/alarm-journal-repository.js';
import type { TagEngine } from '../tag-engine.js';
import { definitionView, textIn } from './alarm-runtime.js';
import { filteredArchivePage } from './archive-page.js';
import { CommitQueue, type QueuedEvent } from './commit-queue.js';
import { CurrentList } from './current-list.js';
import { AlarmEvaluator } from './evaluator.js';
import { occurrenceView } from './occurrence.js';
import { OccurrenceBook, type OccurrenceSnapshot } from './occurrence-book.js';
import { AlarmJournalPruner } from './pruner.js';
import { AlarmSettings } from './settings.js';
import type {
  AckResult,
  AlarmAction,
  AlarmChange,
  AlarmDefinitionView,
  AlarmEventListener,
  AlarmLogger,
  AlarmPeer,
  AlarmSettingChange,
  AlarmStorageState,
  CurrentFilter,
} from './types.js';
import type { AlarmRuntime } from './alarm-runtime.js';
import type { OpenOccurrenceHistory } from '../../storage/alarm-journal-repository.js';

/** What one operator action changed: its queued events and how to put its occurrences back. */
interface ActionLog {
  events: QueuedEvent[];
  undo: OccurrenceSnapshot[];
  /** The action was rolled back (its commit, or a commit that took its events, was refused). */
  undone: boolean;
}

export interface AlarmEngineOptions {
  tags: TagEngine;
  journal: AlarmJournalRepository;
  /** Where operator overrides (disabled, shelved) are kept across restarts. */
  settings: AlarmSettingsRepository;
  clock: Clock;
  definitions: readonly AlarmDefinition[];
  /** Project classes; merged over the built-in Alarm, Fault, Warning and System. */
  classes?: readonly AlarmClass[] | undefined;
  /** Journal retention; when set, a background job prunes older events. */
  retentionDays?: number | undefined;
  /** Pause between retries while the journal refuses commits (default 250 ms). */
  retryMs?: number | undefined;
  /** Events held in memory while the journal refuses commits before clears are held back (default 10,000). */
  maxPendingEvents?: number | undefined;
  logger?: AlarmLogger | undefined;
}

const SHELVE_MAX_MS = 30 * 86_400_000;
/** Refusals of a forwarded bulk acknowledgement that fail only that owner's items. */
const REMOTE_ITEM_CODES = new Set<string>(['DEVICE_UNAVAILABLE', 'DEVICE_TIMEOUT', 'STORAGE_UNAVAILABLE']);

/**
 * Evaluates alarm conditions on every tag change, runs each occurrence through its class's state machine, and
 * journals every state change before anyone hears of it.
 *
 * Journal first, in groups: transitions apply in memory at once (later evaluations in the same burst build on
 * them), their events queue, and one transaction commits the queue at the end of the current synchronous burst
 * (a microtask) or at once when an operator acts, since the API answers only after the commit. Readers (the
 * current list) and listeners see a change only after its commit. When the journal refuses (a full disk),
 * evaluation goes on in memory and the queued events commit, with their original times, when it takes writes
 * again (see CommitQueue); an operator action is then refused with STORAGE_UNAVAILABLE and leaves no trace.
 */
export class AlarmEngine {
  private readonly tags: TagEngine;
  private readonly journal: AlarmJournalRepository;
  private readonly clock: Clock;
  private readonly classes: Map<string, AlarmClass>;
  private readonly queue: CommitQueue;
  private readonly book: OccurrenceBook;
  private readonly evaluator: AlarmEvaluator;
  private readonly settings: AlarmSettings;
  private readonly settingsRepo: AlarmSettingsRepository;
  private readonly list = new CurrentList();
  private listeners: AlarmEventListener[] = [];
  /** Listeners of this node's own commits only (the audit trail: another node's events are audited there). */
  private localListeners: AlarmEventListener[] = [];
  /** The cluster this node is a member of, or undefined (a single node). */
  private peer: AlarmPeer | undefined;
  private unsubscribe: (() => void) | undefined;
  private pruner: AlarmJournalPruner | undefined;
  private readonly logger: AlarmLogger | undefined;

  constructor(opts: AlarmEngineOptions) {
    this.tags = opts.tags;
    this.journal = opts.journal;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.classes = new Map(mergeClasses(opts.classes).map((c) => [c.name, c]));
    this.queue = new CommitQueue({
      journal: this.journal,
      clock: this.clock,
      retryMs: opts.retryMs,
      maxPending: opts.maxPendingEvents,
      committed: this.committed,
      recovered: () => this.evaluator.resettle(),
      logger: this.logger,
    });
    this.book = new OccurrenceBook(this.journal, this.queue, this.clock, this.classes);
    this.evaluator = new AlarmEvaluator(this.tags, this.clock, this.book, () => this.queue.full, this.classes, opts.definitions);
    this.settingsRepo = opts.settings;
    this.settings = new AlarmSettings(
      opts.settings,
      this.clock,
      (a) => {
        this.evaluator.reevaluate(a);
        void this.queue.tryCommit();
      },
      this.logger,
    );
    if (opts.retentionDays !== undefined) {
      this.pruner = new AlarmJournalPruner(this.journal, this.clock, {
        retentionDays: opts.retentionDays,
        onError: (err) => this.logger?.error({ err }, 'alarm journal pruning failed'),
      });
    }
  }

  /** Evaluations performed (for metrics and the benchmark). */
  get evaluations(): number {
    return this.evaluator.evaluations;
  }

  /**
   * Rebuilds the current list from the journal (original times), subscribes to tag changes and evaluates every
   * alarm whose tag already has a usable value (a condition that went away while the server was down clears).
   */
  async start(): Promise<void> {
    const alarms = this.evaluator.alarms;
    const histories = await this.journal.loadOpen();
    const orphans = this.book.restore(alarms, histories);
    this.list.reset(this.book.open.values(), lastEventIds(histories));
    const peer = this.peer;
    if (peer) {
      // A cluster member starts owning nothing: every node lists every open occurrence (read from the shared
      // journal), and evaluates a connection's alarms only once it holds its lease (`adopt`). Orphans are cleared
      // by the owner of their home connection.
      this.evaluator.disown(alarms.values());
      this.book.forget(() => true);
    } else for (const occ of orphans) this.book.apply(occ, 'CLEAR', null, occ.value, occ.text);
    await this.settings.restore(alarms);
    this.unsubscribe = this.tags.onChange(this.evaluator.onTagChange);
    this.evaluator.evaluateAll();
    // A journal that refuses at start-up is retried like any other time; the server still starts.
    await this.queue.tryCommit();
    this.pruner?.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.evaluator.stopTimers();
    this.settings.stopTimers(this.evaluator.alarms.values());
    // A fenced commit leaves nothing queued (those events were the new owner's): only what still waits is lost.
    if (!(await this.queue.tryCommit()) && this.queue.size > 0) {
      this.logger?.error(
        { events: this.queue.size },
        'alarm events not journaled at shutdown; conditions still true are raised again at start',
      );
    }
    this.queue.stop();
    await this.pruner?.stop();
  }

  private readonly committed = (records: AlarmEventRecord[], batch: readonly QueuedEvent[]): void => {
    for (let i = 0; i < batch.length; i++) this.list.committed(batch[i]!.occ, batch[i]!.event.closes, records[i]?.eventId);
    if (this.peer) this.announce(records, batch);
    this.notify(this.localListeners, records);
    this.notify(this.listeners, records);
  };

  private notify(ls: readonly AlarmEventListener[], records: readonly AlarmEventRecord[]): void {
    for (const r of records) {
      for (let i = 0; i < ls.length; i++) {
        try {
          ls[i]!(r);
        } catch (err) {
          this.logger?.warn({ err }, 'alarm event listener failed');
        }
      }
    }
  }

  /** Tells the cluster what this node journaled, one message per home connection (each carries its lease token). */
  private announce(records: readonly AlarmEventRecord[], batch: readonly QueuedEvent[]): void {
    const peer = this.peer!;
    const by = new Map<string, { changes: AlarmChange[]; records: AlarmEventRecord[] }>();
    for (let i = 0; i < batch.length; i++) {
      const q = batch[i]!;
      const r = records[i];
      if (!r) continue;
      const c = this.homeOf(q.occ.alarm);
      let g = by.get(c);
      if (!g) by.set(c, (g = { changes: [], records: [] }));
      g.changes.push({ id: q.occ.id, eventId: r.eventId, view: q.event.closes ? null : occurrenceView(q.occ) });
      g.records.push(r);
    }
    for (const [c, g] of by) peer.committed(c, g.changes, g.records);
  }

  /**
   * Publishes committed journal events: this node's, and in a cluster the other nodes' too (the push hub's
   * feed, so that every node's channels show every alarm). Returns the unsubscribe function.
   */
  onEvent(listener: AlarmEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Publishes the events this node journaled itself (once in a cluster: the audit trail). Returns the unsubscribe. */
  onLocalEvent(listener: AlarmEventListener): () => void {
    this.localListeners.push(listener);
    return () => {
      this.localListeners = this.localListeners.filter((l) => l !== listener);
    };
  }

  /** Committed events after `eventId`, ascending, at most `limit` (SSE Last-Event-ID resumption). */
  eventsSince(eventId: number, limit = 1000): Promise<AlarmEventRecord[]> {
    return this.journal.since(eventId, limit);
  }

  /** Commits queued events now, then tells listeners. STORAGE_UNAVAILABLE if the journal refused (they stay queued). */
  flush(): Promise<void> {
    return this.queue.commit();
  }

  /** Whether the journal takes writes (for /health): `degraded` with the reason while it refuses. */
  storageState(): AlarmStorageState {
    return this.queue.state();
  }

  // ---- operator actions --------------------------------------------------------------------------------------

  /**
   * Acknowledges one occurrence. One that needs none, or is acknowledged already, or is closed, is answered with
   * its state and writes nothing. Unknown id → NOT_FOUND.
   */
  async acknowledge(id: number, user: string): Promise<AlarmOccurrence> {
    const remote = await this.remoteHome(id);
    if (remote !== undefined) return (await this.peer!.forward(remote, { op: 'acknowledge', id, user })) as AlarmOccurrence;
    return this.act((done) => this.respond(id, 'ACKNOWLEDGE', user, done));
  }

  /**
   * Acknowledges many; each item succeeds or fails alone; one journal transaction for all (in a cluster, one per
   * owning node).
   */
  async acknowledgeMany(ids: readonly number[], user: string): Promise<AckResult[]> {
    if (!this.peer) return this.acknowledgeLocal(ids, user);
    const groups = new Map<string | undefined, number[]>();
    for (let i = 0; i < ids.length; i++) {
      const c = await this.remoteHome(ids[i]!);
      const g = groups.get(c);
      if (g) g.push(i);
      else groups.set(c, [i]);
    }
    const out: AckResult[] = new Array(ids.length);
    await Promise.all(
      [...groups].map(async ([c, at]) => {
        const part = at.map((i) => ids[i]!);
        let done: AckResult[];
        if (c === undefined) done = await this.acknowledgeLocal(part, user);
        else {
          try {
            done = (await this.peer!.forward(c, { op: 'acknowledgeMany', ids: part, user })) as AckResult[];
          } catch (err) {
            // One unreachable owner fails its own items, not those other nodes (or this one) did already.
            if (!(err instanceof TagwayError) || !REMOTE_ITEM_CODES.has(err.code)) throw err;
            const error = { code: err.code as 'DEVICE_UNAVAILABLE', message: err.message };
            done = part.map((id) => ({ id, error }));
          }
        }
        done.forEach((d, k) => (out[at[k]!] = d));
      }),
    );
    return out;
  }

  private acknowledgeLocal(ids: readonly number[], user: string): Promise<AckResult[]> {
    return this.act(async (done) => {
      const out: AckResult[] = [];
      for (const id of ids) {
        try {
          out.push({ id, state: (await this.respond(id, 'ACKNOWLEDGE', user, done)).state });
        } catch (err) {
          if (err instanceof TagwayError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_STATE'))
            out.push({ id, error: { code: err.code, message: err.message } });
          else throw err;
        }
      }
      return out;
    });
  }

  /** Resets an occurrence of a class that needs a reset, once cleared and acknowledged; otherwise INVALID_STATE. */
  async reset(id: number, user: string): Promise<AlarmOccurrence> {
    const remote = await this.remoteHome(id);
    if (remote !== undefined) return (await this.peer!.forward(remote, { op: 'reset', id, user })) as AlarmOccurrence;
    return this.act((done) => this.respond(id, 'RESET', user, done));
  }

  /**
   * Runs operator responses so that they are answered only once committed, and leave no trace when the journal
   * refuses: earlier events commit first (STORAGE_UNAVAILABLE if they cannot), and if the responses' own commit
   * fails their events are dropped from the queue and the occurrences put back. The journal is asynchronous, so
   * the action's own events are tracked one by one (others may queue between them) and dropped in the refused
   * commit itself, before any later commit could take them.
   */
  private async act<T>(fn: (done: ActionLog) => Promise<T>): Promise<T> {
    await this.queue.commit();
    const done: ActionLog = { events: [], undo: [], undone: false };
    const rollback = () => {
      if (done.undone) return;
      done.undone = true;
      this.queue.remove(done.events);
      for (const s of done.undo.reverse()) this.book.undo(s);
    };
    const unguard = this.queue.guard(rollback);
    try {
      const out = await fn(done);
      await this.queue.commit();
      // Undone by a burst's refused commit that took these events before the action's own commit succeeded.
      if (done.undone) throw this.queue.unavailable();
      return out;
    } catch (err) {
      rollback();
      throw err;
    } finally {
      unguard();
    }
  }

  private async respond(id: number, input: 'ACKNOWLEDGE' | 'RESET', user: string, done: ActionLog): Promise<AlarmOccurrence> {
    const occ = this.book.open.get(id);
    if (!occ) {
      const past = await this.book.closed(id);
      if (!past) throw new TagwayError('NOT_FOUND', `No alarm occurrence ${id}`);
      if (input === 'RESET') throw new TagwayError('INVALID_STATE', `Alarm occurrence ${id} is closed; no reset is due`);
      return past;
    }
    const snap = this.book.snapshot(occ);
    const before = this.queue.size;
    const t = this.book.apply(occ, input, user);
    if (t.kind === 'invalid') throw new TagwayError('INVALID_STATE', `Alarm occurrence ${id}: ${t.reason}`);
    if (t.kind === 'event') {
      done.undo.push(snap);
      done.events.push(...this.queue.queuedSince(before));
    }
    return occurrenceView(occ);
  }

  /**
   * Enables or disables an alarm; a disabled alarm's active occurrence clears at once. The setting is stored
   * first (STORAGE_UNAVAILABLE and nothing changed if it cannot be); the resulting events commit like any others.
   */
  async setEnabled(name: string, enabled: boolean): Promise<AlarmDefinitionView> {
    const a = this.evaluator.requireDefined(name);
    const remote = this.remoteAlarm(a);
    if (remote !== undefined) return this.forwardSetting(a, remote, { op: 'setEnabled', name, enabled });
    await this.settings.store(a, { enabled, shelvedUntil: a.shelvedUntil ?? null });
    a.enabled = enabled;
    return this.settled(a);
  }

  /** Shelves an alarm for a while: treated as disabled until then, then judged again. */
  async shelve(name: string, durationMs: number): Promise<AlarmDefinitionView> {
    const a = this.evaluator.requireDefined(name);
    if (!(durationMs > 0) || durationMs > SHELVE_MAX_MS) {
      throw new TagwayError('VALIDATION_FAILED', 'durationMs must be between 1 ms and 30 days', {
        errors: [{ field: 'durationMs', message: 'out of range' }],
      });
    }
    const remote = this.remoteAlarm(a);
    if (remote !== undefined) return this.forwardSetting(a, remote, { op: 'shelve', name, durationMs });
    const until = this.clock.now() + durationMs;
    await this.settings.store(a, { enabled: a.enabled, shelvedUntil: until });
    this.settings.shelveUntil(a, until);
    return this.settled(a);
  }

  async unshelve(name: string): Promise<AlarmDefinitionView> {
    const a = this.evaluator.requireDefined(name);
    const remote = this.remoteAlarm(a);
    if (remote !== undefined) return this.forwardSetting(a, remote, { op: 'unshelve', name });
    await this.settings.store(a, { enabled: a.enabled, shelvedUntil: null });
    this.settings.unshelve(a);
    return this.settled(a);
  }

  /** After a stored override: judge the alarm again, commit, and tell the other nodes (cluster). */
  private async settled(a: AlarmRuntime): Promise<AlarmDefinitionView> {
    this.evaluator.reevaluate(a);
    await this.queue.tryCommit();
    this.peer?.settingChanged(this.homeOf(a.name), { name: a.name, enabled: a.enabled, shelvedUntil: a.shelvedUntil ?? null });
    return definitionView(a);
  }

  private async forwardSetting(a: AlarmRuntime, connection: string, action: AlarmAction): Promise<AlarmDefinitionView> {
    const v = (await this.peer!.forward(connection, action)) as AlarmDefinitionView;
    // The owner's announcement normally came first; the answer settles this node's view in any case.
    this.applySetting({ name: a.name, enabled: v.enabled, shelvedUntil: v.shelvedUntil === undefined ? null : Date.parse(v.shelvedUntil) });
    return v;
  }

  // ---- cluster (see AlarmPeer and src/cluster/alarms.ts) ----------------------------------------------------

  /** Makes this engine a cluster member; call before `start`. */
  joinCluster(peer: AlarmPeer): void {
    this.peer = peer;
    // Fencing at the journal: a commit proves, in its transaction, the leases its events were evaluated under.
    if (this.journal.fencing)
      this.queue.fenceWith({
        holder: peer.holder,
        leaseOf: (e) => {
          const connection = this.homeOf(e.alarm);
          // 0 is no token a lease ever has (the first is 1): an event of a connection not held is refused.
          return { connection, token: peer.leaseToken(connection) ?? 0 };
        },
        fenced: (refused, dropped) => peer.fenced(refused, dropped.length),
      });
  }

  /** The home connection of an alarm (by name; alarms no longer in the project have one too). */
  private homeOf(alarm: string): string {
    return this.peer!.home(this.evaluator.alarms.get(alarm)?.connection);
  }

  private remoteAlarm(a: AlarmRuntime): string | undefined {
    const peer = this.peer;
    if (!peer) return undefined;
    const c = peer.home(a.connection);
    return peer.owns(c) ? undefined : c;
  }

  /** The home connection of an occurrence another node owns, or undefined (local, or unknown: answered here). */
  private async remoteHome(id: number): Promise<string | undefined> {
    const peer = this.peer;
    if (!peer) return undefined;
    // Not listed yet (its raise is on the way) or closed: the journal knows its alarm.
    const occ = this.list.get(id) ?? (await this.book.closed(id));
    if (!occ) return undefined;
    const c = this.homeOf(occ.alarm);
    return peer.owns(c) ? undefined : c;
  }

  /**
   * Does an action another node forwarded (this node owns the alarm's connection), answered after its commit.
   * DEVICE_UNAVAILABLE when this node no longer owns it (the lease moved meanwhile).
   */
  perform(action: AlarmAction): Promise<unknown> {
    const peer = this.peer;
    const mine = (alarm: string | undefined): void => {
      if (peer && alarm !== undefined && !peer.owns(this.homeOf(alarm)))
        throw new TagwayError('DEVICE_UNAVAILABLE', `This node no longer evaluates alarm '${alarm}'`);
    };
    const guardOcc = async (id: number): Promise<void> => mine((this.list.get(id) ?? (await this.book.closed(id)))?.alarm);
    switch (action.op) {
      case 'acknowledge':
        return guardOcc(action.id).then(() => this.act((done) => this.respond(action.id, 'ACKNOWLEDGE', action.user, done)));
      case 'reset':
        return guardOcc(action.id).then(() => this.act((done) => this.respond(action.id, 'RESET', action.user, done)));
      case 'acknowledgeMany':
        return Promise.all(action.ids.map(guardOcc)).then(() => this.acknowledgeLocal(action.ids, action.user));
      case 'setEnabled':
        mine(action.name);
        return this.setEnabled(action.name, action.enabled);
      case 'shelve':
        mine(action.name);
        return this.shelve(action.name, action.durationMs);
      case 'unshelve':
        mine(action.name);
        return this.unshelve(action.name);
    }
  }

  /**
   * This node took the lease of `connection`: rebuilds its alarms' open occurrences from the shared journal
   * (original times; an active one stays the same occurrence, so no second RAISED), re-reads their overrides,
   * then judges them on the values now and commits. Orphans of the home connection are cleared here.
   */
  async adopt(connection: string, stillMine: () => boolean = () => true): Promise<void> {
    const peer = this.peer!;
    await this.queue.tryCommit();
    const [histories, stored] = await Promise.all([this.journal.loadOpen(), this.settingsRepo.load()]);
    // The lease may have gone again while the journal was read.
    if (!stillMine()) return;
    const mine = histories.filter((h) => h.events[0] !== undefined && this.homeOf(h.events[0].alarm) === connection);
    const alarms = [...this.evaluator.alarms.values()].filter((a) => peer.home(a.connection) === connection);
    const byName = new Map(alarms.map((a) => [a.name, a]));
    this.evaluator.disown(alarms);
    this.book.forget((occ) => this.homeOf(occ.alarm) === connection);
    const orphans = this.book.add(byName, mine);
    const ids = new Set(mine.map((h) => h.events[0]!.id));
    const eventIds = lastEventIds(mine);
    this.list.replace(
      (o) => this.homeOf(o.alarm) === connection,
      [...this.book.open.values()].filter((o) => ids.has(o.id)).map((o) => [occurrenceView(o), eventIds.get(o.id)] as const),
    );
    for (const a of alarms) {
      const st = stored.get(a.name);
      if (!a.def || !st) continue;
      this.applySetting({ name: a.name, enabled: st.enabled, shelvedUntil: st.shelvedUntil });
    }
    this.evaluator.own(alarms);
    for (const occ of orphans) this.book.apply(occ, 'CLEAR', null, occ.value, occ.text);
    await this.queue.tryCommit();
  }

  /** Another node took the lease of `connection`: stop judging its alarms (their list entries stay, updated by it). */
  release(connection: string): void {
    const peer = this.peer!;
    this.evaluator.disown([...this.evaluator.alarms.values()].filter((a) => peer.home(a.connection) === connection));
    this.book.forget((occ) => this.homeOf(occ.alarm) === connection);
  }

  /** Changes another node committed: applied to the current list and told to the push channels (not audited here). */
  applyRemote(changes: readonly AlarmChange[], records: readonly AlarmEventRecord[]): void {
    const fresh: AlarmEventRecord[] = [];
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      if (this.list.applyRemote(c.id, c.eventId, c.view) && records[i]) fresh.push(records[i]!);
    }
    this.notify(this.listeners, fresh);
  }

  /** An owner's whole list for `connection` (after its takeover, or asked for): replaces this node's. */
  replaceRemote(connection: string, items: ReadonlyArray<readonly [AlarmOccurrence, number | undefined]>): void {
    this.list.replace((o) => this.homeOf(o.alarm) === connection, items);
  }

  /** This node's list for `connection`, with the event id of each item's last change. */
  snapshotOf(connection: string): Array<[AlarmOccurrence, number | undefined]> {
    return this.list.entries((o) => this.homeOf(o.alarm) === connection);
  }

  /** An override another node stored (or this node read back): the definition shows it here too. */
  applySetting(change: AlarmSettingChange): void {
    const a = this.evaluator.alarms.get(change.name);
    if (!a?.def) return;
    a.enabled = change.enabled;
    if (change.shelvedUntil !== null && change.shelvedUntil > this.clock.now()) {
      if (a.shelvedUntil !== change.shelvedUntil) this.settings.shelveUntil(a, change.shelvedUntil);
    } else if (a.shelvedUntil !== undefined) this.settings.unshelve(a);
  }

  // ---- reads (committed state only) --------------------------------------------------------------------------

  /** Every occurrence still active or waiting for a response, newest first. */
  async current(filter: CurrentFilter = {}): Promise<AlarmOccurrence[]> {
    // A burst still queued commits first (a no-op while the journal refuses: the retry timer owns that).
    await this.queue.commitIfIdle();
    return this.list.list(filter);
  }

  /** The committed current list as it is now, without waiting for a queued burst (metrics). */
  currentNow(filter: CurrentFilter = {}): AlarmOccurrence[] {
    return this.list.list(filter);
  }

  /** One occurrence of the current list, or undefined. */
  async occurrence(id: number): Promise<AlarmOccurrence | undefined> {
    await this.queue.commitIfIdle();
    return this.list.get(id);
  }

  /** An occurrence by id, open or closed (from the journal), as committed; undefined when unknown. */
  async lookup(id: number): Promise<AlarmOccurrence | undefined> {
    return (await this.occurrence(id)) ?? (await this.book.closed(id));
  }

  /**
   * The text of an alarm in another language, rendered with the given value; undefined when the alarm has no
   * text in that language (the caller keeps the journal text). `lang` may be `de-AT`: `de` is tried next.
   */
  textIn(alarm: string, lang: string, value: TagValue | null): string | undefined {
    const a = this.evaluator.alarms.get(alarm);
    return a ? textIn(a, lang, value) : undefined;
  }

  definitions(): AlarmDefinitionView[] {
    const out: AlarmDefinitionView[] = [];
    for (const a of this.evaluator.alarms.values()) if (a.def) out.push(definitionView(a));
    return out;
  }

  definition(name: string): AlarmDefinitionView {
    return definitionView(this.evaluator.requireDefined(name));
  }

  classList(): AlarmClass[] {
    return [...this.classes.values()];
  }

  /** The journal, for archive queries (the engine is its only writer). */
  get archive(): AlarmJournalRepository {
    return this.journal;
  }

  /**
   * One archive page; with `visible`, only of the events it admits (pages stay full, see filteredArchivePage).
   */
  archivePage(query: ArchiveQuery, visible?: (e: AlarmEventRecord) => boolean): Promise<ArchivePage> {
    return visible ? filteredArchivePage(this.journal, query, visible) : this.journal.query(query);
  }
}

function lastEventIds(histories: readonly OpenOccurrenceHistory[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const h of histories) {
    const last = h.events[h.events.length - 1];
    if (last) out.set(last.id, last.eventId);
  }
  return out;
}

export { CONNECTION_LOST_PREFIX } from './alarm-runtime.js';
export type {
  AckResult,
  AlarmAction,
  AlarmChange,
  AlarmDefinitionView,
  AlarmEventListener,
  AlarmPeer,
  AlarmSettingChange,
  AlarmStorageState,
  CurrentFilter,
} from './types.js';
