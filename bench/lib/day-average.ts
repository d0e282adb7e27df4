import { systemClock } from '../../src/domain/clock.js';
import { Quality } from '../../src/domain/quality.js';
import type { TagDefinition } from '../../src/domain/tag-definition.js';
import type { HistoryQuery } from '../../src/runtime/history-query.js';
import { TagEngine } from '../../src/runtime/tag-engine.js';
import type { Storage } from '../../src/storage/open.js';

/**
 * The "1 day of 1 s data → 1-minute averages" query the storage benchmarks compare backends with: one logged
 * Float64 tag (`def`; `engine` and `tag` as the history API sees them) and the query over the day starting at `from`.
 */
export function dayAverageQuery(from: number): {
  def: TagDefinition;
  engine: TagEngine;
  tag: ReturnType<TagEngine['require']>;
  q: HistoryQuery;
} {
  const def: TagDefinition = {
    name: 'Line1.Sensor',
    type: 'Float64',
    access: 'read',
    connection: 'bench',
    history: { mode: 'cyclic', intervalMs: 1000 },
  };
  const engine = new TagEngine([def], systemClock);
  const tag = engine.require(def.name);
  const q: HistoryQuery = {
    from,
    to: from + 86_400_000,
    limit: 1000,
    order: 'asc',
    intervalMs: 60_000,
    aggregate: 'avg',
    boundingValues: false,
  };
  return { def, engine, tag, q };
}

/** Stores the day the query reads: one sample a second of a slow sine, in batches of six hours. */
export async function insertDay(storage: Storage, def: TagDefinition, from: number): Promise<void> {
  const id = await storage.history.tagId(def.name);
  for (let h = 0; h < 86_400; h += 21_600) {
    const ts = Array.from({ length: 21_600 }, (_, i) => from + (h + i) * 1000);
    await storage.history.insertBatch({
      count: ts.length,
      tagIds: ts.map(() => id),
      ts,
      values: ts.map((t) => 50 + 40 * Math.sin(t / 600_000)),
      quality: ts.map(() => Quality.GOOD),
    });
  }
}
