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
