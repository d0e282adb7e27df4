import { createHmac } from 'node:crypto';
import type { ExportTargetConfig } from '../../project/exports.js';
import type { ReportDocument, SendResult, TargetSender } from '../../runtime/exports/types.js';
import { applyMap, header, networkResult, resultOf, TargetHttp } from './http.js';

/** The values a `map:` may name: the report's fields and the period. */
function mapVars(doc: ReportDocument, key: string): Record<string, unknown> {
  return {
    ...doc.values,
    report: doc.report,
    shift: doc.period.shift,
    start: doc.period.start,
    end: doc.period.end,
    date: doc.period.start.slice(0, 10),
    key,
  };
}

/** POSTs the report JSON, signed: `X-Tagway-Signature: sha256=<hex HMAC-SHA256 of the body bytes>`. */
export class WebhookSender implements TargetSender {
  readonly kind = 'webhook';
  readonly name: string;
  private readonly http: TargetHttp;
  constructor(private readonly t: ExportTargetConfig) {
    this.name = t.name;
    this.http = new TargetHttp(t.timeoutMs, t.ca, t.inFlight);
  }
  prepare(doc: ReportDocument): unknown {
    return doc;
  }
  async send(body: unknown, key: string): Promise<SendResult> {
    const bytes = JSON.stringify(body);
    const signature = createHmac('sha256', this.t.secret ?? '')
      .update(bytes)
      .digest('hex');
    try {
      return resultOf(
        await this.http.call(
          this.t.url,
          'POST',
          {
            ...this.t.headers,
            'content-type': 'application/json',
            'idempotency-key': key,
            'x-tagway-signature': `sha256=${signature}`,
          },
          bytes,
        ),
      );
    } catch (err) {
      return networkResult(err);
    }
  }
  close(): Promise<void> {
    return this.http.close();
  }
}

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

/**
 * SAP Gateway OData V2: a CSRF token is fetched (`GET` service root, `X-CSRF-Token: Fetch`) with its session
 * cookies and kept; a POST refused with 403 "CSRF token validation failed" (the session expired) fetches a new
 * one and posts again, once.
 */
export class SapODataSender implements TargetSender {
  readonly kind = 'sap-odata';
  readonly name: string;
  private readonly http: TargetHttp;
  private session: { token: string; cookie: string } | undefined;
  constructor(private readonly t: ExportTargetConfig) {
    this.name = t.name;
    this.http = new TargetHttp(t.timeoutMs, t.ca, t.inFlight);
  }
  prepare(doc: ReportDocument, key: string): unknown {
    return applyMap(this.t.map ?? {}, mapVars(doc, key));
  }
  private get auth(): string {
    return basic(this.t.username ?? '', this.t.password ?? '');
  }
  private async fetchToken(): Promise<SendResult | undefined> {
    const a = await this.http.call(this.t.url, 'GET', { authorization: this.auth, 'x-csrf-token': 'Fetch', accept: 'application/json' });
    const token = header(a.headers, 'x-csrf-token');
    if (a.status < 200 || a.status >= 300 || !token || token.toLowerCase() === 'required') {
      this.session = undefined;
      // Not an answer about this entry: a wrong password or a Gateway down is retried, never a reason to give up.
      return { status: null, answer: `CSRF token fetch: HTTP ${a.status}${token ? '' : ' without a token'}: ${a.text.slice(0, 800)}` };
    }
    const set = a.headers['set-cookie'];
    const cookies = (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(';')[0]!.trim()).filter(Boolean);
    this.session = { token, cookie: cookies.join('; ') };
    return undefined;
  }
  private post(body: string, key: string) {
    return this.http.call(
      this.t.url.replace(/\/?$/, '/') + this.t.entitySet,
      'POST',
      {
        authorization: this.auth,
        'x-csrf-token': this.session!.token,
        ...(this.session!.cookie ? { cookie: this.session!.cookie } : {}),
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': key,
        ...this.t.headers,
      },
      body,
    );
  }
  async send(body: unknown, key: string): Promise<SendResult> {
    const bytes = JSON.stringify(body);
    try {
      if (!this.session) {
        const failed = await this.fetchToken();
        if (failed) return failed;
      }
      let a = await this.post(bytes, key);
      if (a.status === 403 && csrfRefused(a)) {
        const failed = await this.fetchToken();
        if (failed) return failed;
        a = await this.post(bytes, key);
      }
      return resultOf(a);
    } catch (err) {
      return networkResult(err);
    }
  }
  close(): Promise<void> {
    return this.http.close();
  }
}

function csrfRefused(a: { headers: Record<string, string | string[] | undefined>; text: string }): boolean {
  return header(a.headers, 'x-csrf-token')?.toLowerCase() === 'required' || /CSRF token validation failed/i.test(a.text);
}

/**
 * Dynamics 365 / Dataverse Web API (OData v4): a bearer token from the OAuth2 client-credentials grant, cached
 * until a minute before it expires; a 401 drops it, fetches a new one and posts again, once.
 */
export class DynamicsSender implements TargetSender {
  readonly kind = 'dynamics';
  readonly name: string;
  private readonly http: TargetHttp;
  private token: { value: string; until: number } | undefined;
  constructor(
    private readonly t: ExportTargetConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.name = t.name;
    this.http = new TargetHttp(t.timeoutMs, t.ca, t.inFlight);
  }
  prepare(doc: ReportDocument, key: string): unknown {
    return applyMap(this.t.map ?? {}, mapVars(doc, key));
  }
  private async fetchToken(): Promise<SendResult | undefined> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.t.clientId ?? '',
      client_secret: this.t.clientSecret ?? '',
      scope: this.t.scope ?? '',
    }).toString();
    const a = await this.http.call(
      this.t.tokenUrl ?? '',
      'POST',
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      form,
    );
    let parsed: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      parsed = JSON.parse(a.text) as typeof parsed;
    } catch {
      // not JSON: reported below
    }
    if (a.status !== 200 || typeof parsed.access_token !== 'string') {
      this.token = undefined;
      // The token endpoint's answer never goes into the log: it may echo the request. Status and error code only.
      const code = (parsed as { error?: unknown }).error;
      return { status: null, answer: `token request: HTTP ${a.status}${typeof code === 'string' ? ` ${code}` : ''}` };
    }
    const ttl = Number(parsed.expires_in ?? 3600);
    this.token = { value: parsed.access_token, until: this.now() + Math.max(0, (Number.isFinite(ttl) ? ttl : 3600) - 60) * 1000 };
    return undefined;
  }
  private post(body: string, key: string) {
    return this.http.call(
      this.t.url.replace(/\/?$/, '/') + this.t.entitySet,
      'POST',
      {
        authorization: `Bearer ${this.token!.value}`,
        'odata-version': '4.0',
        'odata-maxversion': '4.0',
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': key,
        ...this.t.headers,
      },
      body,
    );
  }
  async send(body: unknown, key: string): Promise<SendResult> {
    const bytes = JSON.stringify(body);
    try {
      if (!this.token || this.now() >= this.token.until) {
        const failed = await this.fetchToken();
        if (failed) return failed;
      }
      let a = await this.post(bytes, key);
      if (a.status === 401) {
        this.token = undefined;
        const failed = await this.fetchToken();
        if (failed) return failed;
        a = await this.post(bytes, key);
      }
      return resultOf(a);
    } catch (err) {
      return networkResult(err);
    }
  }
  close(): Promise<void> {
    return this.http.close();
  }
}

/** The sender of a configured target. */
export function createSender(t: ExportTargetConfig): TargetSender {
  switch (t.kind) {
    case 'webhook':
      return new WebhookSender(t);
    case 'sap-odata':
      return new SapODataSender(t);
    case 'dynamics':
      return new DynamicsSender(t);
  }
}
