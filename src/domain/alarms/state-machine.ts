import type { StateMachine } from './definition.js';

/**
 * The life of one alarm occurrence (instance), pure. Inputs are condition changes (RAISE, CLEAR) and operator
 * responses (ACKNOWLEDGE, RESET); each either changes the occurrence and yields the journal event that records it,
 * changes nothing (acknowledging twice, or where no acknowledgement exists, is not an error and writes nothing),
 * or is invalid (a reset where none is due). The engine journals the event before it applies `next`.
 *
 * An occurrence is *closed* (leaves the current list) once its condition is gone and every response its class
 * requires was given. A condition that returns while an older occurrence still waits for acknowledgement starts a
 * new occurrence, as in WinCC, so that the operator acknowledges each coming separately.
 */
export const ALARM_STATES = [
  'RAISED',
  'RAISED_ACKNOWLEDGED',
  'RAISED_CLEARED',
  'RAISED_ACKNOWLEDGED_CLEARED',
  'RAISED_CLEARED_ACKNOWLEDGED',
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export const ALARM_EVENTS = ['RAISED', 'CLEARED', 'ACKNOWLEDGED', 'RESET'] as const;
export type AlarmEventType = (typeof ALARM_EVENTS)[number];

export type AlarmInput = 'RAISE' | 'CLEAR' | 'ACKNOWLEDGE' | 'RESET';

export type UserResponse = 'NONE' | 'ACKNOWLEDGEMENT' | 'RESET';

export interface OccurrenceState {
  readonly state: AlarmState;
  /** The condition holds now. */
  readonly active: boolean;
  readonly acknowledged: boolean;
  readonly reset: boolean;
  /** Gone from the current list; nothing more can happen to it. */
  readonly closed: boolean;
}

export type Transition =
  | { readonly kind: 'event'; readonly event: AlarmEventType; readonly next: OccurrenceState }
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly reason: string };

const NONE: Transition = { kind: 'none' };

export function canAcknowledge(sm: StateMachine): boolean {
  return sm !== 'RAISE_CLEAR';
}
export function requiresAcknowledgement(sm: StateMachine): boolean {
  return sm === 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT' || sm === 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET';
}
export function requiresReset(sm: StateMachine): boolean {
  return sm === 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET';
}

function isClosed(sm: StateMachine, active: boolean, acknowledged: boolean, reset: boolean): boolean {
  return !active && (acknowledged || !requiresAcknowledgement(sm)) && (reset || !requiresReset(sm));
}

function make(sm: StateMachine, state: AlarmState, active: boolean, acknowledged: boolean, reset: boolean): OccurrenceState {
  return { state, active, acknowledged, reset, closed: isClosed(sm, active, acknowledged, reset) };
}

/** The one transition function. `occ` undefined means "no open occurrence of this alarm". */
export function transition(sm: StateMachine, occ: OccurrenceState | undefined, input: AlarmInput): Transition {
  switch (input) {
    case 'RAISE':
      // A raise on an existing open occurrence is handled by the caller (new occurrence or nothing).
      if (occ && !occ.closed) return NONE;
      return { kind: 'event', event: 'RAISED', next: make(sm, 'RAISED', true, false, false) };
    case 'CLEAR':
      if (!occ || occ.closed || !occ.active) return NONE;
      return {
        kind: 'event',
        event: 'CLEARED',
        next: make(sm, occ.acknowledged ? 'RAISED_ACKNOWLEDGED_CLEARED' : 'RAISED_CLEARED', false, occ.acknowledged, false),
      };
    case 'ACKNOWLEDGE':
      if (!occ) return { kind: 'invalid', reason: 'no such occurrence' };
      if (occ.closed || occ.acknowledged || !canAcknowledge(sm)) return NONE;
      return {
        kind: 'event',
        event: 'ACKNOWLEDGED',
        next: make(sm, occ.active ? 'RAISED_ACKNOWLEDGED' : 'RAISED_CLEARED_ACKNOWLEDGED', occ.active, true, false),
      };
    case 'RESET':
      if (!occ) return { kind: 'invalid', reason: 'no such occurrence' };
      if (!requiresReset(sm)) return { kind: 'invalid', reason: 'this alarm class needs no reset' };
      if (occ.closed) return { kind: 'invalid', reason: 'the occurrence is already closed' };
      if (occ.active) return { kind: 'invalid', reason: 'the condition is still active' };
      if (!occ.acknowledged) return { kind: 'invalid', reason: 'the occurrence must be acknowledged first' };
      return { kind: 'event', event: 'RESET', next: make(sm, occ.state, false, true, true) };
  }
}

/**
 * Applies a journal event that was recorded earlier: how the current list is rebuilt on start-up. Journal events
 * are facts, so this never refuses one; it agrees with `transition` for every event `transition` produced.
 */
export function applyEvent(sm: StateMachine, occ: OccurrenceState | undefined, event: AlarmEventType): OccurrenceState {
  switch (event) {
    case 'RAISED':
      return make(sm, 'RAISED', true, false, false);
    case 'CLEARED': {
      const ack = occ?.acknowledged ?? false;
      return make(sm, ack ? 'RAISED_ACKNOWLEDGED_CLEARED' : 'RAISED_CLEARED', false, ack, false);
    }
    case 'ACKNOWLEDGED': {
      const active = occ?.active ?? false;
      return make(sm, active ? 'RAISED_ACKNOWLEDGED' : 'RAISED_CLEARED_ACKNOWLEDGED', active, true, false);
    }
    case 'RESET':
      return make(sm, occ?.state ?? 'RAISED_CLEARED_ACKNOWLEDGED', false, true, true);
  }
}

/** The state an occurrence is in after the given events, or undefined for none. */
export function replay(sm: StateMachine, events: readonly AlarmEventType[]): OccurrenceState | undefined {
  let occ: OccurrenceState | undefined;
  for (const e of events) occ = applyEvent(sm, occ, e);
  return occ;
}

/** Invariants every reachable occurrence state satisfies; used by the property tests and by start-up checks. */
export function isLegal(sm: StateMachine, o: OccurrenceState): boolean {
  const stateOk = (() => {
    switch (o.state) {
      case 'RAISED':
        return o.active && !o.acknowledged;
      case 'RAISED_ACKNOWLEDGED':
        return o.active && o.acknowledged;
      case 'RAISED_CLEARED':
        return !o.active && !o.acknowledged;
      case 'RAISED_ACKNOWLEDGED_CLEARED':
      case 'RAISED_CLEARED_ACKNOWLEDGED':
        return !o.active && o.acknowledged;
    }
  })();
  return (
    stateOk &&
    (!o.acknowledged || canAcknowledge(sm)) &&
    (!o.reset || (requiresReset(sm) && !o.active && o.acknowledged)) &&
    o.closed === isClosed(sm, o.active, o.acknowledged, o.reset)
  );
}

export function userResponse(o: OccurrenceState): UserResponse {
  return o.reset ? 'RESET' : o.acknowledged ? 'ACKNOWLEDGEMENT' : 'NONE';
}

/** The classic WinCC status symbols: `+` came in, `-` went out, `*` acknowledged. */
export function statusSymbol(o: OccurrenceState): string {
  return (o.active ? '+' : '-') + (o.acknowledged ? '*' : '');
}
