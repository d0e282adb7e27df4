import { alarmRoutes } from '../api/alarms/routes.js';
import type { ApiPlugin } from '../api/plugin.js';
import type { Authenticator } from '../api/authenticate.js';
import { createAlarmEngine } from '../runtime/alarms/setup.js';
import type { Runtime } from '../runtime/runtime.js';
import { adminRoutes } from '../api/admin/routes.js';
import { auditRoutes } from '../api/audit/routes.js';
import { pushExtension } from '../api/push/index.js';
import { securityAuthenticators } from '../api/security/authenticators.js';
import { tokenRoutes } from '../api/security/token-routes.js';
import { attachHistory } from './history.js';

/**
 * Capabilities beyond the core (alarms, history, push, audit, extra authentication methods) attach here:
 * each creates its runtime service on the runtime and contributes route plugins and authenticators.
 */
export interface Extensions { plugins: ApiPlugin[]; authenticators: Authenticator[] }

export async function extensions(runtime: Runtime): Promise<Extensions> {
  const alarms = createAlarmEngine(runtime);
  runtime.onStop(runtime.security.audit.attachToAlarms(alarms));
  // Tag logging (historian) and /tags/{name}/history, /history/query.
  const history = attachHistory(runtime);
  // Live push (/ws, /events): tag values, and the alarm engine's committed journal events.
  const push = pushExtension(runtime, { alarms });
  return {
    plugins: [alarmRoutes(alarms), history.plugin, push.plugin, tokenRoutes, auditRoutes, adminRoutes],
    authenticators: [...securityAuthenticators],
  };
}
