import type { ApiPlugin } from '../api/plugin.js';
import type { Authenticator } from '../api/authenticate.js';
import type { Runtime } from '../runtime/runtime.js';
import { pushExtension } from '../api/push/index.js';

/**
 * Capabilities beyond the core (alarms, history, push, audit, extra authentication methods) attach here:
 * each creates its runtime service on the runtime and contributes route plugins and authenticators.
 */
export interface Extensions { plugins: ApiPlugin[]; authenticators: Authenticator[] }

export async function extensions(runtime: Runtime): Promise<Extensions> {
  // Live push (/ws, /events). When the alarm engine exists: pushExtension(runtime, { alarms: engine }).
  const push = pushExtension(runtime);
  return { plugins: [push.plugin], authenticators: [] };
}
