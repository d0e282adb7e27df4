import { historyRoutes } from '../adapters/http/rest/history/routes.js';
import type { ApiPlugin } from '../adapters/http/rest/plugin.js';
import { Historian, type HistorianOptions } from '../runtime/historian.js';
import { HistoryQueries } from '../runtime/history-query.js';
import type { Runtime } from '../runtime/runtime.js';
import { HistoryService, MAX_TAGS_PER_QUERY } from '../services/history-service.js';

export interface HistoryCapability {
  historian: Historian;
  queries: HistoryQueries;
  service: HistoryService;
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
  const service = new HistoryService(queries, runtime.clock, {
    maxSamples: runtime.config.maxHistorySamples,
    maxConcurrent: runtime.config.maxConcurrentHistory,
    maxTags: MAX_TAGS_PER_QUERY,
  });
  return { historian, queries, service, plugin: historyRoutes(service) };
}
