import type { RolledSeries, Rollup, RollupField, RollupPlan } from '../../domain/history/rollup.js';
import type { Series } from '../../domain/history/series.js';
import type { HistoryRepository, RawPage, RawQuery, Sample, SampleBatch } from '../history-repository.js';
import type { Database } from './database.js';
import { SqliteHistoryStore } from './history-store.js';
import { SqliteRepository } from './repository.js';

/** History behind its async interface; the SQL lives in `SqliteHistoryStore`. */
export class SqliteHistoryRepository extends SqliteRepository implements HistoryRepository {
  readonly store: SqliteHistoryStore;

  constructor(db: Database) {
    super();
    this.store = new SqliteHistoryStore(db);
  }

  tagId(name: string): Promise<number> {
    return this.exec(() => this.store.tagId(name));
  }
  findTagId(name: string): Promise<number | undefined> {
    return this.exec(() => this.store.findTagId(name));
  }
  listTags(): Promise<{ id: number; name: string }[]> {
    return this.exec(() => this.store.listTags());
  }
  insertBatch(batch: SampleBatch): Promise<void> {
    return this.exec(() => this.store.insertBatch(batch));
  }
  raw(tagId: number, q: RawQuery): Promise<RawPage> {
    return this.exec(() => this.store.raw(tagId, q));
  }
  series(tagId: number, from: number, to: number, maxSamples?: number): Promise<Series> {
    return this.exec(() => this.store.series(tagId, from, to, maxSamples));
  }
  rolledSeries(tagId: number, plan: RollupPlan, maxRows?: number, fields?: ReadonlySet<RollupField>): Promise<RolledSeries> {
    return this.exec(() => this.store.rolledSeries(tagId, plan, maxRows, fields));
  }
  rollups(tagId: number, from: number, to: number): Promise<Rollup[]> {
    return this.exec(() => this.store.rollups(tagId, from, to));
  }
  lastBefore(tagId: number, t: number): Promise<Sample | undefined> {
    return this.exec(() => this.store.lastBefore(tagId, t));
  }
  firstAtOrAfter(tagId: number, t: number): Promise<Sample | undefined> {
    return this.exec(() => this.store.firstAtOrAfter(tagId, t));
  }
  prune(tagId: number, before: number, maxRows: number): Promise<number> {
    return this.exec(() => this.store.prune(tagId, before, maxRows));
  }
  /** Tag ids created by a rolled-back unit of work must not stay cached. */
  afterRollback(): void {
    this.store.forgetIds();
  }
}
