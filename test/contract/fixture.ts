/**
 * What a backend hands a contract suite: a fresh, empty repository, and how to dispose of it. `reopen` (optional)
 * closes the store and opens the same data again, for the promises that must hold across a restart.
 */
export interface Fixture<R> {
  repo: R;
  close(): Promise<void>;
  reopen?: (() => Promise<R>) | undefined;
}

export type FixtureFactory<R> = () => Promise<Fixture<R>>;
