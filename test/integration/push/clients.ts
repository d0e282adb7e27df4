import { fetch, type Agent } from 'undici';
import { WebSocket } from 'ws';
import { waitUntil } from '../../helpers/wait.js';

type Msg = Record<string, unknown> & { type: string };

/** Waits until `probe` answers anything but undefined (false and 0 count as answers). */
export function until<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  return waitUntil(
    () => {
      const v = probe();
      return v === undefined ? undefined : { v };
    },
    what,
    timeoutMs,
    10,
  ).then((box) => box.v);
}

/** A real ws client that records every message and its close. */
export class WsClient {
  messages: Msg[] = [];
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.messages.push(JSON.parse(String(d)) as Msg));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    ws.on('error', () => {
      /* the close event reports it */
    });
  }

  static async open(url: string, ca: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const ws = new WebSocket(url, { ca, headers });
    const c = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('close', () => resolve());
    });
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first message (from index `from`) that matches. */
  waitFor(pred: (m: Msg) => boolean, what = 'a message', from = 0): Promise<Msg> {
    return until(() => this.messages.slice(from).find(pred), what);
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    return until(() => this.closed, 'close');
  }

  /** Latest value received per tag over all `values` messages. */
  latest(): Map<string, unknown> {
    const m = new Map<string, unknown>();
    for (const msg of this.messages)
      if (msg.type === 'values') for (const it of msg.items as Array<{ name: string; value: unknown }>) m.set(it.name, it.value);
    return m;
  }

  /** `[name, value]` of every value item received, in order. */
  values(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const msg of this.messages)
      if (msg.type === 'values') for (const it of msg.items as Array<{ name: string; value: unknown }>) out.push([it.name, it.value]);
    return out;
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** An SSE client over undici fetch: parses the stream into events as they arrive. */
export class SseClient {
  events: SseEvent[] = [];
  comments = 0;
  ended = false;
  private constructor(private readonly abort: AbortController) {}

  static async open(
    url: string,
    agent: Agent,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; client: SseClient; body?: unknown }> {
    const abort = new AbortController();
    const res = await fetch(url, { dispatcher: agent, headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const client = new SseClient(abort);
    if (res.status !== 200) return { status: res.status, client, body: await res.json() };
    void client.read(res.body!);
    return { status: 200, client };
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message',
            id: string | undefined,
            data = '',
            isComment = true;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            isComment = false;
            const [k, ...rest] = line.split(':');
            const v = rest.join(':').replace(/^ /, '');
            if (k === 'event') event = v;
            else if (k === 'id') id = v;
            else if (k === 'data') data += v;
          }
          if (isComment) this.comments++;
          else if (data !== '') this.events.push({ event, id, data });
        }
      }
    } catch {
      /* aborted */
    }
    this.ended = true;
  }

  waitFor(pred: (e: SseEvent) => boolean, what = 'an event'): Promise<SseEvent> {
    return until(() => this.events.find(pred), what);
  }

  waitCount(pred: (e: SseEvent) => boolean, n: number): Promise<SseEvent[]> {
    return until(() => {
      const l = this.events.filter(pred);
      return l.length >= n ? l : undefined;
    }, `${n} events`);
  }

  close(): void {
    this.abort.abort();
  }
}
