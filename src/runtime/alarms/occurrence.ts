import type { StateMachine } from '../../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../../domain/alarms/records.js';
import { applyEvent, statusSymbol, userResponse, type OccurrenceState } from '../../domain/alarms/state-machine.js';
import type { TagValue } from '../../domain/tag-types.js';

/** One occurrence as the engine keeps it in memory (epoch-ms times; views convert to ISO on the way out). */
export interface Occurrence {
  readonly id: number;
  readonly alarm: string;
  number: number;
  className: string;
  priority: number;
  readonly stateMachine: StateMachine;
  tag: string | null;
  st: OccurrenceState;
  text: string;
  value: TagValue | null;
  raisedAt: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** Cached view, rebuilt after each change (the current list is read far more often than it changes). */
  view: AlarmOccurrence | undefined;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export function occurrenceView(o: Occurrence): AlarmOccurrence {
  let v = o.view;
  if (!v) {
    v = {
      id: o.id,
      alarm: o.alarm,
      number: o.number,
      class: o.className,
      priority: o.priority,
      text: o.text,
      tag: o.tag,
      value: o.value,
      state: o.st.state,
      status: statusSymbol(o.st),
      active: o.st.active,
      acknowledged: o.st.acknowledged,
      raisedAt: new Date(o.raisedAt).toISOString(),
      clearedAt: iso(o.clearedAt),
      acknowledgedAt: iso(o.acknowledgedAt),
      acknowledgedBy: o.acknowledgedBy,
      userResponse: userResponse(o.st),
    };
    o.view = v;
  }
  return v;
}

/** Folds an occurrence's journal events (oldest first) back into memory, with the original times. */
export function occurrenceFromEvents(stateMachine: StateMachine, events: readonly AlarmEventRecord[]): Occurrence | undefined {
  const first = events[0];
  if (!first) return undefined;
  const o: Occurrence = {
    id: first.id,
    alarm: first.alarm,
    number: first.number,
    className: first.class,
    priority: first.priority,
    stateMachine,
    tag: first.tag,
    st: applyEvent(stateMachine, undefined, 'RAISED'),
    text: first.text,
    value: first.value,
    raisedAt: Date.parse(first.at),
    clearedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    view: undefined,
  };
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.event !== 'RAISED') o.st = applyEvent(stateMachine, o.st, e.event);
    if (e.event === 'RAISED') o.raisedAt = at;
    if (e.event === 'CLEARED') o.clearedAt = at;
    if (e.event === 'ACKNOWLEDGED') {
      o.acknowledgedAt = at;
      o.acknowledgedBy = e.user;
    }
    o.text = e.text;
    o.value = e.value;
    o.number = e.number;
    o.className = e.class;
    o.priority = e.priority;
  }
  return o;
}
