import type { TagValue } from '../tag-types.js';
import type { AlarmEventType, AlarmState, UserResponse } from './state-machine.js';

/**
 * The shapes the outside world sees: a journal (archive) event, which is also what the push hub sends, and an
 * occurrence of the current list. Times are ISO 8601 UTC strings with milliseconds, as everywhere in the API.
 */
export interface AlarmEventRecord {
  /** Position in the journal; increases strictly, never reused (the keyset and the SSE `id:`). */
  eventId: number;
  /** Occurrence (instance) id. */
  id: number;
  alarm: string;
  number: number;
  class: string;
  priority: number;
  event: AlarmEventType;
  at: string;
  /** The occurrence's state after this event. */
  state: AlarmState;
  text: string;
  tag: string | null;
  value: TagValue | null;
  user: string | null;
}

export interface AlarmOccurrence {
  id: number;
  alarm: string;
  number: number;
  class: string;
  priority: number;
  text: string;
  tag: string | null;
  value: TagValue | null;
  state: AlarmState;
  status: string;
  active: boolean;
  acknowledged: boolean;
  raisedAt: string;
  clearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  userResponse: UserResponse;
}
