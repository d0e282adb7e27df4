import type { SqliteGate } from './gate.js';

export type Exec = <T>(fn: () => T) => Promise<T>;

/** Runs at once: for a repository used alone (tests, the CLI) or inside a transaction. */
export const runNow: Exec = <T>(fn: () => T): Promise<T> => {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
};

/** `onError` sees every error and answers the one to throw: the same, or a clearer one (see SqliteStorage). */
export type OnError = (err: unknown) => unknown;

function observed(exec: Exec, onError: OnError | undefined): Exec {
  if (!onError) return exec;
  return <T>(fn: () => T) =>
    exec(fn).catch((err: unknown) => {
      throw onError(err);
    });
}

/**
 * Base of the SQLite adapters: every public method runs its (synchronous) SQL through `exec`, which is immediate
 * for a repository used alone or inside a transaction, and waits for an open transaction otherwise (see SqliteGate).
 */
export abstract class SqliteRepository {
  protected exec: Exec = runNow;

  /** This repository, with its calls waiting while a transaction on the connection is open. */
  gatedBy(gate: SqliteGate, onError?: OnError): this {
    this.exec = observed((fn) => gate.run(fn), onError);
    return this;
  }

  /** A view of this repository that runs at once, for the transaction that holds the connection. */
  unGated(onError?: OnError): this {
    const view = Object.create(this) as this;
    view.exec = observed(runNow, onError);
    return view;
  }
}
