import type { ApiPlugin } from '../plugin.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import type { AlarmEventSource, PushHubOptions } from '../../../../runtime/push/types.js';
import { pushRoutes } from './routes.js';
import { createPushService, type PushService } from './service.js';

/**
 * Live push, wired by the composition root (src/main.ts): creates the runtime's push hub and contributes the
 * `/ws` and `/events` routes. Plug the alarm engine in with `service.hub.setAlarmSource(engine)` whenever it
 * exists (before or after clients connect).
 */
export function pushExtension(
  runtime: Runtime,
  opts: { hub?: PushHubOptions; alarms?: AlarmEventSource } = {},
): { plugin: ApiPlugin; service: PushService } {
  const service = createPushService(runtime, opts.hub);
  if (opts.alarms) service.hub.setAlarmSource(opts.alarms);
  return { plugin: pushRoutes(service), service };
}

export { type PushService } from './service.js';
