import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Principal } from '../../../../auth/principal.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { PushConnection } from '../../../../runtime/push/connection.js';
import { wsEncoder } from '../../../../runtime/push/encoders.js';
import type { PushHub } from '../../../../runtime/push/hub.js';
import { PUSH_CLOSE, type PushSink } from '../../../../runtime/push/types.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import type { TagService } from '../../../../services/tag-service.js';
import { defaultAuthenticators, sessionCookie } from '../authenticate.js';
import { securityAuthenticators } from '../security/authenticators.js';
import { currentUser } from '../users/user-info.js';
import { messageId, parseClientMessage, type ClientMessage } from './messages.js';
import { channelOwner, credentialToken, principalOfToken } from './owner.js';
import type { WsSettings } from './service.js';

const OPEN = 1;

/** A ws socket as the hub sees it. */
export function wsSink(ws: WebSocket): PushSink {
  return {
    send: (text) => {
      if (ws.readyState === OPEN) ws.send(text);
    },
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => {
      // A close frame's reason has at most 123 bytes.
      ws.close(code, reason.slice(0, 120));
      // A client that stopped reading never answers the close frame, which is queued behind what it did not
      // read; do not wait the library's 30 s for it. Nor for a client whose rights were revoked.
      if (code === PUSH_CLOSE.SLOW_CONSUMER || code === PUSH_CLOSE.UNAUTHENTICATED || code === PUSH_CLOSE.FORBIDDEN)
        setTimeout(() => ws.terminate(), 1_000).unref();
    },
    // ws has no public drain event; its underlying socket does (ws 8 keeps it in `_socket`).
    onDrain: (listener) => {
      (ws as unknown as { _socket?: { on(e: 'drain', l: () => void): void } })._socket?.on('drain', listener);
    },
  };
}

/**
 * Browsers send cookies on cross-site WebSocket upgrades unless SameSite stops them, and WebSocket has no CORS:
 * a cookie-authenticated upgrade must come from a page of this server (cross-site WebSocket hijacking).
 */
function foreignOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/** Credentials sent with the upgrade request itself (Bearer header or session cookie), through the API's own authenticators. */
async function upgradePrincipal(request: FastifyRequest, runtime: Runtime): Promise<Principal | undefined> {
  if (!request.headers.authorization && sessionCookie(request) !== undefined && foreignOrigin(request)) {
    throw new TagwayError('UNAUTHENTICATED', 'cross-origin WebSocket with a session cookie refused; send the token in an auth message');
  }
  // Every method the HTTP API accepts (session, cookie, Basic, JWT) also opens a socket.
  for (const a of [...defaultAuthenticators, ...securityAuthenticators]) {
    const p = await a(request, runtime);
    if (p) return p;
  }
  return undefined;
}

function sameGrants(a: Principal, b: Principal): boolean {
  return JSON.stringify(a.permissions.grants) === JSON.stringify(b.permissions.grants);
}

/**
 * One WebSocket client: authentication (upgrade credentials or a first `auth` message, again on the open socket
 * when a token is refreshed), the JSON protocol, and the hub connection once authenticated. Protocol pings from
 * the client are answered by the ws library itself.
 */
export function handleSocket(
  ws: WebSocket,
  request: FastifyRequest,
  runtime: Runtime,
  tags: TagService,
  hub: PushHub,
  opts: WsSettings,
): void {
  const sink = wsSink(ws);
  let principal: Principal | undefined;
  let conn: PushConnection | undefined;
  let alive = true;
  const log = request.log;

  const send = (msg: Record<string, unknown>) => sink.send(JSON.stringify(msg));
  const sendError = (id: string | undefined, err: unknown) => {
    const te = err instanceof TagwayError ? err : new TagwayError('INTERNAL_ERROR', 'The request failed unexpectedly');
    if (!(err instanceof TagwayError)) log.error({ err }, 'push message failed');
    send({ type: 'error', id: id ?? null, code: te.code, message: te.message, ...(te.errors ? { errors: te.errors } : {}) });
  };
  const refuse = (message: string) => {
    send({ type: 'error', id: null, code: 'UNAUTHENTICATED', message });
    ws.close(PUSH_CLOSE.UNAUTHENTICATED, message.slice(0, 120));
  };

  const accept = (p: Principal, t: string | undefined) => {
    if (ws.readyState !== OPEN) return;
    const changed = principal === undefined || !sameGrants(principal, p);
    principal = p;
    if (!conn) conn = hub.connect(sink, wsEncoder, p.permissions);
    else if (changed) conn.setPermissions(p.permissions);
    // Revocation (logout, disabled user, changed rights) reaches the socket through its owner, within the event.
    conn.setOwner(
      channelOwner(runtime, p, t, {
        revoked: (code, message) => {
          send({ type: 'error', id: null, code: code === PUSH_CLOSE.FORBIDDEN ? 'FORBIDDEN' : 'UNAUTHENTICATED', message });
          // Frames already received are refused from here on; the hub closes the socket right after this.
          principal = undefined;
          conn = undefined;
        },
        rescoped: (fresh) => {
          principal = fresh;
          send({ type: 'rescoped', user: currentUser(fresh), subscriptions: conn?.tagCounts() ?? {} });
        },
      }),
    );
    send({ type: 'authenticated', user: currentUser(p) });
  };
  const authenticate = async (t: string): Promise<boolean> => {
    const p = await principalOfToken(runtime, t);
    if (!p) return false;
    accept(p, t);
    return true;
  };

  const authTimer = setTimeout(() => {
    if (!principal) refuse('authentication required: send {"type":"auth","token"} first');
  }, opts.authTimeoutMs);
  authTimer.unref();
  const heartbeat = setInterval(() => {
    if (!alive) {
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, opts.heartbeatMs);
  heartbeat.unref();
  ws.on('pong', () => {
    alive = true;
  });

  ws.on('close', () => {
    clearTimeout(authTimer);
    clearInterval(heartbeat);
    conn?.dispose();
    conn = undefined;
  });
  ws.on('error', (err) => log.debug({ err }, 'websocket error'));

  // Messages that arrive while the upgrade's credentials are being checked wait for the check.
  const ready = upgradePrincipal(request, runtime).then(
    (p) => {
      if (p) accept(p, p.authMethod === 'session' || p.authMethod === 'jwt' ? credentialToken(request) : undefined);
      return true;
    },
    (err: unknown) => {
      refuse(err instanceof TagwayError ? err.message : 'authentication failed');
      return false;
    },
  );

  // Messages are handled strictly in order, each after the previous one finished (an `auth` may be async).
  let upgradeOk = true;
  let chain: Promise<void> = ready.then((ok) => {
    upgradeOk = ok;
  });
  ws.on('message', (data, isBinary) => {
    chain = chain.then(() => (upgradeOk ? onMessage(data, isBinary) : undefined)).catch((err: unknown) => sendError(undefined, err));
  });

  async function onMessage(data: unknown, isBinary: boolean): Promise<void> {
    if (isBinary) {
      sendError(undefined, new TagwayError('UNSUPPORTED_MEDIA_TYPE', 'Messages are JSON text frames'));
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data as Buffer[]).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(text);
    } catch (err) {
      let id: string | undefined;
      try {
        id = messageId(JSON.parse(text));
      } catch {
        id = undefined;
      }
      if (!principal) {
        refuse('authentication required: send {"type":"auth","token"} first');
        return;
      }
      sendError(id, err);
      return;
    }
    if (msg.type === 'auth') {
      if (await authenticate(msg.token)) return;
      if (!principal) refuse('the token is unknown, expired or revoked; log in again');
      // A failed refresh on a live socket keeps the session it has; revocation ends it if that one ends.
      else sendError(undefined, new TagwayError('UNAUTHENTICATED', 'The token is unknown, expired or revoked'));
      return;
    }
    if (!principal || !conn) {
      refuse('authentication required: send {"type":"auth","token"} first');
      return;
    }
    try {
      switch (msg.type) {
        case 'subscribe':
          send({ type: 'subscribed', id: msg.id, count: conn.subscribe(msg.id, msg.spec) });
          break;
        case 'subscribeAlarms':
          conn.subscribeAlarms(msg.id, msg.filter);
          send({ type: 'subscribed', id: msg.id });
          break;
        case 'unsubscribe':
          // api.md has no reply for success; an unknown id is an error so that typos show.
          if (!conn.unsubscribe(msg.id)) throw new TagwayError('NOT_FOUND', `No subscription '${msg.id}'`);
          break;
        case 'write': {
          const id = msg.id;
          const actor = { principal, clientAddress: request.ip, requestId: request.id, via: 'ws' as const };
          const release = tags.admitBulk(actor, text.length);
          tags
            .writeMany(actor, msg.items, { perItem: true })
            .then(
              (items) => send({ type: 'written', id, items }),
              (err: unknown) => sendError(id, err),
            )
            .finally(release);
          break;
        }
      }
    } catch (err) {
      sendError(msg.id, err);
    }
  }
}
