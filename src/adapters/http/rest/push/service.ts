import { PushHub } from '../../../../runtime/push/hub.js';
import { ChannelRevocation } from '../../../../runtime/push/revocation.js';
import type { PushHubOptions } from '../../../../runtime/push/types.js';
import type { Runtime } from '../../../../runtime/runtime.js';

export interface WsSettings {
  /** A socket that has not authenticated after this long is closed. Default 10 s. */
  authTimeoutMs: number;
  /** Protocol ping interval; a socket that misses a pong for a whole interval is dead and terminated. Default 30 s. */
  heartbeatMs: number;
  /** Largest client message in bytes; larger ones close the socket with 1009. Default 1 MiB. */
  maxMessageBytes: number;
}

export interface SseSettings {
  /** A comment line this often keeps proxies from closing an idle stream. Default 15 s. */
  keepAliveMs: number;
  /** Tells EventSource how long to wait before reconnecting. Default 3 s. */
  retryMs: number;
}

/** The push service of one runtime: the hub and the transport settings, read at each new connection. */
export interface PushService {
  hub: PushHub;
  /** Ends or re-scopes channels whose principal lost a right (runtime events), and re-checks them every 60 s. */
  revocation: ChannelRevocation;
  ws: WsSettings;
  sse: SseSettings;
}

/**
 * The push service of one runtime: the hub (created here, by the composition root's call, once), its revocation,
 * and the transport settings, read at each new connection. Closed when the runtime stops.
 */
export function createPushService(runtime: Runtime, hubOptions: PushHubOptions = {}): PushService {
  const hub = new PushHub(runtime.tags, { clock: runtime.clock, ...hubOptions });
  const revocation = new ChannelRevocation(hub, runtime.events);
  runtime.onStop(() => {
    revocation.stop();
    hub.close();
  });
  return {
    hub,
    revocation,
    ws: { authTimeoutMs: 10_000, heartbeatMs: 30_000, maxMessageBytes: 1024 * 1024 },
    sse: { keepAliveMs: 15_000, retryMs: 3_000 },
  };
}
