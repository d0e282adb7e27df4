import { alarmRoutes } from '../api/alarms/routes.js';
import type { ApiPlugin } from '../api/plugin.js';
import type { Authenticator } from '../api/authenticate.js';
import { createAlarmEngine } from '../runtime/alarms/setup.js';
import type { Runtime } from '../runtime/runtime.js';
import { attachHistory } from './history.js';

/**
 * Capabilities beyond the core (alarms, history, push, audit, extra authentication methods) attach here:
 * each creates its runtime service on the runtime and contributes route plugins and authenticators.
 */
export interface Extensions { plugins: ApiPlugin[]; authenticators: Authenticator[] }

export async function extensions(runtime: Runtime): Promise<Extensions> {
  const alarms = createAlarmEngine(runtime);
  const history = attachHistory(runtime);
  return { plugins: [alarmRoutes(alarms), history.plugin], authenticators: [] };
}
