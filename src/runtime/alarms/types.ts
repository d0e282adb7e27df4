import type { AlarmEventRecord, AlarmOccurrence } from '../../domain/alarms/records.js';
import type { AlarmState } from '../../domain/alarms/state-machine.js';
import type { LeaseRef } from '../../storage/alarm-journal-repository.js';

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

/**
 * One item of a bulk acknowledgement. In a cluster, the items of an owner that could not be reached fail with
 * DEVICE_UNAVAILABLE or DEVICE_TIMEOUT (or the owner's refusal), while the others are done.
 */
export type AckResult =
  | { id: number; state: AlarmState }
  | {
      id: number;
      error: { code: 'NOT_FOUND' | 'INVALID_STATE' | 'DEVICE_UNAVAILABLE' | 'DEVICE_TIMEOUT' | 'STORAGE_UNAVAILABLE'; message: string };
    };

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

/** An operator action carried to the node that owns the alarm's connection (cluster), done there as on one node. */
export type AlarmAction =
  | { op: 'acknowledge'; id: number; user: string }
  | { op: 'acknowledgeMany'; ids: number[]; user: string }
  | { op: 'reset'; id: number; user: string }
  | { op: 'setEnabled'; name: string; enabled: boolean }
  | { op: 'shelve'; name: string; durationMs: number }
  | { op: 'unshelve'; name: string };

/** One committed change of the current list as the owner tells the other nodes: the view after it, null once closed. */
export interface AlarmChange {
  id: number;
  eventId: number;
  view: AlarmOccurrence | null;
}

/** An operator override of a definition, as stored (epoch ms), told to the other nodes. */
export interface AlarmSettingChange {
  name: string;
  enabled: boolean;
  shelvedUntil: number | null;
}

/**
 * What the engine needs from a cluster (src/cluster/alarms.ts): who evaluates which alarms, the route to the
 * owner for operator actions, and where to announce what this node committed. Without one the engine evaluates
 * every alarm, as a single node does.
 */
export interface AlarmPeer {
  /**
   * The connection whose owner evaluates alarms watching `connection`: itself when it is a project connection;
   * one deterministic connection for anything else (alarms no longer in the project, `connection` undefined).
   */
  home(connection: string | undefined): string;
  /** Whether this node evaluates and journals the alarms of this home connection now (it holds the lease). */
  owns(connection: string): boolean;
  /** Has the owner of `connection` do the action; resolves with its answer once the owner committed. */
  forward(connection: string, action: AlarmAction): Promise<unknown>;
  /** Changes this node journaled for alarms of `connection` (and their records, for push channels elsewhere). */
  committed(connection: string, changes: readonly AlarmChange[], records: readonly AlarmEventRecord[]): void;
  settingChanged(connection: string, change: AlarmSettingChange): void;
  /** This node's id: the holder named in its leases. */
  readonly holder: string;
  /** The fencing token of this node's lease of `connection` now, undefined when it holds none. */
  leaseToken(connection: string): number | undefined;
  /**
   * The journal refused a commit: this node no longer holds these leases (fencing). `droppedEvents` of their events
   * were given up; the owner's rebuild from the journal stands.
   */
  fenced(refused: readonly LeaseRef[], droppedEvents: number): void;
}
