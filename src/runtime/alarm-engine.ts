import { compileCondition, type Condition } from '../domain/alarms/condition.js';
import { mergeClasses, type AlarmClass, type AlarmDefinition, type StateMachine } from '../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../domain/alarms/records.js';
import { formatText } from '../domain/alarms/text.js';
import { transition, type AlarmInput, type AlarmState, type Transition } from '../domain/alarms/state-machine.js';
import { compileGlob } from '../domain/glob.js';
import { TagwayError } from '../domain/problems.js';
import { Quality } from '../domain/quality.js';
import type { TagValue } from '../domain/tag-types.js';
import type {
  AlarmJournalRepository,
  AlarmSettingsRepository,
  NewAlarmEvent,
  OpenOccurrenceHistory,
} from '../storage/alarm-journal-repository.js';
import { occurrenceFromEvents, occurrenceView, type Occurrence } from './alarms/occurrence.js';
import { AlarmJournalPruner } from './alarms/pruner.js';
import type { Clock } from '../domain/clock.js';
import type { TagChange, TagEngine, TagState } from './tag-engine.js';

/** Prefix of the generated per-connection alarms (project alarms may not use it; see project/schema/alarms.ts). */
export const CONNECTION_LOST_PREFIX = 'System.ConnectionLost.';
const SYSTEM_CLASS = 'System';
const SYSTEM_PRIORITY = 16;

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
  logger?: { error(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void } | undefined;
}

export interface CurrentFilter {
  class?: string | undefined;
  minPriority?: number | undefined;
  maxPriority?: number | undefined;
  tag?: string | undefined;
  /** Alarm name or glob. */
  alarm?: string | undefined;
  state?: AlarmState | readonly AlarmState[] | undefined;
}

/** An alarm definition as `GET /alarms/definitions` shows it (fields that do not apply are omitted). */
export interface AlarmDefinitionView {
  name: string;
  number: number;
  class: string;
  priority: number;
  tag: string;
  kind: 'discrete' | 'analog';
  bit?: number;
  limit?: { type: string; value: number };
  hysteresis?: number;
  onDelayMs?: number;
  offDelayMs?: number;
  text: string;
  texts?: Record<string, string>;
  enabled: boolean;
  shelvedUntil?: string;
}

export type AckResult = { id: number; state: AlarmState } | { id: number; error: { code: 'NOT_FOUND' | 'INVALID_STATE'; message: string } };

export type AlarmEventListener = (event: AlarmEventRecord) => void;

/** Live state of one alarm (a project definition, or a generated connection-lost alarm). */
interface AlarmRuntime {
  readonly name: string;
  readonly def: AlarmDefinition | undefined;
  readonly number: number;
  readonly className: string;
  readonly stateMachine: StateMachine;
  readonly priority: number;
  readonly tag: TagState | undefined;
  readonly test: Condition | undefined;
  readonly text: string;
  readonly limit: number | undefined;
  /** The condition after the last usable value (hysteresis state). */
  cond: boolean;
  /** The occurrence whose condition is active now; at most one per alarm. */
  active: Occurrence | undefined;
  /** A pending on-/off-delay, and what it will do. */
  timer: unknown;
  timerRaises: boolean;
  enabled: boolean;
  shelvedUntil: number | undefined;
  shelveTimer: unknown;
  /** Connection-lost alarms: the connection's tags that are BAD now. */
  badTags: Set<number> | undefined;
}

interface Pending {
  event: NewAlarmEvent;
}

function usable(quality: number): boolean {
  // BAD values are stale and the initial value was never read from anywhere: judging either would raise or clear
  // alarms on fiction.
  return (quality & 0xc0) !== 0 && quality !== Quality.UNCERTAIN_INITIAL_VALUE;
}

/**
 * Evaluates alarm conditions on every tag change, runs each occurrence through its class's state machine, and
 * journals every state change before anyone hears of it.
 *
 * Journal first, in groups: transitions apply in memory at once (later evaluations in the same burst build on
 * them), their events queue, and one transaction commits the queue at the end of the current synchronous burst (a
 * microtask) or at once when an operator acts, since the API answers only after the commit. Listeners are told
 * only after the commit. If a commit fails, memory is rebuilt from the journal, so nothing uncommitted is ever
 * shown or published.
 */
export class AlarmEngine {
  private readonly tags: TagEngine;
  private readonly journal: AlarmJournalRepository;
  private readonly settings: AlarmSettingsRepository;
  private readonly clock: Clock;
  private readonly classes: Map<string, AlarmClass>;
  private readonly alarms = new Map<string, AlarmRuntime>();
  /** Tag index → alarms on that tag: an update costs only its own alarms. */
  private readonly byTag: (AlarmRuntime[] | undefined)[] = [];
  private readonly byConnection = new Map<string, AlarmRuntime>();
  private readonly open = new Map<number, Occurrence>();
  private pending: Pending[] = [];
  /** Commits run one after the other; a failed one bumps the generation, which fails the batches taken before. */
  private commits: Promise<void> = Promise.resolve();
  private generation = 0;
  private flushQueued = false;
  private listeners: AlarmEventListener[] = [];
  private unsubscribe: (() => void) | undefined;
  private pruner: AlarmJournalPruner | undefined;
  private readonly logger: AlarmEngineOptions['logger'];
  /** Evaluations performed (for metrics and the benchmark). */
  evaluations = 0;

  constructor(opts: AlarmEngineOptions) {
    this.tags = opts.tags;
    this.journal = opts.journal;
    this.settings = opts.settings;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.classes = new Map(mergeClasses(opts.classes).map((c) => [c.name, c]));
    for (const def of opts.definitions) this.addDefinition(def);
    for (const tag of this.tags.tags) this.connectionAlarm(tag.def.connection);
    if (opts.retentionDays !== undefined) {
      this.pruner = new AlarmJournalPruner(this.journal, this.clock, {
        retentionDays: opts.retentionDays,
        onError: (err) => this.logger?.error({ err }, 'alarm journal pruning failed'),
      });
    }
  }

  private addDefinition(def: AlarmDefinition): void {
    const cls = this.classes.get(def.class);
    const tag = this.tags.get(def.tag);
    if (!cls || !tag) throw new TagwayError('VALIDATION_FAILED', `Alarm '${def.name}': unknown ${cls ? 'tag' : 'class'}`);
    const a: AlarmRuntime = {
      name: def.name,
      def,
      number: def.number,
      className: cls.name,
      stateMachine: cls.stateMachine,
      priority: def.priority,
      tag,
      test: compileCondition(def, tag.def.type),
      text: def.text,
      limit: def.kind === 'analog' ? def.limit.value : undefined,
      cond: false,
      active: undefined,
      timer: undefined,
      timerRaises: false,
      enabled: def.enabled ?? true,
      shelvedUntil: undefined,
      shelveTimer: undefined,
      badTags: undefined,
    };
    this.alarms.set(def.name, a);
    (this.byTag[tag.index] ??= []).push(a);
  }

  private connectionAlarm(connection: string): AlarmRuntime {
    let a = this.byConnection.get(connection);
    if (!a) {
      const cls = this.classes.get(SYSTEM_CLASS)!;
      a = {
        name: CONNECTION_LOST_PREFIX + connection,
        def: undefined,
        number: 0,
        className: cls.name,
        stateMachine: cls.stateMachine,
        priority: SYSTEM_PRIORITY,
        tag: undefined,
        test: undefined,
        text: `Connection lost: ${connection}`,
        limit: undefined,
        cond: false,
        active: undefined,
        timer: undefined,
        timerRaises: false,
        enabled: true,
        shelvedUntil: undefined,
        shelveTimer: undefined,
        badTags: new Set(),
      };
      this.byConnection.set(connection, a);
      this.alarms.set(a.name, a);
    }
    return a;
  }

  /**
   * Rebuilds the current list from the journal (original times), subscribes to tag changes and evaluates every
   * alarm whose tag already has a usable value. Alarms whose tag has none yet are judged on its first value, so a
   * condition that went away while the server was down clears (a CLEARED event now) as soon as it can be seen.
   */
  async start(): Promise<void> {
    this.restoreFrom(await this.journal.loadOpen());
    await this.applySettings();
    this.unsubscribe = this.tags.onChange(this.onTagChange);
    for (const tag of this.tags.tags) {
      if ((tag.quality & 0xc0) === 0) this.qualityChanged(tag, Quality.GOOD);
      else if (usable(tag.quality)) this.connectionSeen(tag);
      const list = this.byTag[tag.index];
      if (list && usable(tag.quality)) for (const a of list) this.evaluate(a, tag.value);
    }
    await this.flush();
    this.pruner?.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const a of this.alarms.values()) {
      if (a.timer !== undefined) this.clock.clearTimeout(a.timer);
      if (a.shelveTimer !== undefined) this.clock.clearTimeout(a.shelveTimer);
      a.timer = undefined;
      a.shelveTimer = undefined;
    }
    await this.flush();
    await this.pruner?.stop();
  }

  /** Operator overrides from before a restart: disabled stays disabled, a shelf that has not expired holds. */
  private async applySettings(): Promise<void> {
    const now = this.clock.now();
    for (const [name, st] of await this.settings.load()) {
      const a = this.alarms.get(name);
      if (!a?.def) continue;
      a.enabled = st.enabled;
      if (st.shelvedUntil !== null && st.shelvedUntil > now) this.shelveUntil(a, st.shelvedUntil);
    }
  }

  private shelveUntil(a: AlarmRuntime, until: number): void {
    if (a.shelveTimer !== undefined) this.clock.clearTimeout(a.shelveTimer);
    a.shelvedUntil = until;
    a.shelveTimer = this.clock.setTimeout(() => {
      a.shelveTimer = undefined;
      this.unshelveNow(a);
      void this.saveSetting(a);
      this.flushOrLog();
    }, until - this.clock.now());
  }

  private async saveSetting(a: AlarmRuntime): Promise<void> {
    try {
      await this.settings.save(a.name, { enabled: a.enabled, shelvedUntil: a.shelvedUntil ?? null });
    } catch (err) {
      this.logger?.error({ err }, 'could not store an alarm setting');
    }
  }

  private restoreFrom(histories: readonly OpenOccurrenceHistory[]): void {
    this.open.clear();
    for (const a of this.alarms.values()) {
      a.active = undefined;
      a.cond = false;
    }
    const orphans: Occurrence[] = [];
    for (const h of histories) {
      const occ = occurrenceFromEvents(h.stateMachine, h.events);
      if (!occ || occ.st.closed) continue;
      this.open.set(occ.id, occ);
      if (!occ.st.active) continue;
      const a = this.alarms.get(occ.alarm);
      if (a && !a.active) {
        a.active = occ;
        a.cond = true;
      } else orphans.push(occ);
    }
    // Occurrences of alarms no longer in the project (or duplicates) can never clear by themselves.
    for (const occ of orphans) this.apply(occ, 'CLEAR', null, occ.value, occ.text);
  }

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

  // ---- evaluation (hot path) -------------------------------------------------------------------------------

  private readonly onTagChange = (change: TagChange): void => {
    const tag = change.tag;
    if (tag.quality !== change.previousQuality) this.qualityChanged(tag, change.previousQuality);
    const list = this.byTag[tag.index];
    if (list === undefined || !usable(tag.quality)) return;
    const v = tag.value;
    for (let i = 0; i < list.length; i++) this.evaluate(list[i]!, v);
  };

  private evaluate(a: AlarmRuntime, value: TagValue): void {
    this.evaluations++;
    const c = a.test!(value, a.cond);
    if (c === undefined) return;
    a.cond = c;
    if (c !== (a.active !== undefined) || a.timer !== undefined) this.settle(a);
  }

  /** Connection tracking: one System alarm per connection while any of its tags is BAD. */
  private qualityChanged(tag: TagState, previous: number): void {
    const wasBad = (previous & 0xc0) === 0;
    const isBad = (tag.quality & 0xc0) === 0;
    const a = this.byConnection.get(tag.def.connection);
    if (!a) return;
    if (isBad) a.badTags!.add(tag.index);
    else if (wasBad) a.badTags!.delete(tag.index);
    if (isBad !== wasBad) {
      a.cond = a.badTags!.size > 0;
      this.settle(a);
    } else if (usable(tag.quality)) this.connectionSeen(tag);
  }

  /** A usable value from a connection: a connection-lost alarm restored from before a restart can clear now. */
  private connectionSeen(tag: TagState): void {
    const a = this.byConnection.get(tag.def.connection);
    if (a?.active && a.badTags!.size === 0) {
      a.cond = false;
      this.settle(a);
    }
  }

  /** Brings the alarm's occurrence in line with its condition, honouring on-/off-delays. */
  private settle(a: AlarmRuntime): void {
    const suppressed = !a.enabled || a.shelvedUntil !== undefined;
    const want = a.cond && !suppressed;
    const has = a.active !== undefined;
    if (want === has) {
      if (a.timer !== undefined) {
        this.clock.clearTimeout(a.timer);
        a.timer = undefined;
      }
      return;
    }
    // Disabling or shelving takes effect at once; only the condition itself is delayed.
    const delay = suppressed ? 0 : want ? (a.def?.onDelayMs ?? 0) : (a.def?.offDelayMs ?? 0);
    if (delay > 0) {
      if (a.timer !== undefined && a.timerRaises === want) return;
      if (a.timer !== undefined) this.clock.clearTimeout(a.timer);
      a.timerRaises = want;
      a.timer = this.clock.setTimeout(() => {
        a.timer = undefined;
        this.settleNow(a);
      }, delay);
      return;
    }
    this.settleNow(a);
  }

  private settleNow(a: AlarmRuntime): void {
    if (a.timer !== undefined) {
      this.clock.clearTimeout(a.timer);
      a.timer = undefined;
    }
    const want = a.cond && a.enabled && a.shelvedUntil === undefined;
    if (want && !a.active) this.raise(a);
    else if (!want && a.active) {
      const occ = a.active;
      a.active = undefined;
      const value = this.valueOf(a, occ);
      this.apply(occ, 'CLEAR', null, value, this.textOf(a, value));
    }
  }

  private valueOf(a: AlarmRuntime, occ?: Occurrence): TagValue | null {
    return a.tag ? a.tag.value : (occ?.value ?? null);
  }

  private textOf(a: AlarmRuntime, value: TagValue | null): string {
    if (!a.tag) return a.text;
    return formatText(a.text, { value: value ?? undefined, unit: a.tag.def.unit, tag: a.tag.def.name, limit: a.limit });
  }

  private raise(a: AlarmRuntime): void {
    const value = this.valueOf(a);
    const t = transition(a.stateMachine, undefined, 'RAISE');
    if (t.kind !== 'event') return;
    const now = this.clock.now();
    const occ: Occurrence = {
      id: this.journal.nextOccurrenceId(),
      alarm: a.name,
      number: a.number,
      className: a.className,
      priority: a.priority,
      stateMachine: a.stateMachine,
      tag: a.tag?.def.name ?? null,
      st: t.next,
      text: this.textOf(a, value),
      value,
      raisedAt: now,
      clearedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      view: undefined,
    };
    a.active = occ;
    this.record(occ, t, null, now);
  }

  /** Runs one input through the occurrence's state machine and records the result. */
  private apply(occ: Occurrence, input: AlarmInput, user: string | null, value?: TagValue | null, text?: string): Transition {
    const t = transition(occ.stateMachine, occ.st, input);
    if (t.kind !== 'event') return t;
    const now = this.clock.now();
    if (value !== undefined) occ.value = value;
    if (text !== undefined) occ.text = text;
    if (t.event === 'CLEARED') occ.clearedAt = now;
    if (t.event === 'ACKNOWLEDGED') {
      occ.acknowledgedAt = now;
      occ.acknowledgedBy = user;
    }
    this.record(occ, t, user, now);
    return t;
  }

  private record(occ: Occurrence, t: Transition & { kind: 'event' }, user: string | null, at: number): void {
    occ.st = t.next;
    occ.view = undefined;
    if (t.next.closed) this.open.delete(occ.id);
    else this.open.set(occ.id, occ);
    this.pending.push({
      event: {
        id: occ.id,
        alarm: occ.alarm,
        number: occ.number,
        class: occ.className,
        priority: occ.priority,
        event: t.event,
        at,
        state: t.next.state,
        text: occ.text,
        tag: occ.tag,
        value: occ.value,
        user,
        stateMachine: occ.stateMachine,
        closes: t.next.closed,
      },
    });
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flushOrLog();
      });
    }
  }

  private flushOrLog(): void {
    this.flush().catch(() => {
      /* already logged; memory was rebuilt from the journal */
    });
  }

  /**
   * Commits the queued events in one transaction, then tells listeners; resolves once they (and every batch
   * queued before) are committed. Rejects with SERVICE_UNAVAILABLE if the journal refused them, or refused an
   * earlier batch (memory was then rebuilt from the journal, and these events were built on what was undone).
   */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const generation = this.generation;
    const run = this.commits.then(() => this.commit(batch, generation));
    this.commits = run.catch(() => undefined);
    return run;
  }

  private async commit(batch: readonly Pending[], generation: number): Promise<void> {
    if (generation !== this.generation) throw new TagwayError('SERVICE_UNAVAILABLE', 'The alarm journal could not be written');
    if (batch.length === 0) return;
    let records: AlarmEventRecord[];
    try {
      records = await this.journal.append(batch.map((p) => p.event));
    } catch (err) {
      this.logger?.error({ err }, 'alarm journal write failed; current alarms rebuilt from the journal');
      this.generation++;
      try {
        const histories = await this.journal.loadOpen();
        // What was queued meanwhile was built on the memory being replaced: it goes with it.
        this.pending = [];
        this.restoreFrom(histories);
      } catch (err2) {
        this.logger?.error({ err: err2 }, 'rebuilding the current alarms from the journal failed');
      }
      throw new TagwayError('SERVICE_UNAVAILABLE', 'The alarm journal could not be written', { cause: err });
    }
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
  }

  // ---- operator actions --------------------------------------------------------------------------------------

  /**
   * Acknowledges one occurrence. One that needs none, or is acknowledged already, or is closed, is answered with
   * its state and writes nothing. Unknown id → NOT_FOUND.
   */
  async acknowledge(id: number, user: string): Promise<AlarmOccurrence> {
    const r = await this.respond(id, 'ACKNOWLEDGE', user);
    await this.flush();
    return r;
  }

  /** Acknowledges many; each item succeeds or fails alone; one journal transaction for all. */
  async acknowledgeMany(ids: readonly number[], user: string): Promise<AckResult[]> {
    const out: AckResult[] = [];
    for (const id of ids) {
      try {
        out.push({ id, state: (await this.respond(id, 'ACKNOWLEDGE', user)).state });
      } catch (err) {
        if (err instanceof TagwayError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_STATE'))
          out.push({ id, error: { code: err.code, message: err.message } });
        else throw err;
      }
    }
    await this.flush();
    return out;
  }

  /** Resets an occurrence of a class that needs a reset, once cleared and acknowledged; otherwise INVALID_STATE. */
  async reset(id: number, user: string): Promise<AlarmOccurrence> {
    const r = await this.respond(id, 'RESET', user);
    await this.flush();
    return r;
  }

  private async respond(id: number, input: 'ACKNOWLEDGE' | 'RESET', user: string): Promise<AlarmOccurrence> {
    const occ = this.open.get(id);
    if (!occ) {
      const past = await this.closedOccurrence(id);
      if (!past) throw new TagwayError('NOT_FOUND', `No alarm occurrence ${id}`);
      if (input === 'RESET') throw new TagwayError('INVALID_STATE', `Alarm occurrence ${id} is closed; no reset is due`);
      return past;
    }
    const t = this.apply(occ, input, user);
    if (t.kind === 'invalid') throw new TagwayError('INVALID_STATE', `Alarm occurrence ${id}: ${t.reason}`);
    return occurrenceView(occ);
  }

  private async closedOccurrence(id: number): Promise<AlarmOccurrence | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    const events = await this.journal.eventsOf(id);
    const first = events[0];
    if (!first) return undefined;
    const sm = this.classes.get(first.class)?.stateMachine ?? 'RAISE_CLEAR';
    const occ = occurrenceFromEvents(sm, events);
    return occ ? occurrenceView(occ) : undefined;
  }

  /** Enables or disables an alarm; a disabled alarm's active occurrence clears at once. */
  async setEnabled(name: string, enabled: boolean): Promise<AlarmDefinitionView> {
    const a = this.requireDefined(name);
    a.enabled = enabled;
    const saved = this.saveSetting(a);
    this.reevaluate(a);
    await this.flush();
    await saved;
    return this.definitionView(a);
  }

  /** Shelves an alarm for a while: treated as disabled until then, then judged again. */
  async shelve(name: string, durationMs: number): Promise<AlarmDefinitionView> {
    const a = this.requireDefined(name);
    if (!(durationMs > 0) || durationMs > 30 * 86_400_000) {
      throw new TagwayError('VALIDATION_FAILED', 'durationMs must be between 1 ms and 30 days', {
        errors: [{ field: 'durationMs', message: 'out of range' }],
      });
    }
    this.shelveUntil(a, this.clock.now() + durationMs);
    const saved = this.saveSetting(a);
    this.reevaluate(a);
    await this.flush();
    await saved;
    return this.definitionView(a);
  }

  async unshelve(name: string): Promise<AlarmDefinitionView> {
    const a = this.requireDefined(name);
    if (a.shelveTimer !== undefined) this.clock.clearTimeout(a.shelveTimer);
    a.shelveTimer = undefined;
    this.unshelveNow(a);
    const saved = this.saveSetting(a);
    await this.flush();
    await saved;
    return this.definitionView(a);
  }

  private unshelveNow(a: AlarmRuntime): void {
    a.shelvedUntil = undefined;
    this.reevaluate(a);
  }

  private reevaluate(a: AlarmRuntime): void {
    if (a.tag && usable(a.tag.quality)) {
      this.evaluations++;
      a.cond = a.test!(a.tag.value, a.cond) ?? a.cond;
    }
    this.settleNow(a);
  }

  private requireDefined(name: string): AlarmRuntime {
    const a = this.alarms.get(name);
    if (!a || !a.def) throw new TagwayError('NOT_FOUND', `No alarm named '${name}'`);
    return a;
  }

  // ---- reads -------------------------------------------------------------------------------------------------

  /** Every occurrence still active or waiting for a response, newest first. */
  current(filter: CurrentFilter = {}): AlarmOccurrence[] {
    const m = filter.alarm === undefined ? undefined : compileGlob(filter.alarm);
    const states = filter.state === undefined ? undefined : new Set(typeof filter.state === 'string' ? [filter.state] : filter.state);
    const out: Occurrence[] = [];
    for (const o of this.open.values()) {
      if (filter.class !== undefined && o.className !== filter.class) continue;
      if (filter.minPriority !== undefined && o.priority < filter.minPriority) continue;
      if (filter.maxPriority !== undefined && o.priority > filter.maxPriority) continue;
      if (filter.tag !== undefined && o.tag !== filter.tag) continue;
      if (m && !m(o.alarm)) continue;
      if (states && !states.has(o.st.state)) continue;
      out.push(o);
    }
    out.sort((x, y) => y.raisedAt - x.raisedAt || y.id - x.id);
    return out.map(occurrenceView);
  }

  /** One occurrence of the current list, or undefined. */
  occurrence(id: number): AlarmOccurrence | undefined {
    const o = this.open.get(id);
    return o ? occurrenceView(o) : undefined;
  }

  /**
   * The text of an alarm in another language, rendered with the given value; undefined when the alarm has no
   * text in that language (the caller keeps the journal text). `lang` may be `de-AT`: `de` is tried next.
   */
  textIn(alarm: string, lang: string, value: TagValue | null): string | undefined {
    const a = this.alarms.get(alarm);
    const texts = a?.def?.texts;
    if (!a || !texts) return undefined;
    const find = (l: string) => Object.entries(texts).find(([k]) => k.toLowerCase() === l)?.[1];
    const template = find(lang.toLowerCase()) ?? find(lang.toLowerCase().split('-')[0]!);
    if (template === undefined) return undefined;
    if (!a.tag) return template;
    return formatText(template, { value: value ?? undefined, unit: a.tag.def.unit, tag: a.tag.def.name, limit: a.limit });
  }

  definitions(): AlarmDefinitionView[] {
    const out: AlarmDefinitionView[] = [];
    for (const a of this.alarms.values()) if (a.def) out.push(this.definitionView(a));
    return out;
  }

  definition(name: string): AlarmDefinitionView {
    return this.definitionView(this.requireDefined(name));
  }

  classList(): AlarmClass[] {
    return [...this.classes.values()];
  }

  private definitionView(a: AlarmRuntime): AlarmDefinitionView {
    const d = a.def!;
    const v: AlarmDefinitionView = {
      name: d.name,
      number: d.number,
      class: d.class,
      priority: d.priority,
      tag: d.tag,
      kind: d.kind,
      text: d.text,
      ...(d.texts ? { texts: d.texts } : {}),
      enabled: a.enabled,
    };
    if (d.kind === 'discrete' && d.bit !== undefined) v.bit = d.bit;
    if (d.kind === 'analog') {
      v.limit = { type: d.limit.type, value: d.limit.value };
      if (d.hysteresis !== undefined) v.hysteresis = d.hysteresis;
    }
    if (d.onDelayMs !== undefined) v.onDelayMs = d.onDelayMs;
    if (d.offDelayMs !== undefined) v.offDelayMs = d.offDelayMs;
    if (a.shelvedUntil !== undefined) v.shelvedUntil = new Date(a.shelvedUntil).toISOString();
    return v;
  }

  /** The journal, for archive queries (the API reads it directly; the engine is the only writer). */
  get archive(): AlarmJournalRepository {
    return this.journal;
  }
}
