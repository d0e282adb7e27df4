import { alarmRoutes } from '../api/alarms/routes.js';
import type { ApiPlugin } from '../api/plugin.js';
import type { Authenticator } from '../api/authenticate.js';
import { createAlarmEngine } from '../runtime/alarms/setup.js';
import type { Runtime } from '../runtime/runtime.js';
import { pushExtension } from '../api/push/index.js';
import { attachHistory } from './history.js';

/**
 * Capabilities beyond the core (alarms, history, push, audit, extra authentication methods) attach here:
 * each creates its runtime service on the runtime and contributes route plugins and authenticators.
 */
export interface Extensions { plugins: ApiPlugin[]; authenticators: Authenticator[] }

export async function extensions(runtime: Runtime): Promise<Extensions> {
  const alarms = createAlarmEngine(runtime);
  // Tag logging (historian) and /tags/{name}/history, /history/query.
  const history = attachHistory(runtime);
  // Live push (/ws, /events): tag values, and the alarm engine's committed journal events.
  const push = pushExtension(runtime, { alarms });
  return { plugins: [alarmRoutes(alarms), history.plugin, push.plugin], authenticators: [] };
}
