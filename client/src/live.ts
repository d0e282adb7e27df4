import type { AlarmEvent, CurrentUser, TagValue } from './types.js';

/** The part of a WebSocket the live client uses: the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** A tag value as a screen should show it: `stale` while the connection is down (never shown as fresh). */
export interface LiveValue extends TagValue {
  stale: boolean;
}

export type LiveStatus = 'connecting' | 'open' | 'reconnecting' | 'unauthenticated' | 'closed';

export interface LiveOptions {
  /** `wss://host:port/ws` (with the base path). Default in a browser: this page's origin. */
  url?: string;
  /** The credential for the first message (session token or JWT); undefined = the upgrade's cookie authenticates. */
  token?: () => string | undefined;
  /** Opens a socket (Node: `(url) => new WebSocket(url, { ca })` from the `ws` package). Default: the global WebSocket. */
  createSocket?: (url: string) => SocketLike;
  /** Reconnect back-off: first delay and ceiling in ms (doubling, with ±50 % jitter so clients do not return in step). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** For tests: a random source. */
  random?: () => number;
}

interface TagSub {
  kind: 'tags';
  tags: string[];
  options: { deadband?: number; minIntervalMs?: number };
  listener: (values: LiveValue[]) => void;
  /** Tags this subscription has delivered (marked stale on disconnect). */
  seen: Set<string>;
}
interface AlarmSub {
  kind: 'alarms';
  filter: Record<string, unknown>;
  listener: (event: AlarmEvent) => void;
  /** Events may have been missed (reconnect, server overflow): reload the current alarms. */
  onResync?: (() => void) | undefined;
}

const OPEN = 1;

/**
 * A live connection to `/ws`: subscriptions survive reconnects. On every (re)connect it authenticates again,
 * re-subscribes everything, and the server's first answer to each subscription is the current value of every tag,
 * so screens catch up; alarm subscribers are told to resync. While disconnected every delivered value is re-sent
 * to its listeners with `stale: true`.
 */
export class LiveClient {
  status: LiveStatus = 'closed';
  /** The user the socket is authenticated as. */
  user: CurrentUser | undefined;
  /** How many times the socket has (re)connected and authenticated. */
  connects = 0;
  private socket: SocketLike | undefined;
  private readonly subs = new Map<string, TagSub | AlarmSub>();
  private readonly values = new Map<string, LiveValue>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  private readonly userListeners = new Set<(u: CurrentUser) => void>();
  private nextId = 1;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private authenticated = false;

  constructor(private readonly opts: LiveOptions = {}) {}

  /** Opens the socket (and keeps it open until `close()`). Idempotent. */
  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.connect();
    return this;
  }

  /** Closes for good (sign-out): no reconnect. */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = undefined;
    s?.close(1000, 'closed by client');
    this.markStale();
    this.setStatus('closed');
  }

  /** Drops the socket as a network failure would (tests, "reconnect now"): the client reconnects by itself. */
  dropConnection(): void {
    this.socket?.close(4000, 'dropped by client');
  }

  /** After `refresh()` ended the old session: authenticate the open socket with the new token (subscriptions stay). */
  reauth(): void {
    const token = this.opts.token?.();
    if (token && this.authenticated) this.send({ type: 'auth', token });
  }

  /** The user as the server sees them now: after each authentication and when their permissions change (`rescoped`). */
  onUser(listener: (u: CurrentUser) => void): () => void {
    this.userListeners.add(listener);
    return () => this.userListeners.delete(listener);
  }

  private setUser(u: CurrentUser): void {
    this.user = u;
    for (const l of this.userListeners) l(u);
  }

  onStatus(listener: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** The last value of a tag received by any subscription. */
  value(name: string): LiveValue | undefined {
    return this.values.get(name);
  }

  /** Tag names or globs; the listener gets batches of values (the current ones first). Returns the unsubscribe. */
  subscribeTags(tags: string[], listener: (values: LiveValue[]) => void, options: TagSub['options'] = {}): () => void {
    const id = `t${this.nextId++}`;
    const sub: TagSub = { kind: 'tags', tags, options, listener, seen: new Set() };
    this.subs.set(id, sub);
    this.sendSub(id, sub);
    return () => this.unsubscribe(id);
  }

  /** Alarm events with the filters of `GET /alarms/current` plus `event`. Returns the unsubscribe. */
  subscribeAlarms(filter: Record<string, unknown>, listener: (e: AlarmEvent) => void, onResync?: () => void): () => void {
    const id = `a${this.nextId++}`;
    const sub: AlarmSub = { kind: 'alarms', filter, listener, onResync };
    this.subs.set(id, sub);
    this.sendSub(id, sub);
    return () => this.unsubscribe(id);
  }

  private unsubscribe(id: string): void {
    if (!this.subs.delete(id)) return;
    if (this.authenticated) this.send({ type: 'unsubscribe', id });
  }

  private sendSub(id: string, sub: TagSub | AlarmSub): void {
    if (!this.authenticated) return;
    if (sub.kind === 'tags') this.send({ type: 'subscribe', id, tags: sub.tags, ...sub.options });
    else this.send({ type: 'subscribeAlarms', id, ...sub.filter });
  }

  private send(msg: Record<string, unknown>): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(msg));
  }

  private setStatus(s: LiveStatus): void {
    if (this.status === s) return;
    this.status = s;
    for (const l of this.statusListeners) l(s);
  }

  private defaultUrl(): string {
    const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
    if (!loc) throw new Error('LiveClient needs `url` outside a browser');
    const base = (globalThis as { document?: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document
      ?.querySelector('meta[name="tagway-base"]')
      ?.getAttribute('content');
    return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${base ?? ''}/ws`;
  }

  private connect(): void {
    if (this.stopped) return;
    this.setStatus(this.connects === 0 ? 'connecting' : 'reconnecting');
    const create =
      this.opts.createSocket ??
      ((url: string) => new (globalThis as unknown as { WebSocket: new (u: string) => SocketLike }).WebSocket(url));
    let s: SocketLike;
    try {
      s = create(this.opts.url ?? this.defaultUrl());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    this.authenticated = false;
    s.onopen = () => {
      const token = this.opts.token?.();
      // Without a token the upgrade's cookie authenticates and the server says so at once.
      if (token) s.send(JSON.stringify({ type: 'auth', token }));
    };
    s.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.handle(JSON.parse(ev.data) as Record<string, unknown>);
    };
    s.onerror = () => undefined;
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.authenticated = false;
      this.markStale();
      if (this.stopped) return;
      if (ev.code === 4401 || ev.code === 4403) {
        // Credentials gone or rights revoked: retrying would only be refused again; the app signs in anew.
        this.stopped = true;
        this.setStatus('unauthenticated');
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.setStatus('reconnecting');
    const initial = this.opts.backoff?.initialMs ?? 500;
    const max = this.opts.backoff?.maxMs ?? 15_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.attempt, 16));
    const delay = base * (0.5 + (this.opts.random ?? Math.random)());
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private handle(msg: Record<string, unknown>): void {
    switch (msg.type) {
      case 'authenticated': {
        const first = !this.authenticated;
        this.authenticated = true;
        this.setUser(msg.user as CurrentUser);
        if (!first) return; // a renewed token on the open socket: subscriptions stay
        this.attempt = 0;
        this.connects++;
        this.setStatus('open');
        for (const [id, sub] of this.subs) {
          this.sendSub(id, sub);
          // Alarm events of the gap are not replayed over /ws: whoever shows alarms reloads them.
          if (sub.kind === 'alarms' && this.connects > 1) sub.onResync?.();
        }
        return;
      }
      case 'values': {
        const sub = this.subs.get(msg.id as string);
        const items = (msg.items as TagValue[]).map((v) => {
          const live: LiveValue = { ...v, stale: false };
          this.values.set(v.name, live);
          return live;
        });
        if (sub?.kind === 'tags') {
          for (const v of items) sub.seen.add(v.name);
          sub.listener(items);
        }
        return;
      }
      case 'alarm': {
        const sub = this.subs.get(msg.id as string);
        if (sub?.kind === 'alarms') sub.listener(msg.event as AlarmEvent);
        return;
      }
      case 'resync': {
        const sub = this.subs.get(msg.id as string);
        if (sub?.kind === 'alarms') sub.onResync?.();
        return;
      }
      case 'rescoped':
        this.setUser(msg.user as CurrentUser);
        return;
      default:
        return;
    }
  }

  /** Every value delivered so far, re-sent to its subscribers as stale. */
  private markStale(): void {
    for (const [name, v] of this.values) if (!v.stale) this.values.set(name, { ...v, stale: true });
    for (const sub of this.subs.values()) {
      if (sub.kind !== 'tags' || sub.seen.size === 0) continue;
      const stale: LiveValue[] = [];
      for (const n of sub.seen) {
        const v = this.values.get(n);
        if (v) stale.push(v);
      }
      sub.listener(stale);
    }
  }
}
