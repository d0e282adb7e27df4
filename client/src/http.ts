import type * as T from './types.js';

/** A refused request: the server's problem+json (RFC 9457) with its stable `code` and human `detail`. */
export class TagwayApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Partial<T.ProblemBody> | undefined;
  constructor(status: number, problem: Partial<T.ProblemBody> | undefined, fallback: string) {
    super(problem?.detail ?? fallback);
    this.name = 'TagwayApiError';
    this.status = status;
    this.code = problem?.code ?? `HTTP_${status}`;
    this.problem = problem;
  }
}

export interface ClientOptions {
  /** Where the API is, e.g. `https://plant:8443` (with the base path, if any). Default: this page's origin (browsers). */
  baseUrl?: string;
  /**
   * `cookie` (browsers: the HttpOnly session cookie plus X-CSRF-Token on changes; no token in script-readable
   * storage) or `bearer` (scripts: Authorization: Bearer <session token or JWT>). Default: cookie in a browser, else bearer.
   */
  auth?: 'cookie' | 'bearer';
  /** A session token or JWT to start with (bearer). */
  token?: string;
  /** A fetch to use instead of the global one (Node: one with a dispatcher that trusts the server's CA). */
  fetch?: typeof fetch;
  /** Called when the server answers 401 to an authenticated call (session expired or revoked). */
  onUnauthenticated?: () => void;
}

type Query = Record<string, string | number | boolean | undefined | null>;

interface CallOptions {
  query?: Query | undefined;
  body?: unknown;
  /** Answer the Response itself (CSV downloads). */
  raw?: boolean;
}

const enc = encodeURIComponent;
const isBrowser = typeof globalThis === 'object' && 'document' in globalThis;

/**
 * Every call of Tagway's native REST API, typed from the server's own schemas. One instance per user session; in a
 * browser use `auth: 'cookie'` (the default there), in scripts and tests `bearer`.
 */
export class TagwayClient {
  readonly baseUrl: string;
  readonly auth: 'cookie' | 'bearer';
  /** The session token (kept in memory only; also what re-authenticates a live socket after a refresh). */
  token: string | undefined;
  /** The CSRF token of the cookie session (from login or `session()`). */
  csrfToken: string | undefined;
  /** The signed-in user, once known. */
  user: T.CurrentUser | undefined;
  private readonly fetchImpl: typeof fetch;
  /** Called when the server answers 401 to an authenticated call (session expired or revoked). */
  onUnauthenticated: (() => void) | undefined;

  constructor(opts: ClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/+$/, '');
    this.auth = opts.auth ?? (isBrowser ? 'cookie' : 'bearer');
    this.token = opts.token;
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.onUnauthenticated = opts.onUnauthenticated;
  }

  /** Absolute URL of an API path (with the query), e.g. for a CSV download link. */
  url(path: string, query?: Query): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    const s = qs.toString();
    return `${this.baseUrl}${path}${s ? `?${s}` : ''}`;
  }

  /** One call; answers the parsed JSON (undefined for 204), or throws TagwayApiError with the server's problem. */
  async call<R>(method: string, path: string, o: CallOptions = {}): Promise<R> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth === 'bearer' && this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.auth === 'cookie' && method !== 'GET' && method !== 'HEAD' && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    const res = await this.fetchImpl(this.url(path, o.query), {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      credentials: this.auth === 'cookie' ? 'same-origin' : 'omit',
    });
    if (!res.ok) {
      const text = await res.text();
      let problem: Partial<T.ProblemBody> | undefined;
      try {
        problem = JSON.parse(text) as Partial<T.ProblemBody>;
      } catch {
        problem = undefined;
      }
      if (res.status === 401 && path !== '/auth/login' && path !== '/auth/session') this.onUnauthenticated?.();
      throw new TagwayApiError(res.status, problem, `${method} ${path} answered ${res.status}`);
    }
    if (o.raw) return res as R;
    if (res.status === 204) return undefined as R;
    return (await res.json()) as R;
  }

  private remember(s: T.Session | T.SessionState): void {
    if ('token' in s) this.token = s.token;
    this.csrfToken = s.csrfToken;
    this.user = s.user;
  }

  // ── Sessions ────────────────────────────────────────────────────────────────────────────────────────────────
  async login(username: string, password: string): Promise<T.Session> {
    const s = await this.call<T.Session>('POST', '/auth/login', { body: { username, password } });
    this.remember(s);
    return s;
  }
  /** The current session of this cookie (after a reload, in a second tab): user, grants and CSRF token. */
  async session(): Promise<T.SessionState> {
    const s = await this.call<T.SessionState>('GET', '/auth/session');
    this.remember(s);
    return s;
  }
  async refresh(): Promise<T.Session> {
    const s = await this.call<T.Session>('POST', '/auth/refresh');
    this.remember(s);
    return s;
  }
  async logout(): Promise<void> {
    try {
      await this.call<void>('POST', '/auth/logout');
    } finally {
      this.token = undefined;
      this.csrfToken = undefined;
      this.user = undefined;
    }
  }
  /** OAuth2 client credentials: a short-lived JWT for a machine client (use it as `token` with bearer). */
  async clientToken(clientId: string, clientSecret: string): Promise<T.Token> {
    const t = await this.call<T.Token>('POST', '/auth/token', {
      body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    });
    this.token = t.access_token;
    return t;
  }
  currentUser = () => this.call<T.CurrentUser>('GET', '/users/current');
  changePassword = (currentPassword: string, newPassword: string) =>
    this.call<void>('POST', '/users/current/password', { body: { currentPassword, newPassword } });

  // ── Health ──────────────────────────────────────────────────────────────────────────────────────────────────
  health = () => this.call<T.Health>('GET', '/health');
  /** Prometheus text. */
  metrics = async () => (await this.call<Response>('GET', '/metrics', { raw: true })).text();

  // ── Tags ────────────────────────────────────────────────────────────────────────────────────────────────────
  listTags = (q: T.ListTagsParams = {}) => this.call<T.TagList>('GET', '/tags', { query: q });
  /** Every readable tag (follows the paging). */
  async allTags(q: Omit<T.ListTagsParams, 'cursor' | 'limit'> = {}): Promise<T.TagInfo[]> {
    const out: T.TagInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listTags({ ...q, limit: 10_000, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor);
    return out;
  }
  readTag = (name: string) => this.call<T.TagValue>('GET', `/tags/${enc(name)}/value`);
  writeTag = (name: string, value: unknown) => this.call<T.TagValue>('PUT', `/tags/${enc(name)}/value`, { body: { value } });
  readTags = (names: string[]) => this.call<T.ReadManyResult>('POST', '/tags/values', { body: { names } });
  writeTags = (items: Array<{ name: string; value: unknown }>) => this.call<T.WriteManyResult>('PUT', '/tags/values', { body: { items } });

  // ── History ─────────────────────────────────────────────────────────────────────────────────────────────────
  history = (name: string, q: T.HistoryParams = {}) => this.call<T.HistoryResult>('GET', `/tags/${enc(name)}/history`, { query: q });
  queryHistory = (q: T.HistoryQuery) => this.call<T.HistoryManyResult>('POST', '/history/query', { body: q });
  historyCsvUrl = (name: string, q: T.HistoryParams = {}) => this.url(`/tags/${enc(name)}/history`, { ...q, format: 'csv' });

  // ── Alarms ──────────────────────────────────────────────────────────────────────────────────────────────────
  currentAlarms = (q: T.AlarmFilter = {}) => this.call<T.AlarmList>('GET', '/alarms/current', { query: q });
  alarmArchive = (q: T.ArchiveParams = {}) => this.call<T.ArchivePage>('GET', '/alarms/archive', { query: { ...q, format: 'json' } });
  alarmArchiveCsvUrl = (q: T.ArchiveParams = {}) => this.url('/alarms/archive', { ...q, format: 'csv' });
  acknowledgeAlarm = (id: number) => this.call<T.AlarmOccurrence>('POST', `/alarms/${id}/acknowledge`);
  acknowledgeAlarms = (ids: number[]) => this.call<T.AcknowledgeManyResult>('POST', '/alarms/acknowledge', { body: { ids } });
  resetAlarm = (id: number) => this.call<T.AlarmOccurrence>('POST', `/alarms/${id}/reset`);
  alarmDefinitions = () => this.call<T.AlarmDefinitions>('GET', '/alarms/definitions');
  alarmDefinition = (name: string) => this.call<T.AlarmDefinition>('GET', `/alarms/definitions/${enc(name)}`);
  alarmClasses = () => this.call<T.AlarmClasses>('GET', '/alarms/classes');
  enableAlarm = (name: string) => this.call<T.AlarmDefinition>('POST', `/alarms/definitions/${enc(name)}/enable`);
  disableAlarm = (name: string) => this.call<T.AlarmDefinition>('POST', `/alarms/definitions/${enc(name)}/disable`);
  shelveAlarm = (name: string, durationMs: number) =>
    this.call<T.AlarmDefinition>('POST', `/alarms/definitions/${enc(name)}/shelve`, { body: { durationMs } });
  unshelveAlarm = (name: string) => this.call<T.AlarmDefinition>('POST', `/alarms/definitions/${enc(name)}/unshelve`);

  // ── Connections ─────────────────────────────────────────────────────────────────────────────────────────────
  connections = () => this.call<{ items: T.Connection[] }>('GET', '/connections');
  connection = (name: string) => this.call<T.Connection>('GET', `/connections/${enc(name)}`);
  browse = (name: string, nodeId?: string) => this.call<T.BrowseResult>('GET', `/connections/${enc(name)}/browse`, { query: { nodeId } });
  reloadConnections = () => this.call<T.ReloadResult>('POST', '/connections/reload');

  // ── Administration ──────────────────────────────────────────────────────────────────────────────────────────
  users = () => this.call<{ items: T.User[] }>('GET', '/users');
  getUser = (username: string) => this.call<T.User>('GET', `/users/${enc(username)}`);
  createUser = (u: T.NewUser) => this.call<T.User>('POST', '/users', { body: u });
  updateUser = (username: string, changes: T.UserChanges) => this.call<T.User>('PATCH', `/users/${enc(username)}`, { body: changes });
  deleteUser = (username: string) => this.call<void>('DELETE', `/users/${enc(username)}`);
  unlockUser = (username: string) => this.call<T.UnlockResult>('POST', `/users/${enc(username)}/unlock`);
  groups = () => this.call<{ items: T.Group[] }>('GET', '/groups');
  getGroup = (name: string) => this.call<T.Group>('GET', `/groups/${enc(name)}`);
  createGroup = (g: T.NewGroup) => this.call<T.Group>('POST', '/groups', { body: g });
  updateGroup = (name: string, changes: T.GroupChanges) => this.call<T.Group>('PATCH', `/groups/${enc(name)}`, { body: changes });
  deleteGroup = (name: string) => this.call<void>('DELETE', `/groups/${enc(name)}`);
  apiClients = () => this.call<{ items: T.ApiClient[] }>('GET', '/clients');
  /** The answer holds the client secret: it is shown this once and never again. */
  createApiClient = (c: T.NewApiClient) => this.call<T.CreatedApiClient>('POST', '/clients', { body: c });
  deleteApiClient = (clientId: string) => this.call<void>('DELETE', `/clients/${enc(clientId)}`);
  audit = (q: T.AuditParams = {}) =>
    this.call<{ items: T.AuditEntry[]; next: string | null }>('GET', '/audit', { query: { ...q, format: 'json' } });
  auditCsvUrl = (q: T.AuditParams = {}) => this.url('/audit', { ...q, format: 'csv' });

  // ── Boards ──────────────────────────────────────────────────────────────────────────────────────────────────
  boards = () => this.call<T.Boards>('GET', '/boards');
  board = (id: string) => this.call<T.BoardView>('GET', `/boards/${enc(id)}`);
  createBoard = (b: T.BoardInput) => this.call<T.BoardView>('POST', '/boards', { body: b });
  updateBoard = (id: string, b: T.BoardInput) => this.call<T.BoardView>('PUT', `/boards/${enc(id)}`, { body: b });
  deleteBoard = (id: string) => this.call<void>('DELETE', `/boards/${enc(id)}`);

  // ── Exports (shift reports to ERP) ──────────────────────────────────────────────────────────────────────────
  shifts = (q: { from?: string; to?: string } = {}) =>
    this.call<{ timeZone: string; items: T.ShiftPeriod[] }>('GET', '/shifts', { query: q });
  exportReports = () => this.call<T.ExportReports>('GET', '/exports/reports');
  /** Computes the report now for a range or one shift and enqueues it; answers the values and the outbox ids. */
  runExportReport = (name: string, body: T.ExportRunRequest) =>
    this.call<T.ExportRunResult>('POST', `/exports/reports/${enc(name)}/run`, { body });
  outbox = (q: T.OutboxParams = {}) => this.call<T.OutboxList>('GET', '/exports/outbox', { query: q });
  outboxEntry = (id: number) => this.call<T.OutboxEntryDetail>('GET', `/exports/outbox/${id}`);
  retryOutboxEntry = (id: number) => this.call<T.OutboxEntryDetail>('POST', `/exports/outbox/${id}/retry`);
  discardOutboxEntry = (id: number) => this.call<T.OutboxEntryDetail>('POST', `/exports/outbox/${id}/discard`);

  /** Downloads a CSV (with this client's credentials) as text. */
  async csv(url: string): Promise<string> {
    const path = url.startsWith(this.baseUrl) ? url.slice(this.baseUrl.length) : url;
    const [p, q] = path.split('?');
    const res = await this.call<Response>('GET', p ?? '', { raw: true, query: Object.fromEntries(new URLSearchParams(q ?? '')) });
    return res.text();
  }
}
