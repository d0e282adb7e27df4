import type { AlarmClass, AlarmDefinition } from '../../domain/alarms/definition.js';
import type { Clock } from '../../domain/clock.js';
import { TagwayError } from '../../domain/problems.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import type { TagChange, TagEngine, TagState } from '../tag-engine.js';
import { connectionLostRuntime, definitionRuntime, SYSTEM_CLASS, usable, type AlarmRuntime } from './alarm-runtime.js';
import type { OccurrenceBook } from './occurrence-book.js';

/**
 * Judges alarm conditions on every tag change (the hot path: a tag-indexed lookup and a compiled condition per
 * alarm of the tag) and brings each alarm's occurrence in line with its condition, honouring on-/off-delays,
 * disabling and shelving. Connection-lost alarms follow the quality of their connection's tags.
 */
export class AlarmEvaluator {
  readonly alarms = new Map<string, AlarmRuntime>();
  /** Tag index → alarms on that tag: an update costs only its own alarms. */
  private readonly byTag: (AlarmRuntime[] | undefined)[] = [];
  private readonly byConnection = new Map<string, AlarmRuntime>();
  /** Evaluations performed (for metrics and the benchmark). */
  evaluations = 0;

  constructor(
    private readonly tags: TagEngine,
    private readonly clock: Clock,
    private readonly book: OccurrenceBook,
    /** True while the commit queue is at its bound: clears wait, raises never do. */
    private readonly holdClears: () => boolean,
    classes: ReadonlyMap<string, AlarmClass>,
    definitions: readonly AlarmDefinition[],
  ) {
    for (const def of definitions) {
      const cls = classes.get(def.class);
      const tag = this.tags.get(def.tag);
      if (!cls || !tag) throw new TagwayError('VALIDATION_FAILED', `Alarm '${def.name}': unknown ${cls ? 'tag' : 'class'}`);
      const a = definitionRuntime(def, cls, tag);
      this.alarms.set(def.name, a);
      (this.byTag[tag.index] ??= []).push(a);
    }
    const system = classes.get(SYSTEM_CLASS)!;
    for (const tag of this.tags.tags) {
      const connection = tag.def.connection;
      if (this.byConnection.has(connection)) continue;
      const a = connectionLostRuntime(connection, system);
      this.byConnection.set(connection, a);
      this.alarms.set(a.name, a);
    }
  }

  /**
   * Judges every alarm whose tag already has a usable value. Alarms whose tag has none yet are judged on its first
   * value, so a condition that went away while the server was down clears as soon as it can be seen.
   */
  evaluateAll(): void {
    for (const tag of this.tags.tags) {
      if ((tag.quality & 0xc0) === 0) this.qualityChanged(tag, Quality.GOOD);
      else if (usable(tag.quality)) this.connectionSeen(tag);
      const list = this.byTag[tag.index];
      if (list && usable(tag.quality)) for (const a of list) this.evaluate(a, tag.value);
    }
  }

  readonly onTagChange = (change: TagChange): void => {
    const tag = change.tag;
    if (tag.quality !== change.previousQuality) this.qualityChanged(tag, change.previousQuality);
    const list = this.byTag[tag.index];
    if (list === undefined || !usable(tag.quality)) return;
    const v = tag.value;
    for (let i = 0; i < list.length; i++) this.evaluate(list[i]!, v);
  };

  private evaluate(a: AlarmRuntime, value: TagValue): void {
    if (!a.owned) return;
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
    if (!a?.owned) return;
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
    if (a?.owned && a.active && a.badTags!.size === 0) {
      a.cond = false;
      this.settle(a);
    }
  }

  /** Brings the alarm's occurrence in line with its condition, honouring on-/off-delays. */
  private settle(a: AlarmRuntime): void {
    if (!a.owned) return;
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

  settleNow(a: AlarmRuntime): void {
    if (!a.owned) return;
    if (a.timer !== undefined) {
      this.clock.clearTimeout(a.timer);
      a.timer = undefined;
    }
    const want = a.cond && a.enabled && a.shelvedUntil === undefined;
    if (want && !a.active) this.book.raise(a);
    // A held-back clear keeps the occurrence active; `resettle` clears it once the journal has room.
    else if (!want && a.active && !this.holdClears()) this.book.clear(a);
  }

  /** Judges the alarm on its tag's value now (after enabling, unshelving) and settles it without delay. */
  reevaluate(a: AlarmRuntime): void {
    if (!a.owned) return;
    if (a.tag && usable(a.tag.quality)) {
      this.evaluations++;
      a.cond = a.test!(a.tag.value, a.cond) ?? a.cond;
    }
    this.settleNow(a);
  }

  /** After the journal took held-back events: settles every alarm whose occurrence disagrees with its condition. */
  resettle(): void {
    for (const a of this.alarms.values()) {
      if (a.timer !== undefined || !a.owned) continue;
      const want = a.cond && a.enabled && a.shelvedUntil === undefined;
      if (want !== (a.active !== undefined)) this.settleNow(a);
    }
  }

  /**
   * Stops judging these alarms (cluster: the connection's lease went to another node, which restores their
   * occurrences from the journal). Pending delays are dropped: the new owner judges the values afresh.
   */
  disown(alarms: Iterable<AlarmRuntime>): void {
    for (const a of alarms) {
      a.owned = false;
      if (a.timer !== undefined) this.clock.clearTimeout(a.timer);
      a.timer = undefined;
      a.active = undefined;
      a.cond = false;
      a.badTags?.clear();
    }
  }

  /**
   * Judges these alarms from their tags' values now, after their open occurrences were restored (cluster: this
   * node took the connection's lease). Tags that are BAD now are not counted as a lost connection: they are BAD
   * because the previous owner went away (the gap), not because the device did; a connection-lost occurrence
   * restored from the journal clears on the connection's first usable value, as after a restart.
   */
  own(alarms: readonly AlarmRuntime[]): void {
    for (const a of alarms) {
      a.owned = true;
      a.badTags?.clear();
    }
    for (const a of alarms) {
      if (a.tag) {
        if (usable(a.tag.quality)) this.evaluate(a, a.tag.value);
      } else if (a.active && this.tags.tags.some((t) => t.def.connection === a.connection && usable(t.quality))) {
        a.cond = false;
        this.settle(a);
      }
    }
  }

  stopTimers(): void {
    for (const a of this.alarms.values()) {
      if (a.timer !== undefined) this.clock.clearTimeout(a.timer);
      a.timer = undefined;
    }
  }

  /** A project alarm (not a generated one) by name, or NOT_FOUND. */
  requireDefined(name: string): AlarmRuntime {
    const a = this.alarms.get(name);
    if (!a || !a.def) throw new TagwayError('NOT_FOUND', `No alarm named '${name}'`);
    return a;
  }
}
