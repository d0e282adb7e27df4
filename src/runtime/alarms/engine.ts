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
import type { AckResult, AlarmDefinitionView, AlarmEventListener, AlarmLogger, AlarmStorageState, CurrentFilter } from './types.js';

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
  private readonly list = new CurrentList();
  private listeners: AlarmEventListener[] = [];
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
    const orphans = this.book.restore(alarms, await this.journal.loadOpen());
    this.list.reset(this.book.open.values());
    for (const occ of orphans) this.book.apply(occ, 'CLEAR', null, occ.value, occ.text);
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
    if (!(await this.queue.tryCommit())) {
      this.logger?.error(
        { events: this.queue.size },
        'alarm events not journaled at shutdown; conditions still true are raised again at start',
      );
    }
    this.queue.stop();
    await this.pruner?.stop();
  }

  private readonly committed = (records: AlarmEventRecord[], batch: readonly QueuedEvent[]): void => {
    for (const q of batch) this.list.committed(q.occ, q.event.closes);
    const ls = this.listeners;
    for (const r of records) {
      for (let i = 0; i < ls.length; i++) {
        try {
          ls[i]!(r);
        } catch (err) {
          this.logger?.warn({ err }, 'alarm event listener failed');
        }
      }
    }
  };

  /** Publishes committed journal events (the push hub's feed). Returns the unsubscribe function. */
  onEvent(listener: AlarmEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
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
  acknowledge(id: number, user: string): Promise<AlarmOccurrence> {
    return this.act((done) => this.respond(id, 'ACKNOWLEDGE', user, done));
  }

  /** Acknowledges many; each item succeeds or fails alone; one journal transaction for all. */
  acknowledgeMany(ids: readonly number[], user: string): Promise<AckResult[]> {
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
  reset(id: number, user: string): Promise<AlarmOccurrence> {
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
    await this.settings.store(a, { enabled, shelvedUntil: a.shelvedUntil ?? null });
    a.enabled = enabled;
    this.evaluator.reevaluate(a);
    await this.queue.tryCommit();
    return definitionView(a);
  }

  /** Shelves an alarm for a while: treated as disabled until then, then judged again. */
  async shelve(name: string, durationMs: number): Promise<AlarmDefinitionView> {
    const a = this.evaluator.requireDefined(name);
    if (!(durationMs > 0) || durationMs > SHELVE_MAX_MS) {
      throw new TagwayError('VALIDATION_FAILED', 'durationMs must be between 1 ms and 30 days', {
        errors: [{ field: 'durationMs', message: 'out of range' }],
      });
    }
    const until = this.clock.now() + durationMs;
    await this.settings.store(a, { enabled: a.enabled, shelvedUntil: until });
    this.settings.shelveUntil(a, until);
    this.evaluator.reevaluate(a);
    await this.queue.tryCommit();
    return definitionView(a);
  }

  async unshelve(name: string): Promise<AlarmDefinitionView> {
    const a = this.evaluator.requireDefined(name);
    await this.settings.store(a, { enabled: a.enabled, shelvedUntil: null });
    this.settings.unshelve(a);
    this.evaluator.reevaluate(a);
    await this.queue.tryCommit();
    return definitionView(a);
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

export { CONNECTION_LOST_PREFIX } from './alarm-runtime.js';
export type { AckResult, AlarmDefinitionView, AlarmEventListener, AlarmStorageState, CurrentFilter } from './types.js';
