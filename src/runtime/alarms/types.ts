import type { AlarmEventRecord } from '../../domain/alarms/records.js';
import type { AlarmState } from '../../domain/alarms/state-machine.js';

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

/**
 * Whether the alarm journal takes writes. `degraded` while a commit fails (a full disk): evaluation goes on in
 * memory, its events wait (`pendingEvents`) and are retried; `overflowing` once the wait queue reached its bound
 * (clears are then held back; raises never are).
 */
export interface AlarmStorageState {
  state: 'ok' | 'degraded';
  /** Why the last commit failed (e.g. `SQLITE_FULL: database or disk is full`). */
  reason?: string;
  /** When the journal first refused, ISO 8601. */
  since?: string;
  pendingEvents: number;
  overflowing: boolean;
}

export interface AlarmLogger {
  error(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  info?(obj: unknown, msg?: string): void;
}
