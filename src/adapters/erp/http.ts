import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { OUTBOX_MAX_ANSWER } from '../../storage/outbox-repository.js';
import { parseRetryAfter, type SendResult } from '../../runtime/exports/types.js';

/** Most of an answer read (a token response, an error page); the rest is discarded unread. */
const MAX_READ = 64 * 1024;

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One kept-alive connection per target origin (TLS handshake once, session resumed on a reconnect), TLS
 * verification always on; `ca` adds a private CA (PEM file) for ERPs behind a company CA. Timeouts are wall-clock,
 * per request (headers and body). With `inFlight` > 1 requests are pipelined on that one connection, so that they
 * reach the receiver in the order they were sent.
 */
export class TargetHttp {
  private readonly agent: Agent;
  constructor(
    readonly timeoutMs: number,
    ca?: string | undefined,
    inFlight = 1,
  ) {
    this.agent = new Agent({
      connect: { ...(ca ? { ca: readFileSync(ca, 'utf8') } : {}), rejectUnauthorized: true, timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 30_000,
      // One connection: several would let a later request overtake an earlier one on the way to the receiver.
      connections: 1,
      pipelining: Math.max(1, inFlight),
    });
  }

  /** Throws on network errors and timeouts. */
  async call(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<HttpAnswer> {
    const r = await request(url, {
      method,
      headers,
      body,
      dispatcher: this.agent,
      // Safe to pipeline and to resend after a broken connection: every booking carries its Idempotency-Key, and
      // token and CSRF fetches change nothing.
      idempotent: true,
      // undici holds the next request of a connection until this one's headers came back unless told otherwise:
      // without this, `inFlight` would only overlap the reading of answers, not the requests.
      blocking: false,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of r.body as AsyncIterable<Buffer>) {
      if (size < MAX_READ) chunks.push(c);
      size += c.length;
      if (size >= MAX_READ) {
        r.body.destroy();
        break;
      }
    }
    return { status: r.statusCode, headers: r.headers, text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_READ) };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function header(h: HttpAnswer['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function resultOf(a: HttpAnswer): SendResult {
  return {
    status: a.status,
    answer: a.text.slice(0, OUTBOX_MAX_ANSWER),
    retryAfterMs: parseRetryAfter(header(a.headers, 'retry-after'), Date.now()),
  };
}

export function networkResult(err: unknown, what = ''): SendResult {
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : (e.cause?.code ?? e.code ?? e.message);
  return { status: null, answer: `${what}${why}: ${e.cause?.message ?? e.message}`.slice(0, OUTBOX_MAX_ANSWER) };
}

/**
 * Fills a `map:` from a report: a value that is exactly one `{placeholder}` keeps the JSON type of what it names
 * (a number stays a number), `{placeholder:string}` makes it a string (OData V2 writes Edm.Decimal as a string);
 * placeholders inside text are written into it; anything else is a constant.
 */
export function applyMap(map: Record<string, string | number | boolean>, vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') out[k] = v;
    else {
      const whole = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
      out[k] = whole
        ? (vars[whole[1]!] ?? null)
        : v.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::string)?\}/g, (_, n: string) => String(vars[n] ?? ''));
    }
  }
  return out;
}
