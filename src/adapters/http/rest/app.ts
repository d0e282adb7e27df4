import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../../auth/principal.js';
import { TagwayError } from '../../../domain/problems.js';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Services } from '../../../services/services.js';
import { defaultAuthenticators, type Authenticator } from './authenticate.js';
import { jsonAnswer } from './direct-answer.js';
import { cutIdleConnections } from './idle-connections.js';
import { sendProblem, toTagwayError } from './problem.js';
import { securityHeaders } from './security-headers.js';
import { DOCS_UI_BRANDING } from './docs-branding.js';
import type { ApiPlugin } from './plugin.js';
import { validatorCompiler } from './validation.js';
import { errorSignature, RepeatLimiter } from '../../../server/logger.js';
import { tlsServerOptions } from '../../../server/tls.js';
import type { Server as NetServer, Socket } from 'node:net';
import { authRoutes } from './auth/routes.js';
import { boardRoutes } from './boards/routes.js';
import { defaultDashboardDir, loadDashboard, wantsHtml } from './dashboard/static.js';
import { connectionRoutes } from './connections/routes.js';
import { healthRoutes } from './health/routes.js';
import { lazyChildLogger } from './request-logger.js';
import { tagRoutes } from './tags/routes.js';
import { userRoutes } from './users/routes.js';

export interface AppOptions {
  https?: { cert: string; key: string } | undefined;
  /** Extra authenticators tried after the built-in session ones (Basic, JWT). */
  authenticators?: Authenticator[];
  /**
   * Extra route plugins (alarms, history, push, …) registered under the base path; one given with its own
   * `prefix` (a compatibility profile such as WinCC OA's `/reporting`) is registered under that prefix instead.
   */
  plugins?: (ApiPlugin | { plugin: ApiPlugin; prefix: string; caseInsensitivePrefix?: boolean })[];
  /** The service layer the routes call (built by the composition root, src/main.ts). */
  services: Services;
  /**
   * The built web dashboard's folder (default `<package>/dist/web`); served at the root when it holds an
   * index.html, else the root leads to the API documentation. `false`: never serve it.
   */
  dashboardDir?: string | false | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
// Request ids are unique per process start (random prefix) and cheap (a counter), unlike a UUID per request.
const ID_PREFIX = randomUUID().slice(0, 8);
let requestCounter = 0;

/** The plugins every build has; other capabilities add theirs through AppOptions.plugins. */
export const CORE_PLUGINS: ApiPlugin[] = [healthRoutes, authRoutes, userRoutes, tagRoutes, connectionRoutes, boardRoutes];

export async function buildApp(runtime: Runtime, opts: AppOptions): Promise<FastifyInstance> {
  const { config } = runtime;
  // Slow clients are cut at the configured times (Node checks them every connectionsCheckingInterval, 30 s by
  // default: far too coarse for a 10 s headers timeout).
  const slowClients = {
    headersTimeout: config.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
  };
  const rewriteUrl = prefixCaseRewriter(opts.plugins ?? []);
  const logger = runtime.logger as unknown as FastifyBaseLogger;
  const app = Fastify({
    // No loggerInstance: given one, fastify times and logs every answer, with two listeners added to and removed
    // from every response, even with request logging disabled (1.5–2 µs per request). The app's logger is
    // set as app.log below and is every request's parent logger (childLoggerFactory), so every line still goes to
    // it; only fastify's own request lines are gone, and those are disabled here anyway.
    ...(rewriteUrl ? { rewriteUrl } : {}),
    ...(opts.https
      ? { https: { ...tlsServerOptions(opts.https.cert, opts.https.key, config.headersTimeoutMs), ...slowClients } }
      : { http: slowClients }),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // The idle timeout is kept by a sweep (cutIdleConnections below), not by Node's per-socket timer.
    connectionTimeout: 0,
    bodyLimit: config.bodyLimit,
    routerOptions: { maxParamLength: 1024, ignoreTrailingSlash: true },
    // A client's own request id is kept when it is safe to log; otherwise we make one.
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : `${ID_PREFIX}-${(++requestCounter).toString(36)}`;
    },
    // Our own onResponse line replaces fastify's two per-request lines (and never logs headers).
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    childLoggerFactory: (_nullLogger, bindings, childOptions) => lazyChildLogger(logger, bindings, childOptions),
    // Only the configured proxies' X-Forwarded-For sets request.ip (the address login budgets count).
    ...(config.trustedProxies.length > 0 ? { trustProxy: config.trustedProxies } : {}),
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  // Fastify's and its plugins' own lines (listening address, failed onClose hooks, failed WebSocket upgrades).
  app.log = logger;

  capConnectionsPerAddress(app.server, config.maxConnectionsPerAddress, runtime.logger);
  cutIdleConnections(app.server, config.idleTimeoutMs, opts.https !== undefined);
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body is refused with 415 rather than half-understood.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', undefined);
  // Security headers on every answer. HSTS only when we serve HTTPS ourselves (over plain HTTP it would promise
  // what we do not do). The default CSP suits a JSON API; the docs UI sets its own (staticCSP).
  // A JSON API needs a strict, short CSP (nothing may load, nothing may frame it); headers that only concern old
  // browsers rendering HTML (X-XSS-Protection, X-Download-Options, …) are left out: every byte is paid per answer.
  const headers = await securityHeaders({
    hsts: opts.https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xXssProtection: false,
    xDownloadOptions: false,
    xDnsPrefetchControl: false,
    xPermittedCrossDomainPolicies: false,
    originAgentCluster: false,
  });
  // CORS: only the configured origins; with none configured (the default) the plugin is not loaded at all, since
  // it would cost every request a hook for headers it never sends. Registered before the authentication hook, so a
  // preflight is answered without credentials, as browsers send it.
  if (config.security.corsOrigins.length > 0)
    await app.register(cors, {
      origin: config.security.corsOrigins,
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Request-Id', 'Last-Event-ID'],
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Link'],
      maxAge: 600,
    });

  // Authentication is attached per route when the route is declared, so public routes cost nothing and
  // protected ones do not look up their config on every request.
  const authenticators = [...defaultAuthenticators, ...(opts.authenticators ?? [])];
  const unauthenticated = () =>
    new TagwayError(
      'UNAUTHENTICATED',
      'Log in first: send Authorization: Bearer <session token or JWT>, the session cookie, or Basic credentials (over HTTPS)',
    );
  // Callback style, and synchronous while the authenticators answer synchronously (sessions do): the hot path of
  // every request allocates no promise unless a method needs one (JWT, Basic).
  // The security headers are set in the same hook as authentication (one hook call per request, not two).
  const withHeaders = (_request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    reply.headers(headers);
    done();
  };
  // No closure per request: the synchronous methods are tried in a loop; a promise (JWT, Basic) continues in
  // `settle`, which is only reached by requests that need it.
  const tryFrom = (request: FastifyRequest, done: (err?: Error) => void, from: number): void => {
    for (let i = from; i < authenticators.length; i++) {
      let r: ReturnType<Authenticator>;
      try {
        r = authenticators[i]!(request, runtime);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (r instanceof Promise) {
        settle(request, done, r, i);
        return;
      }
      if (r) {
        request.principal = r;
        done();
        return;
      }
    }
    done(unauthenticated());
  };
  const settle = (request: FastifyRequest, done: (err?: Error) => void, r: Promise<Principal | undefined>, at: number): void => {
    r.then(
      (p) => {
        if (p) {
          request.principal = p;
          done();
        } else tryFrom(request, done, at + 1);
      },
      (err: unknown) => done(err as Error),
    );
  };
  const authenticate = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    reply.headers(headers);
    tryFrom(request, done, 0);
  };
  // For routes that write their answer with its headers themselves (direct-answer.ts).
  const authenticateOnly = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => tryFrom(request, done, 0);
  // CORS adds headers in a hook of its own, which a direct answer would skip.
  const answerJson = jsonAnswer(headers, config.security.corsOrigins.length === 0);
  const prefix = config.basePath === '/' ? '' : config.basePath;
  app.addHook('onRoute', (route) => {
    // The docs UI's routes come from its plugin; they are public like /openapi.json.
    const routeConfig = route.config as { public?: boolean; directAnswer?: boolean } | undefined;
    const isPublic = routeConfig?.public || route.url.startsWith(`${prefix}/docs`);
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    const hook = isPublic ? withHeaders : routeConfig?.directAnswer ? authenticateOnly : authenticate;
    route.onRequest = [hook as never, ...existing];
  });

  // One line per request at debug level only (errors are logged by the error handler); without debug the hook is
  // not installed at all. Never headers or bodies: they carry tokens, passwords and values.
  if (runtime.logger.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        {
          method: request.method,
          url: request.routeOptions.url ?? request.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          user: request.principal?.username,
        },
        'request',
      );
      done();
    });
  }

  // Faults that repeat per request (a full disk, a bug on a hot path) are logged once per signature a minute,
  // with the count suppressed since; a storage fault without its stack (it is a state, not a bug).
  const repeats = new RepeatLimiter(60_000);
  app.setErrorHandler((err, request, reply) => {
    const te = toTagwayError(err);
    if (te.code === 'INTERNAL_ERROR' || te.code === 'STORAGE_UNAVAILABLE') {
      const cause = te.code === 'STORAGE_UNAVAILABLE' && te.cause !== undefined ? te.cause : err;
      if (te.code === 'STORAGE_UNAVAILABLE') runtime.storageHealth.fault(cause);
      const gate = repeats.admit(errorSignature(cause));
      if (gate) {
        const e = cause as { code?: unknown; message?: unknown };
        if (te.code === 'STORAGE_UNAVAILABLE')
          request.log.error({ code: e.code, error: String(e.message).slice(0, 300), suppressed: gate.suppressed }, 'storage unavailable');
        else request.log.error({ err, suppressed: gate.suppressed }, 'unhandled error');
      }
    }
    // Routes with a direct answer have not had the security headers set yet (the others get them twice).
    return sendProblem(request, reply.headers(headers), te);
  });
  const dashboard = opts.dashboardDir === false ? undefined : loadDashboard(opts.dashboardDir ?? defaultDashboardDir(), config.basePath);
  // A browser navigating to a path of the single-page app (a reload on /app/tags) gets the app; API clients get
  // problem+json as before.
  app.setNotFoundHandler((request, reply) =>
    dashboard && wantsHtml(request) && request.url.startsWith(`${prefix}/`)
      ? dashboard.index(request, reply.headers(headers))
      : sendProblem(
          request,
          reply.headers(headers),
          new TagwayError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
        ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tagway API',
        version: '1',
        description:
          'Live plant data (tags, alarms, history) over HTTPS. Errors are RFC 9457 application/problem+json with a stable `code`.',
      },
      servers: [{ url: config.basePath === '/' ? '/' : config.basePath }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Session token from POST /auth/login, or a JWT from POST /auth/token' },
          cookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'tagway_session',
            description: 'Session cookie; state-changing requests also need X-CSRF-Token',
          },
          basic: { type: 'http', scheme: 'basic', description: 'Username and password with every request; HTTPS (or loopback) only' },
          oauth2: {
            type: 'oauth2',
            flows: { clientCredentials: { tokenUrl: 'auth/token', scopes: {} } },
            description: 'Machine clients: POST /auth/token returns a JWT',
          },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }, { basic: [] }, { oauth2: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: `${prefix}/docs`,
    uiConfig: { docExpansion: 'list', deepLinking: true },
    staticCSP: true,
    ...DOCS_UI_BRANDING,
  });
  // The root is the dashboard when it is built; without one it leads to the API documentation.
  const docsRoot = { config: { public: true }, schema: { hide: true } };
  if (dashboard) {
    await dashboard.register(app, prefix);
    app.get(prefix || '/', docsRoot, (request, reply) => dashboard.index(request, reply));
  } else app.get(prefix || '/', docsRoot, (_request, reply) => reply.redirect(`${prefix}/docs`, 302));
  if (prefix) app.get('/', docsRoot, (_request, reply) => reply.redirect(dashboard ? `${prefix}/` : `${prefix}/docs`, 302));
  await app.register(
    async (scoped) => {
      scoped.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
      for (const plugin of [...CORE_PLUGINS, ...(opts.plugins ?? [])])
        if (typeof plugin === 'function') await scoped.register(plugin, { runtime, services: opts.services, answerJson });
    },
    { prefix },
  );
  for (const p of opts.plugins ?? [])
    if (typeof p !== 'function') await app.register(p.plugin, { runtime, services: opts.services, answerJson, prefix: p.prefix });

  return app;
}

/**
 * Profiles whose clients write their prefix in any case (classic WinCC: `/WinCCRestService`, `/WinccRestService`)
 * get it spelt as registered before routing; the rest of the path is the profile's to match. Undefined (no hook,
 * no cost per request) when no profile asks for it.
 */
function prefixCaseRewriter(plugins: NonNullable<AppOptions['plugins']>): ((req: { url?: string }) => string) | undefined {
  const prefixes = plugins.flatMap((p) => (typeof p !== 'function' && p.caseInsensitivePrefix ? [p.prefix] : []));
  if (prefixes.length === 0) return undefined;
  const lower = prefixes.map((p) => p.toLowerCase());
  return (req) => {
    const url = req.url ?? '/';
    for (let i = 0; i < prefixes.length; i++) {
      const p = prefixes[i]!;
      // The second character decides for most requests without a copy (`/tags/…` is not `/WinCCRestService`).
      if (url.length < p.length || (url.charCodeAt(1) | 0x20) !== (p.charCodeAt(1) | 0x20) || url.startsWith(p)) continue;
      const next = url.charCodeAt(p.length);
      // Only a whole segment: `/WinCCRestServiceX` stays as it is.
      if ((Number.isNaN(next) || next === 47 || next === 63) && url.slice(0, p.length).toLowerCase() === lower[i])
        return p + url.slice(p.length);
    }
    return url;
  };
}

/**
 * At most `max` open TCP connections per client address: one host opening thousands of sockets (stalled TLS
 * handshakes, slow requests) cannot take every file descriptor. Excess sockets are destroyed as they are
 * accepted, before TLS costs anything. Logged once a minute per address.
 */
function capConnectionsPerAddress(server: NetServer, max: number, logger: { warn(o: object, m: string): void }): void {
  const open = new Map<string, number>();
  const logs = new RepeatLimiter(60_000);
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = open.get(address) ?? 0;
    if (n >= max) {
      socket.destroy();
      const gate = logs.admit(address);
      if (gate) logger.warn({ clientAddress: address, max, suppressed: gate.suppressed }, 'too many connections from one address; closed');
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
