import { historyRoutes } from '../adapters/http/rest/history/routes.js';
import type { ApiPlugin } from '../adapters/http/rest/plugin.js';
import { Historian, type HistorianOptions } from '../runtime/historian.js';
import { HistoryQueries } from '../runtime/history-query.js';
import type { Runtime } from '../runtime/runtime.js';

export interface HistoryCapability {
  historian: Historian;
  queries: HistoryQueries;
  plugin: ApiPlugin;
}

/**
 * Tag logging and the history API on a runtime: the store on the runtime's database, the historian started
 * now (it logs each history tag's current state as its first point) and stopped — buffer flushed — by the
 * runtime's shutdown before the database closes.
 */
export function attachHistory(runtime: Runtime, opts: HistorianOptions = {}): HistoryCapability {
  const store = runtime.storage.history;
  const historian = new Historian(runtime.tags, store, runtime.clock, { logger: runtime.logger.child({ service: 'historian' }), ...opts });
  const queries = new HistoryQueries(runtime.tags, store, historian, runtime.clock);
  historian.start();
  runtime.onStop(() => historian.stop());
  return { historian, queries, plugin: historyRoutes(queries, runtime.clock) };
}
