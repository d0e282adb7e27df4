/**
 * Errors every storage backend throws in the same shape, so that callers (and the contract tests) need not know
 * which database is underneath. Anything else a backend throws is a fault of the store (disk full, connection
 * lost) and reaches the caller as it is.
 */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
  constructor(
    /** The store that refused, e.g. `users`. */
    readonly store: string,
    readonly key: string,
  ) {
    super(`${store}: '${key}' exists`);
  }
}

/** The repository or storage was closed; no further calls are possible. */
export class StorageClosedError extends Error {
  override readonly name = 'StorageClosedError';
  constructor() {
    super('storage is closed');
  }
}

/**
 * The storage can no longer make writes durable (a sync of its log failed): final until the server is restarted.
 * `code` is the backend's own for it, so that it counts as a storage fault (503 STORAGE_UNAVAILABLE, health
 * degraded). Unlike a full disk, it also fails a write whose value was committed before the sync failed: that write
 * was never made durable, so it must not be answered as stored.
 */
export class DurabilityLostError extends Error {
  override readonly name: string = 'DurabilityLostError';
  constructor(
    message: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}
