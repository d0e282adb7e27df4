import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTls } from '../../src/server/tls.js';

/**
 * Local HTTPS stand-ins for the ERP targets of the exports (webhook receiver, SAP Gateway, Dynamics 365): real
 * TLS with a self-signed certificate (`caFile` is what a target's `ca:` points at), and scripted failures. Each
 * booking POST takes the next scripted answer: a status (500, 400, 429…), `stall` (never answers) or `ok`.
 */
export type Scripted = 'ok' | 'stall' | number;

export interface Booking {
  key: string | undefined;
  body: any;
  headers: IncomingMessage['headers'];
  /** The client's port: one per connection (keep-alive and pipelining checks). */
  port: number | undefined;
}

let tls: Promise<{ cert: string; key: string; certFile: string }> | undefined;
function material() {
  tls ??= ensureTls(mkdtempSync(join(tmpdir(), 'tagway-fake-erp-')));
  return tls;
}

abstract class FakeHttps {
  readonly bookings: Booking[] = [];
  /** Every booking POST received, in order, including refused ones (for duplicate and order checks). */
  readonly posts: Booking[] = [];
  script: Scripted[] = [];
  /** Extra headers for scripted failures (e.g. Retry-After). */
  failHeaders: Record<string, string> = {};
  port = 0;
  caFile = '';
  private server: Server | undefined;
  private readonly stalled = new Set<ServerResponse>();

  async start(port = 0): Promise<this> {
    const m = await material();
    this.caFile = m.certFile;
    this.server = createServer({ cert: m.cert, key: m.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port || this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.stalled) r.destroy();
    this.stalled.clear();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Answers a booking POST per the script; true when it was booked. */
  protected book(req: IncomingMessage, res: ServerResponse, raw: string, ok: () => void): void {
    const b: Booking = {
      key: req.headers['idempotency-key'] as string | undefined,
      body: safeJson(raw),
      headers: req.headers,
      port: req.socket.remotePort,
    };
    this.posts.push(b);
    const next = this.script.shift() ?? 'ok';
    if (next === 'stall') {
      this.stalled.add(res);
      return;
    }
    if (next !== 'ok') {
      res.writeHead(next, { 'content-type': 'application/json', ...this.failHeaders });
      res.end(JSON.stringify({ error: { message: `scripted ${next}` } }));
      return;
    }
    this.bookings.push(b);
    ok();
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse, body: string): void;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Checks `X-Tagway-Signature` against the shared secret; a wrong signature is answered 401 and counted. */
export class FakeWebhook extends FakeHttps {
  badSignatures = 0;
  constructor(readonly secret: string) {
    super();
  }
  protected handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`);
    const got = Buffer.from(String(req.headers['x-tagway-signature'] ?? ''));
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      this.badSignatures++;
      res.writeHead(401).end('bad signature');
      return;
    }
    this.book(req, res, body, () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  }
}

/** SAP Gateway: CSRF token per session cookie; `expireSessions()` makes the next POST fail CSRF validation. */
export class FakeSap extends FakeHttps {
  tokenFetches = 0;
  csrfRefusals = 0;
  private sessions = new Map<string, string>();
  constructor(
    readonly user: string,
    readonly password: string,
  ) {
    super();
  }
  expireSessions(): void {
    this.sessions.clear();
  }
  protected handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (req.headers.authorization !== 'Basic ' + Buffer.from(`${this.user}:${this.password}`).toString('base64')) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="SAP"' }).end('Unauthorized');
      return;
    }
    if (req.method === 'GET' && req.headers['x-csrf-token'] === 'Fetch') {
      this.tokenFetches++;
      const session = randomBytes(8).toString('hex');
      const token = randomBytes(12).toString('base64');
      this.sessions.set(session, token);
      res.writeHead(200, {
        'x-csrf-token': token,
        'set-cookie': [`SAP_SESSIONID_ABC_100=${session}; path=/; secure; HttpOnly`, 'sap-usercontext=sap-client=100; path=/'],
      });
      res.end('{"d":{"EntitySets":["ConfirmationSet"]}}');
      return;
    }
    if (req.method === 'POST' && req.url?.endsWith('/ConfirmationSet')) {
      const session = /SAP_SESSIONID_ABC_100=([0-9a-f]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
      if (!session || this.sessions.get(session) !== req.headers['x-csrf-token']) {
        this.csrfRefusals++;
        res.writeHead(403, { 'x-csrf-token': 'Required', 'content-type': 'text/plain' }).end('CSRF token validation failed');
        return;
      }
      this.book(req, res, body, () =>
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ d: safeJson(body) })),
      );
      return;
    }
    res.writeHead(404).end();
  }
}

/** Dynamics 365: client-credentials token endpoint at /token; `expireTokens()` makes held tokens answer 401. */
export class FakeDynamics extends FakeHttps {
  tokenRequests = 0;
  unauthorized = 0;
  private tokens = new Set<string>();
  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    super();
  }
  expireTokens(): void {
    this.tokens.clear();
  }
  protected handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (req.method === 'POST' && req.url === '/token') {
      this.tokenRequests++;
      const f = new URLSearchParams(body);
      if (
        f.get('grant_type') !== 'client_credentials' ||
        f.get('client_id') !== this.clientId ||
        f.get('client_secret') !== this.clientSecret
      ) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const token = randomBytes(16).toString('hex');
      this.tokens.add(token);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: token }));
      return;
    }
    if (req.method === 'POST' && req.url === '/api/data/v9.2/cr1_productionreports') {
      const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (!token || !this.tokens.has(token)) {
        this.unauthorized++;
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
        return;
      }
      if (req.headers['odata-version'] !== '4.0') {
        res.writeHead(400).end('OData-Version 4.0 expected');
        return;
      }
      this.book(req, res, body, () =>
        res
          .writeHead(204, { 'odata-entityid': `${this.url}/api/data/v9.2/cr1_productionreports(${randomBytes(4).toString('hex')})` })
          .end(),
      );
      return;
    }
    res.writeHead(404).end();
  }
}
