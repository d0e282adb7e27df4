import type { Logger } from 'pino';
import type { TagValue } from '../domain/tag-types.js';
import type { Clock } from '../domain/clock.js';
import type { TagDefinition } from '../domain/tag-definition.js';

/**
 * One interface for every protocol. A driver owns one connection and the tags bound to it; it pushes values
 * into the tag engine through its host and takes writes from it. `start` never fails because the device is
 * unreachable: the driver reports the state and reconnects by itself.
 */
export type ConnectionState = 'CONNECTING' | 'CONNECTED' | 'DISCONNECTED' | 'ERROR';

export interface DriverTag {
  /** Index of the tag in the tag engine; the fast key for `host.update`. */
  readonly index: number;
  readonly def: TagDefinition;
}

export interface ConnectionStats {
  reads: number;
  writes: number;
  errors: number;
  /** Last round-trip time in ms, when the protocol has one. */
  rttMs?: number | undefined;
}

/**
 * What a driver may keep across restarts: named JSON values in its own namespace. The key-value repository of the
 * storage layer satisfies it; drivers never see more of storage than this.
 */
export interface DriverKeyValueStore {
  /** Every entry of a namespace, ordered by key. */
  list(namespace: string): Promise<Array<{ key: string; value: unknown; updatedAt: number }>>;
  /** Writes many entries atomically (one transaction): all or none. */
  setMany(namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>): Promise<void>;
  /**
   * Present when the store can commit riders with the entries (the group commit): `setMany`, with the riders'
   * records in the same transaction, all or none.
   */
  setManyWith?(
    namespace: string,
    entries: ReadonlyArray<{ key: string; value: unknown; at: number }>,
    riders: readonly CommitRider[] | undefined,
  ): Promise<void>;
}

/**
 * A record that must be committed together with a written value, or not at all: the write's audit row, which the
 * engine hands to a driver that stores values in Tagway's own storage (`Driver.commitsRiders`). Opaque to drivers:
 * they pass it to `DriverKeyValueStore.setManyWith` with the value.
 */
export interface CommitRider {
  readonly __commitRider: never;
}

export interface DriverHost {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Storage for drivers that keep values (the internal driver); never a database handle. */
  readonly kv: DriverKeyValueStore;
  /** Tagway's data directory, for drivers that keep files (OPC UA certificates). */
  readonly dataDir?: string | undefined;
  /** A value read from the device. `timestamp` defaults to now. */
  update(index: number, value: TagValue, quality: number, timestamp?: number): void;
  /** New quality (e.g. BAD NOT_CONNECTED) for a tag, keeping its last value. */
  setQuality(index: number, quality: number, timestamp?: number): void;
  /** The connection's state changed. */
  state(state: ConnectionState, error?: string): void;
}

export interface Driver {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Writes a value that has already been coerced to the tag's type. Resolves once the device accepted it;
   * rejects with TagwayError DEVICE_UNAVAILABLE (connection down) or DEVICE_TIMEOUT (no answer in time).
   * The engine publishes the written value as GOOD unless the driver says it publishes itself, stamped with the
   * time the driver resolves with (a driver that stores values answers the time it stored, so that the value
   * restored after a restart carries the same time as the one published) or else the time the write ended.
   */
  write(tag: DriverTag, value: TagValue, rider?: CommitRider): Promise<void | number>;
  /**
   * Optional: writes several values at once, all or none (the internal driver stores them in one commit); the
   * engine uses it for a bulk write's items of this driver, `write` otherwise.
   */
  writeMany?(tags: readonly DriverTag[], values: readonly TagValue[]): Promise<void | number>;
  /** True when `write` publishes the new value itself (e.g. after reading it back). */
  readonly publishesWrites?: boolean;
  /**
   * True when `write` takes a rider and commits it in the same transaction as the value (or fails both): the
   * engine then hands it the write's audit row before the value is stored, so that both share one commit.
   */
  readonly commitsRiders?: boolean;
  stats?(): ConnectionStats;
}

/** One node of a device's address space, as a browse answers it (OPC UA today; any driver with an address space). */
export interface BrowseNode {
  /** Usable as a tag `address` as is. */
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: string;
  /** For variables: the data type's name. */
  dataType?: string | undefined;
}

/**
 * Optional capability of a driver module: the children of a node (default: the device's root) on a running
 * connection of that driver. Declared on the module rather than found on a driver instance, so that a lazily
 * loaded driver is known to browse before its library is loaded. Throws TagwayError DEVICE_UNAVAILABLE (not
 * started or not connected), DEVICE_TIMEOUT, VALIDATION_FAILED (bad node id) or NOT_FOUND (no such node).
 */
export type BrowseCapability = (driver: Driver, nodeId: string | undefined) => Promise<BrowseNode[]>;

export interface ConnectionDefinition {
  name: string;
  driver: string;
  description?: string | undefined;
  [option: string]: unknown;
}

export type DriverFactory = (connection: ConnectionDefinition, tags: DriverTag[], host: DriverHost) => Driver;
