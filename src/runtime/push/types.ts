import type { PermissionSet } from '../../domain/permissions.js';

/**
 * The push hub's contracts with the outside: where messages go (PushSink), how they are framed (PushEncoder),
 * and where alarm events come from (AlarmEventSource). Transports (WebSocket, Server-Sent Events) implement the
 * first two as thin adapters; the alarm engine implements the third. Nothing here knows about HTTP.
 */

/** One client's outgoing channel. */
export interface PushSink {
  /** Queues one text message (a WebSocket frame, or a chunk of an event stream). Never throws for a closed peer. */
  send(text: string): void;
  /**
   * Bytes accepted by `send` but not yet handed to the kernel. The only congestion signal the hub needs:
   * a client that reads slowly makes it grow.
   */
  bufferedAmount(): number;
  /** Ends the channel; `code` is a WebSocket close code (SSE adapters ignore it), `reason` says why. */
  close(code: number, reason: string): void;
  /**
   * Optional: calls `listener` whenever the transport's buffer has emptied (a socket's 'drain'). A congested
   * connection then resumes at once instead of at the next congestion poll, which matters for throughput.
   */
  onDrain?(listener: () => void): void;
}

/**
 * How messages are framed for one transport. Every argument is JSON text already (`idJson` is the subscription
 * id as a JSON string, built once per subscription), so framing is concatenation.
 */
export interface PushEncoder {
  /** One batch of value objects of one subscription. */
  values(idJson: string, items: readonly string[]): string;
  /** One alarm archive event of one alarm subscription. */
  alarm(idJson: string, eventId: number, eventJson: string): string;
  /**
   * Alarm events were dropped for this subscription. `undefined` means the transport has no message for it and
   * the hub closes the channel instead (SSE: the client reconnects with Last-Event-ID and replays what it missed).
   */
  resync(idJson: string): string | undefined;
}

/** An alarm archive event, as `GET /alarms/archive` returns it. Loose on purpose, so the engine's type fits. */
export interface AlarmEvent {
  eventId: number;
  id: string | number;
  alarm: string;
  number?: number | undefined;
  class: string;
  priority: number;
  event: string;
  at: string;
  state: string;
  text?: string | undefined;
  tag?: string | null | undefined;
  value?: unknown;
  user?: string | null | undefined;
}

/** What the hub needs of the alarm engine. */
export interface AlarmEventSource {
  /** Live events, in eventId order; returns the unsubscribe function. */
  onEvent(listener: (e: AlarmEvent) => void): () => void;
  /**
   * Stored events with `eventId > eventId`, ascending, at most `limit` (for Last-Event-ID resume). A store that
   * answers later (a promise) is fine: live events are held back until the replay is in.
   */
  eventsSince(eventId: number, limit: number): AlarmEvent[] | Promise<AlarmEvent[]>;
}

/**
 * WebSocket close codes the push layer uses. 4000–4999 is the range RFC 6455 leaves to applications;
 * ours mirror the HTTP status a REST client would have seen, so they are easy to recognise.
 */
export const PUSH_CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  MESSAGE_TOO_BIG: 1009,
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
  /** The client did not read: its send buffer did not drain within the stall timeout. */
  SLOW_CONSUMER: 4408,
  /** SSE only: the stream ends so that the client resumes with Last-Event-ID (never seen on WebSocket). */
  RESYNC: 4409,
} as const;

/** What the hub needs to know of the principal behind a channel (an auth Principal fits). */
export interface ChannelPrincipal {
  username: string;
  groups: readonly string[];
  permissions: PermissionSet;
  /** For session principals: the session's token hash, which `session.revoked` names. */
  sessionId?: string | undefined;
}

/**
 * Who holds a live channel and how to check again that they still may (revocation, runtime/push/revocation.ts).
 * The transport adapter builds it from the credentials the channel was opened with.
 */
export interface ChannelOwner<P extends ChannelPrincipal = ChannelPrincipal> {
  /** The principal as last resolved (revocation keeps it current). */
  principal: P;
  /**
   * Resolves the principal again from the channel's credentials; undefined when they no longer hold (session
   * ended or expired, user disabled or deleted, password changed, API client deleted, token expired).
   */
  recheck(): P | undefined | Promise<P | undefined>;
  /** Before the hub closes the channel for a revocation: the adapter's last word to the client. */
  revoked?(code: number, message: string): void;
  /** After the channel's subscriptions were resolved again for new permissions. */
  rescoped?(principal: P): void;
}

export interface PushHubOptions {
  /** Above this many buffered bytes a connection is congested: changes are coalesced, not sent. Default 256 KiB. */
  highWaterBytes?: number;
  /** A congested connection resumes once its buffer is at or below this. Default 32 KiB. */
  lowWaterBytes?: number;
  /** A connection congested this long without draining to the low-water mark is dropped. Default 30 s. */
  stallTimeoutMs?: number;
  /** How often congested connections are polled for drain and stall. Default 50 ms. */
  congestionCheckMs?: number;
  /** Alarm events held per connection while congested; one more and the client must resync. Default 1,000. */
  maxQueuedAlarmEvents?: number;
  /** Value objects per `values` message; larger batches (a big initial snapshot) are split. Default 1,000. */
  maxBatchItems?: number;
  /** Subscriptions (tags and alarms together) per connection. Default 100. */
  maxSubscriptions?: number;
  /** Characters of tag names and globs held by the subscriptions of one connection. Default 1 Mi. */
  maxPatternCharsPerConnection?: number;
  /** Runs the per-tick flush; default `setImmediate`, so all changes of one tick go out as one message. */
  schedule?: (fn: () => void) => void;
}

export interface PushStats {
  connections: number;
  congested: number;
  subscriptions: number;
  /** Value slots waiting to be sent (coalesced), over all connections. */
  pendingValues: number;
  queuedAlarmEvents: number;
  /** Bytes buffered in all sinks (what the server holds for clients that have not read yet). */
  bufferedBytes: number;
  droppedConnections: number;
  resyncs: number;
  valueMessages: number;
  valueItems: number;
  alarmMessages: number;
}
