import type { AlarmEventRecord } from '../domain/alarms/records.js';
import type { AlarmEventType, AlarmState } from '../domain/alarms/state-machine.js';
import type { TagValue } from '../domain/tag-types.js';
import type { ApiClientRecord } from './api-client-repository.js';
import type { OutboxEntry, OutboxStatus } from './outbox-repository.js';
import type { SessionRecord } from './session-repository.js';

/**
 * Row shapes of the tables whose columns are the same on SQLite and PostgreSQL, and their mapping to the
 * repositories' records: one copy for both adapters, so the two backends cannot drift in what a column means.
 */

export interface SessionRow {
  token_hash: string;
  username: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  client_address: string;
}

export const sessionRecordOf = (r: SessionRow): SessionRecord => ({
  tokenHash: r.token_hash,
  username: r.username,
  csrfToken: r.csrf_token,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  absoluteExpiresAt: r.absolute_expires_at,
  clientAddress: r.client_address,
});

export interface ApiClientRow {
  client_id: string;
  name: string;
  secret_hash: string;
  groups: string;
  created_at: string;
  created_by: string | null;
}

export const apiClientRecordOf = (r: ApiClientRow): ApiClientRecord => ({
  clientId: r.client_id,
  name: r.name,
  secretHash: r.secret_hash,
  groups: JSON.parse(r.groups) as string[],
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export interface OutboxRow {
  id: number;
  topic: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
}

export const outboxEntryOf = (r: OutboxRow): OutboxEntry => ({
  id: r.id,
  topic: r.topic,
  payload: JSON.parse(r.payload) as unknown,
  status: r.status,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});

/** An alarm journal row without its user column (`user` on SQLite, `username` on PostgreSQL, where `user` is reserved). */
export interface AlarmEventRowBase {
  event_id: number;
  occurrence: number;
  alarm: string;
  number: number;
  class: string;
  priority: number;
  event: AlarmEventType;
  at: number;
  state: AlarmState;
  text: string;
  tag: string | null;
  value: string | null;
}

export const alarmEventRecordOf = (r: AlarmEventRowBase, user: string | null): AlarmEventRecord => ({
  eventId: r.event_id,
  id: r.occurrence,
  alarm: r.alarm,
  number: r.number,
  class: r.class,
  priority: r.priority,
  event: r.event,
  at: new Date(r.at).toISOString(),
  state: r.state,
  text: r.text,
  tag: r.tag,
  value: r.value === null ? null : (JSON.parse(r.value) as TagValue),
  user,
});
