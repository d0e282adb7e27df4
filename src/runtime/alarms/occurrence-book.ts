import type { AlarmClass } from '../../domain/alarms/definition.js';
import type { AlarmOccurrence } from '../../domain/alarms/records.js';
import { transition, type AlarmInput, type Transition } from '../../domain/alarms/state-machine.js';
import type { Clock } from '../../domain/clock.js';
import type { TagValue } from '../../domain/tag-types.js';
import type { AlarmJournalRepository, OpenOccurrenceHistory } from '../../storage/alarm-journal-repository.js';
import { textOf, valueOf, type AlarmRuntime } from './alarm-runtime.js';
import type { CommitQueue } from './commit-queue.js';
import { occurrenceFromEvents, occurrenceView, type Occurrence } from './occurrence.js';

/** What an occurrence looked like before an operator action, to undo the action if its commit fails. */
export interface OccurrenceSnapshot {
  occ: Occurrence;
  fields: Pick<Occurrence, 'st' | 'text' | 'value' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy' | 'view'>;
}

/**
 * The occurrences still open (active, or waiting for a response), as the evaluator and operators move them:
 * each transition runs through the class's state machine and queues its journal event at once.
 */
export class OccurrenceBook {
  readonly open = new Map<number, Occurrence>();

  constructor(
    private readonly journal: AlarmJournalRepository,
    private readonly queue: CommitQueue,
    private readonly clock: Clock,
    private readonly classes: ReadonlyMap<string, AlarmClass>,
  ) {}

  /**
   * Rebuilds the open occurrences from the journal (original times) and attaches the active ones to their alarms.
   * Returns the active occurrences of alarms no longer in the project (or duplicates): they can never clear by
   * themselves, and the caller clears them.
   */
  restore(alarms: ReadonlyMap<string, AlarmRuntime>, histories: readonly OpenOccurrenceHistory[]): Occurrence[] {
    this.open.clear();
    for (const a of alarms.values()) {
      a.active = undefined;
      a.cond = false;
    }
    return this.add(alarms, histories);
  }

  /**
   * Adds open occurrences read from the journal, attaching the active ones to their alarms (cluster: the
   * occurrences of a connection this node took over). Returns the orphans, as `restore` does.
   */
  add(alarms: ReadonlyMap<string, AlarmRuntime>, histories: readonly OpenOccurrenceHistory[]): Occurrence[] {
    const orphans: Occurrence[] = [];
    for (const h of histories) {
      const occ = occurrenceFromEvents(h.stateMachine, h.events);
      if (!occ || occ.st.closed) continue;
      this.open.set(occ.id, occ);
      if (!occ.st.active) continue;
      const a = alarms.get(occ.alarm);
      if (a && !a.active) {
        a.active = occ;
        a.cond = true;
      } else orphans.push(occ);
    }
    return orphans;
  }

  /** Drops the open occurrences `which` selects (cluster: their connection went to another node). */
  forget(which: (occ: Occurrence) => boolean): void {
    for (const [id, occ] of this.open) if (which(occ)) this.open.delete(id);
  }

  raise(a: AlarmRuntime): void {
    const value = valueOf(a);
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
      text: textOf(a, value),
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

  /** Clears the alarm's active occurrence with the tag's value now. */
  clear(a: AlarmRuntime): void {
    const occ = a.active;
    if (!occ) return;
    a.active = undefined;
    const value = valueOf(a, occ);
    this.apply(occ, 'CLEAR', null, value, textOf(a, value));
  }

  /** Runs one input through the occurrence's state machine and queues the resulting event. */
  apply(occ: Occurrence, input: AlarmInput, user: string | null, value?: TagValue | null, text?: string): Transition {
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
    this.queue.push({
      occ,
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
  }

  snapshot(occ: Occurrence): OccurrenceSnapshot {
    const { st, text, value, clearedAt, acknowledgedAt, acknowledgedBy, view } = occ;
    return { occ, fields: { st, text, value, clearedAt, acknowledgedAt, acknowledgedBy, view } };
  }

  /** Puts an open occurrence back as it was (its queued events are truncated by the caller). */
  undo(s: OccurrenceSnapshot): void {
    Object.assign(s.occ, s.fields);
    this.open.set(s.occ.id, s.occ);
  }

  /** A closed occurrence rebuilt from the journal (acknowledging it again answers its state). */
  async closed(id: number): Promise<AlarmOccurrence | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    const events = await this.journal.eventsOf(id);
    const first = events[0];
    if (!first) return undefined;
    const sm = this.classes.get(first.class)?.stateMachine ?? 'RAISE_CLEAR';
    const occ = occurrenceFromEvents(sm, events);
    return occ ? occurrenceView(occ) : undefined;
  }
}
