import type { PermissionSet } from '../../domain/permissions.js';
import type { Clock } from '../../runtime/clock.js';
import { PushHub } from '../../runtime/push/hub.js';
import type { AlarmEventSource } from '../../runtime/push/types.js';
import type { TagEngine } from '../../runtime/tag-engine.js';

/** Who is connected: the part of the auth module's Principal that push needs. */
export interface PushPrincipal {
  username: string;
  displayName?: string | undefined;
  groups?: readonly string[] | undefined;
  permissions: PermissionSet;
  authMethod?: string | undefined;
  sessionExpiresAt?: number | undefined;
}

/** What the push routes need of the runtime; the Runtime class satisfies it structurally. */
export interface PushRuntime {
  readonly tags: TagEngine;
  readonly clock: Clock;
  readonly sessions: { authenticate(token: string): PushPrincipal | undefined };
  /** The runtime's hub, when it owns one; otherwise the routes create one per runtime. */
  readonly push?: PushHub | undefined;
  /** The alarm engine, when it runs. */
  readonly alarms?: AlarmEventSource | undefined;
  onStop?(hook: () => Promise<void> | void): void;
}

const hubs = new WeakMap<object, PushHub>();

/**
 * The runtime's push hub. A runtime that does not (yet) own one gets one here, closed when the runtime stops,
 * so that the push routes work with nothing else wired.
 */
export function hubFor(runtime: PushRuntime): PushHub {
  if (runtime.push) return runtime.push;
  let hub = hubs.get(runtime);
  if (!hub) {
    hub = new PushHub(runtime.tags, { clock: runtime.clock, alarms: runtime.alarms });
    hubs.set(runtime, hub);
    const h = hub;
    runtime.onStop?.(() => h.close());
  }
  return hub;
}

/** The `user` of the `authenticated` message: the same fields as `GET /users/current`. */
export function userJson(p: PushPrincipal): Record<string, unknown> {
  return {
    username: p.username,
    displayName: p.displayName ?? p.username,
    groups: p.groups ?? [],
    permissions: p.permissions.names(),
    authMethod: p.authMethod ?? 'session',
    sessionExpiresAt: p.sessionExpiresAt === undefined ? null : new Date(p.sessionExpiresAt).toISOString(),
  };
}
