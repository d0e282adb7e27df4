import type { FastifyReply, FastifyRequest } from 'fastify';
import { TagwayError } from '../../../../domain/problems.js';
import type { AlarmFilterSpec } from '../../../../runtime/push/alarm-filter.js';
import { sseEncoder } from '../../../../runtime/push/encoders.js';
import type { PushHub } from '../../../../runtime/push/hub.js';
import { PUSH_CLOSE, type PushSink } from '../../../../runtime/push/types.js';
import type { Principal } from '../../../../auth/principal.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import { currentUser } from '../users/user-info.js';
import { channelOwner, credentialToken } from './owner.js';
import type { SseSettings } from './service.js';

export interface SseQuery extends AlarmFilterSpec {
  tags?: string[] | undefined;
  alarms?: boolean | undefined;
  deadband?: number | undefined;
  deadbandPercent?: number | undefined;
  minIntervalMs?: number | undefined;
  /** For clients that cannot set the Last-Event-ID header on their first request. */
  lastEventId?: string | undefined;
}

function tagList(q: SseQuery['tags']): string[] {
  return (q ?? [])
    .flatMap((p) => p.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseEventId(raw: string | string[] | undefined): number | undefined {
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TagwayError('VALIDATION_FAILED', 'Last-Event-ID must be a non-negative integer event id', {
      errors: [{ field: 'Last-Event-ID', message: 'must be a non-negative integer' }],
    });
  return n;
}

/**
 * `GET /events`: Server-Sent Events over the same hub. Everything that can fail (unknown tag, permission, bad
 * Last-Event-ID) fails before the stream starts, so the client gets a normal problem+json answer.
 */
export function handleSse(
  request: FastifyRequest,
  reply: FastifyReply,
  runtime: Runtime,
  principal: Principal,
  hub: PushHub,
  opts: SseSettings,
  q: SseQuery,
): void {
  const tags = tagList(q.tags);
  const alarms = q.alarms === true;
  if (tags.length === 0 && !alarms) {
    throw new TagwayError('VALIDATION_FAILED', 'Ask for something: tags=… and/or alarms=true', {
      errors: [{ field: 'tags', message: 'required unless alarms=true' }],
    });
  }
  const since = parseEventId(request.headers['last-event-id'] ?? q.lastEventId);
  const raw = reply.raw;
  const sink: PushSink = {
    send: (text) => {
      if (!raw.destroyed && !raw.writableEnded) raw.write(text);
    },
    bufferedAmount: () => raw.writableLength,
    close: (code) => {
      // A client that stopped reading would keep an ended stream open forever behind its unread bytes.
      if (code === PUSH_CLOSE.SLOW_CONSUMER) raw.destroy();
      else if (!raw.writableEnded) raw.end();
      // Nor may a revoked client keep it open by not reading.
      if (code === PUSH_CLOSE.UNAUTHENTICATED || code === PUSH_CLOSE.FORBIDDEN)
        setTimeout(() => {
          // Only a stream still stuck behind unread bytes; a finished one keeps its keep-alive socket.
          if (!raw.writableFinished && !raw.destroyed) raw.destroy();
        }, 1_000).unref();
    },
    onDrain: (listener) => {
      raw.on('drain', listener);
    },
  };
  const conn = hub.connect(sink, sseEncoder, principal.permissions);
  const event = (name: string, data: unknown) => sink.send(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  // Revocation ends the stream with a last `revoked` event (EventSource then reconnects and gets 401 or 403);
  // changed permissions re-scope it in place, announced by a `rescoped` event.
  conn.setOwner(
    channelOwner(
      runtime,
      principal,
      principal.authMethod === 'session' || principal.authMethod === 'jwt' ? credentialToken(request) : undefined,
      {
        revoked: (code, message) => event('revoked', { code: code === PUSH_CLOSE.FORBIDDEN ? 'FORBIDDEN' : 'UNAUTHENTICATED', message }),
        rescoped: (fresh) => event('rescoped', { user: currentUser(fresh), subscriptions: conn.tagCounts() }),
      },
    ),
  );
  try {
    if (tags.length > 0)
      conn.subscribe('values', { tags, deadband: q.deadband, deadbandPercent: q.deadbandPercent, minIntervalMs: q.minIntervalMs });
    if (alarms) {
      const filter: AlarmFilterSpec = {
        class: q.class,
        minPriority: q.minPriority,
        maxPriority: q.maxPriority,
        tag: q.tag,
        alarm: q.alarm,
        state: q.state,
      };
      conn.subscribeAlarms('alarms', filter, { sinceEventId: since });
    }
  } catch (err) {
    conn.dispose();
    throw err;
  }
  // From here on the stream is ours; the hub's first flush runs on the next tick, after the headers.
  reply.hijack();
  const headers: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v as string | number | string[];
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // nginx buffers responses by default, which would hold events back.
    'x-accel-buffering': 'no',
  });
  raw.write(`retry: ${opts.retryMs}\n: connected\n\n`);
  const keepAlive = setInterval(() => sink.send(': keep-alive\n\n'), opts.keepAliveMs);
  keepAlive.unref();
  request.raw.socket.setNoDelay(true);
  const end = () => {
    clearInterval(keepAlive);
    conn.dispose();
  };
  raw.on('close', end);
  request.raw.on('close', end);
}
