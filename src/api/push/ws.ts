import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { TagwayError } from '../../domain/problems.js';
import type { PushConnection } from '../../runtime/push/connection.js';
import { wsEncoder } from '../../runtime/push/encoders.js';
import type { PushHub } from '../../runtime/push/hub.js';
import { PUSH_CLOSE, type PushSink } from '../../runtime/push/types.js';
import { messageId, parseClientMessage, type ClientMessage } from './messages.js';
import { userJson, type PushPrincipal, type PushRuntime } from './port.js';
import { writeItems } from './write.js';

export const SESSION_COOKIE = 'tagway_session';

export interface WsOptions {
  /** A socket that has not authenticated after this long is closed. Default 10 s. */
  authTimeoutMs: number;
  /** How often the session behind a socket is checked (logout, expiry). Default 60 s. */
  revalidateMs: number;
  /** Protocol ping interval; a socket that misses a pong for a whole interval is dead and terminated. Default 30 s. */
  heartbeatMs: number;
}

const OPEN = 1;

/** A ws socket as the hub sees it. */
export function wsSink(ws: WebSocket): PushSink {
  return {
    send: (text) => { if (ws.readyState === OPEN) ws.send(text); },
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => {
      ws.close(code, reason);
      // A client that stopped reading never answers the close frame, which is queued behind what it did not
      // read; do not wait the library's 30 s for it.
      if (code === PUSH_CLOSE.SLOW_CONSUMER) setTimeout(() => ws.terminate(), 1_000).unref();
    },
  };
}

/** Credentials sent with the upgrade request itself: a Bearer header, or the session cookie from our own origin. */
function upgradeToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (h && /^Bearer\s/i.test(h)) return h.slice(7).trim();
  const cookie = (request as { cookies?: Record<string, string | undefined> }).cookies?.[SESSION_COOKIE];
  if (cookie) {
    // Browsers send cookies on cross-site WebSocket upgrades unless SameSite stops them, and WebSocket has no
    // CORS: accept the cookie only from a page of this server (cross-site WebSocket hijacking).
    const origin = request.headers.origin;
    if (origin !== undefined) {
      let host: string | undefined;
      try { host = new URL(origin).host; } catch { host = undefined; }
      if (host !== request.headers.host) return undefined;
    }
    return cookie;
  }
  return undefined;
}

/**
 * One WebSocket client: authentication (upgrade credentials or a first `auth` message, again on the open socket
 * when a token is refreshed), the JSON protocol, and the hub connection once authenticated. Protocol pings from
 * the client are answered by the ws library itself.
 */
export function handleSocket(ws: WebSocket, request: FastifyRequest, runtime: PushRuntime, hub: PushHub, opts: WsOptions): void {
  const sink = wsSink(ws);
  let principal: PushPrincipal | undefined;
  let token: string | undefined;
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

  const authenticate = (t: string): boolean => {
    const p = runtime.sessions.authenticate(t);
    if (!p) return false;
    principal = p;
    token = t;
    if (conn) conn.setPermissions(p.permissions);
    else conn = hub.connect(sink, wsEncoder, p.permissions);
    send({ type: 'authenticated', user: userJson(p) });
    return true;
  };

  const authTimer = setTimeout(() => { if (!principal) refuse('authentication required: send {"type":"auth","token"} first'); }, opts.authTimeoutMs);
  authTimer.unref();
  const revalidate = setInterval(() => {
    if (token !== undefined && !runtime.sessions.authenticate(token)) refuse('session ended: log in again');
  }, opts.revalidateMs);
  revalidate.unref();
  const heartbeat = setInterval(() => {
    if (!alive) { ws.terminate(); return; }
    alive = false;
    ws.ping();
  }, opts.heartbeatMs);
  heartbeat.unref();
  ws.on('pong', () => { alive = true; });

  ws.on('close', () => {
    clearTimeout(authTimer);
    clearInterval(revalidate);
    clearInterval(heartbeat);
    conn?.dispose();
    conn = undefined;
  });
  ws.on('error', (err) => log.debug({ err }, 'websocket error'));

  const upgrade = upgradeToken(request);
  if (upgrade !== undefined && !authenticate(upgrade)) {
    refuse('the session token is unknown, expired or revoked; log in again');
    return;
  }

  ws.on('message', (data, isBinary) => {
    if (isBinary) { sendError(undefined, new TagwayError('UNSUPPORTED_MEDIA_TYPE', 'Messages are JSON text frames')); return; }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let msg: ClientMessage;
    try { msg = parseClientMessage(text); } catch (err) {
      let id: string | undefined;
      try { id = messageId(JSON.parse(text)); } catch { id = undefined; }
      if (!principal) { refuse('authentication required: send {"type":"auth","token"} first'); return; }
      sendError(id, err);
      return;
    }
    if (msg.type === 'auth') {
      if (!authenticate(msg.token)) {
        if (!principal) refuse('the token is unknown, expired or revoked; log in again');
        // A failed refresh on a live socket keeps the session it has; the periodic check ends it if that expired.
        else sendError(undefined, new TagwayError('UNAUTHENTICATED', 'The token is unknown, expired or revoked'));
      }
      return;
    }
    if (!principal || !conn) { refuse('authentication required: send {"type":"auth","token"} first'); return; }
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
          const p = principal;
          const id = msg.id;
          writeItems(runtime.tags, p, msg.items, { user: p.username, clientAddress: request.ip })
            .then((items) => send({ type: 'written', id, items }), (err: unknown) => sendError(id, err));
          break;
        }
      }
    } catch (err) {
      sendError(msg.id, err);
    }
  });
}
