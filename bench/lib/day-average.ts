import { systemClock } from '../../src/domain/clock.js';
import type { TagDefinition } from '../../src/domain/tag-definition.js';
import type { HistoryQuery } from '../../src/runtime/history-query.js';
import { TagEngine } from '../../src/runtime/tag-engine.js';

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
