/**
 * Small named values kept across restarts: the retained values of internal tags, and whatever else a driver or
 * service needs to remember. Keys live in namespaces (one per owner, e.g. `internal` for the internal driver), so
 * owners never see each other's keys. Values are JSON.
 */
export interface KeyValueEntry {
  key: string;
  value: unknown;
  /** Epoch ms of the last write. */
  updatedAt: number;
}

export interface KeyValueRepository {
  get(namespace: string, key: string): Promise<KeyValueEntry | undefined>;
  /** Every entry of a namespace, ordered by key. An entry whose stored value no longer parses is left out. */
  list(namespace: string): Promise<KeyValueEntry[]>;
  /** Writes (inserts or replaces) one entry. */
  set(namespace: string, key: string, value: unknown, at: number): Promise<void>;
  /** Writes many entries atomically: all or none (one transaction, one fsync, e.g. for a bulk write of a tick). */
  setMany(namespace: string, entries: ReadonlyArray<{ key: string; value: unknown; at: number }>): Promise<void>;
  /** True when the key existed. */
  delete(namespace: string, key: string): Promise<boolean>;
}
