import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { LdapSettings } from './auth/ldap.js';
import { closest } from './domain/suggest.js';
import { loadNatsTls, NatsTlsError } from './cluster/nats-tls.js';
import type { SecuritySettings } from './auth/security.js';
import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from './auth/sessions.js';

/** Every server setting, from flags (highest), environment, then defaults. Documented in docs/configuration.md. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Path to the project file; undefined = the embedded demo plant. */
  project: string | undefined;
  /** Plain HTTP instead of HTTPS (warned about at start). */
  http: boolean;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit: number;
  /** Most names or items in one bulk request (default 10,000). */
  maxBulkItems: number;
  /** Bulk tag reads/writes (over 64 KiB) one user may have in flight at once (default 4). */
  maxConcurrentBulk: number;
  /** Time for a client to send a whole request, headers and body (default 30 s). */
  requestTimeoutMs: number;
  /** Time for a client to complete TLS and send a request's headers (default 10 s): what cuts slowloris clients. */
  headersTimeoutMs: number;
  /** Time an idle keep-alive connection stays open between requests (default 5 s). */
  keepAliveTimeoutMs: number;
  /** Time a connection may stay without any traffic in either direction (default 60 s; WebSockets are exempt). */
  idleTimeoutMs: number;
  /** Most open TCP connections from one client address (default 64); more are closed when accepted. */
  maxConnectionsPerAddress: number;
  /** Most samples (raw items or buckets, over all tags) one history request may answer (default 1,000,000). */
  maxHistorySamples: number;
  /** Most history queries one user may have in flight (default 2). */
  maxConcurrentHistory: number;
  basePath: string;
  /** Where WinCC OA's REST Reporting API is served (default `/reporting`, independent of basePath). */
  winccOaPrefix: string;
  /** A second port on the same host serving the same API (classic WinCC clients expect 34568/34569); off by default. */
  winccClassicPort?: number | undefined;
  /** The built web dashboard served at the root (default `<package>/dist/web`); `none` serves none. */
  webDir?: string | undefined;
  logLevel: string;
  adminPassword: string | undefined;
  sessions: SessionSettings;
  /** SQLite synchronous mode: FULL survives power loss, NORMAL only a process crash. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** PostgreSQL URL: every store lives there instead of the data directory's SQLite file. Secret (its password). */
  databaseUrl: string | undefined;
  /** NATS URL of the cluster (nats://host:4222): set, this node is a cluster member (needs `databaseUrl`). */
  clusterUrl?: string | undefined;
  /** This node's id in the cluster; default host name + ':' + port. */
  nodeId?: string | undefined;
  /** How long a connection lease lasts without renewal: the failover bound (ms, default 6000). */
  clusterLeaseMs?: number | undefined;
  /**
   * PEM files of the cluster link's TLS: the CA bundle that verifies the NATS server, and this node's certificate and
   * key for a server that requires mutual TLS. Paths only: the key's content never sits in the config.
   */
  clusterCa?: string | undefined;
  clusterCert?: string | undefined;
  clusterKey?: string | undefined;
  /**
   * Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks); empty = none, the peer address
   * is the client. Without this, behind a proxy every client shares one address and one login budget.
   */
  trustedProxies: string[];
  /** Throttling, JWT, CORS and LDAP settings (defaults in auth/security.ts). */
  security: Partial<SecuritySettings> & { throttle: NonNullable<SecuritySettings['throttle']>; corsOrigins: string[] };
}

export class ConfigError extends Error {}

type SecurityKey =
  | 'corsOrigins'
  | 'jwtLifetime'
  | 'maxFailuresUser'
  | 'maxFailuresAddress'
  | 'loginWindow'
  | 'coolingOff'
  | 'lockoutAfter'
  | 'ldapConfig'
  | 'maxFailuresGlobal'
  | 'requestTimeout'
  | 'headersTimeout'
  | 'keepAliveTimeout'
  | 'idleTimeout';
const FLAGS: Record<
  string,
  { key: keyof Config | 'sessionIdle' | 'sessionLifetime' | SecurityKey; env: string; kind: 'int' | 'string' | 'bool' }
> = {
  '--port': { key: 'port', env: 'TAGWAY_PORT', kind: 'int' },
  '--host': { key: 'host', env: 'TAGWAY_HOST', kind: 'string' },
  '--data-dir': { key: 'dataDir', env: 'TAGWAY_DATA_DIR', kind: 'string' },
  '--project': { key: 'project', env: 'TAGWAY_PROJECT', kind: 'string' },
  '--http': { key: 'http', env: 'TAGWAY_HTTP', kind: 'bool' },
  '--tls-cert': { key: 'tlsCert', env: 'TAGWAY_TLS_CERT', kind: 'string' },
  '--tls-key': { key: 'tlsKey', env: 'TAGWAY_TLS_KEY', kind: 'string' },
  '--body-limit': { key: 'bodyLimit', env: 'TAGWAY_BODY_LIMIT', kind: 'int' },
  '--max-bulk-items': { key: 'maxBulkItems', env: 'TAGWAY_MAX_BULK_ITEMS', kind: 'int' },
  '--max-concurrent-bulk': { key: 'maxConcurrentBulk', env: 'TAGWAY_MAX_CONCURRENT_BULK', kind: 'int' },
  '--request-timeout-seconds': { key: 'requestTimeout', env: 'TAGWAY_REQUEST_TIMEOUT_SECONDS', kind: 'int' },
  '--headers-timeout-seconds': { key: 'headersTimeout', env: 'TAGWAY_HEADERS_TIMEOUT_SECONDS', kind: 'int' },
  '--keep-alive-timeout-seconds': { key: 'keepAliveTimeout', env: 'TAGWAY_KEEP_ALIVE_TIMEOUT_SECONDS', kind: 'int' },
  '--idle-timeout-seconds': { key: 'idleTimeout', env: 'TAGWAY_IDLE_TIMEOUT_SECONDS', kind: 'int' },
  '--max-connections-per-address': { key: 'maxConnectionsPerAddress', env: 'TAGWAY_MAX_CONNECTIONS_PER_ADDRESS', kind: 'int' },
  '--max-history-samples': { key: 'maxHistorySamples', env: 'TAGWAY_MAX_HISTORY_SAMPLES', kind: 'int' },
  '--max-concurrent-history': { key: 'maxConcurrentHistory', env: 'TAGWAY_MAX_CONCURRENT_HISTORY', kind: 'int' },
  '--base-path': { key: 'basePath', env: 'TAGWAY_BASE_PATH', kind: 'string' },
  '--wincc-oa-prefix': { key: 'winccOaPrefix', env: 'TAGWAY_WINCC_OA_PREFIX', kind: 'string' },
  '--wincc-classic-port': { key: 'winccClassicPort', env: 'TAGWAY_WINCC_CLASSIC_PORT', kind: 'int' },
  '--web-dir': { key: 'webDir', env: 'TAGWAY_WEB_DIR', kind: 'string' },
  '--log-level': { key: 'logLevel', env: 'TAGWAY_LOG_LEVEL', kind: 'string' },
  '--session-idle-minutes': { key: 'sessionIdle', env: 'TAGWAY_SESSION_IDLE_MINUTES', kind: 'int' },
  '--session-lifetime-hours': { key: 'sessionLifetime', env: 'TAGWAY_SESSION_LIFETIME_HOURS', kind: 'int' },
  '--sqlite-synchronous': { key: 'sqliteSynchronous', env: 'TAGWAY_SQLITE_SYNCHRONOUS', kind: 'string' },
  '--database-url': { key: 'databaseUrl', env: 'TAGWAY_DATABASE_URL', kind: 'string' },
  '--cluster-url': { key: 'clusterUrl', env: 'TAGWAY_CLUSTER_URL', kind: 'string' },
  '--node-id': { key: 'nodeId', env: 'TAGWAY_NODE_ID', kind: 'string' },
  '--cluster-lease-ms': { key: 'clusterLeaseMs', env: 'TAGWAY_CLUSTER_LEASE_MS', kind: 'int' },
  '--cluster-ca': { key: 'clusterCa', env: 'TAGWAY_CLUSTER_CA', kind: 'string' },
  '--cluster-cert': { key: 'clusterCert', env: 'TAGWAY_CLUSTER_CERT', kind: 'string' },
  '--cluster-key': { key: 'clusterKey', env: 'TAGWAY_CLUSTER_KEY', kind: 'string' },
  '--cors-origins': { key: 'corsOrigins', env: 'TAGWAY_CORS_ORIGINS', kind: 'string' },
  '--jwt-lifetime-minutes': { key: 'jwtLifetime', env: 'TAGWAY_JWT_LIFETIME_MINUTES', kind: 'int' },
  '--login-max-failures-user': { key: 'maxFailuresUser', env: 'TAGWAY_LOGIN_MAX_FAILURES_USER', kind: 'int' },
  '--login-max-failures-address': { key: 'maxFailuresAddress', env: 'TAGWAY_LOGIN_MAX_FAILURES_ADDRESS', kind: 'int' },
  '--login-window-minutes': { key: 'loginWindow', env: 'TAGWAY_LOGIN_WINDOW_MINUTES', kind: 'int' },
  '--login-cooling-off-seconds': { key: 'coolingOff', env: 'TAGWAY_LOGIN_COOLING_OFF_SECONDS', kind: 'int' },
  '--login-lockout-after': { key: 'lockoutAfter', env: 'TAGWAY_LOGIN_LOCKOUT_AFTER', kind: 'int' },
  '--login-max-failures-global': { key: 'maxFailuresGlobal', env: 'TAGWAY_LOGIN_MAX_FAILURES_GLOBAL', kind: 'int' },
  '--trusted-proxies': { key: 'trustedProxies', env: 'TAGWAY_TRUSTED_PROXIES', kind: 'string' },
  '--ldap-config': { key: 'ldapConfig', env: 'TAGWAY_LDAP_CONFIG', kind: 'string' },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `--http`, `--http=false`, TAGWAY_HTTP=1 …: anything else is an error rather than a silent "no". */
function parseBool(value: string, source: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${source} must be true or false, got '${value}'`);
}

/** An IPv4/IPv6 address, optionally with a prefix length (what fastify's trustProxy accepts as a list). */
function isAddressOrCidr(s: string): boolean {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || !addr) return false;
  const v = isIP(addr);
  if (v === 0) return false;
  if (bits === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= (v === 4 ? 32 : 128);
}

/**
 * The message for an argument that is no flag: the nearest flag for a typo, and for a bare value the likely cause,
 * `npm start --port 9443` without `--`, where npm keeps `--port` for itself (as npm_config_port) and passes on
 * only `9443`.
 */
function unknownArgument(arg: string, name: string, env: NodeJS.ProcessEnv): string {
  if (name.startsWith('-')) {
    const near = closest(name, Object.keys(FLAGS));
    return `unknown option '${arg}'${near ? `; did you mean '${near}'?` : '.'} Run 'tagway help' for the list of options.`;
  }
  if (env.npm_lifecycle_event === undefined && npmKept(env).length === 0)
    return `unexpected argument '${arg}'. Options are written '--name value' (or '--name=value'); run 'tagway help' for the list.`;
  return `unexpected argument '${arg}'. ${npmHint(env, arg)}`;
}

/** Tagway flags that npm took as its own config (`npm start --port 9443` sets npm_config_port), with their values. */
function npmKept(env: NodeJS.ProcessEnv): Array<[flag: string, value: string]> {
  return Object.keys(FLAGS)
    .map((flag): [string, string | undefined] => [flag, env[`npm_config_${flag.slice(2).replace(/-/g, '_')}`]])
    .filter((e): e is [string, string] => e[1] !== undefined);
}

/** "npm passes options to Tagway only after '--': write 'npm start -- --port 9443' (…)". */
function npmHint(env: NodeJS.ProcessEnv, bare?: string): string {
  const kept = npmKept(env);
  // npm gives a flag written without '=' the value "true" and passes its value on as a bare argument.
  const valueless = kept.filter(([flag, v]) => v === 'true' && FLAGS[flag]!.kind !== 'bool');
  const parts = kept.map(([flag, v]) =>
    FLAGS[flag]!.kind === 'bool'
      ? flag
      : v === 'true'
        ? valueless.length === 1 && bare !== undefined
          ? `${flag} ${bare}`
          : `${flag} …`
        : `${flag} ${v}`,
  );
  if (parts.length === 0) parts.push(`--port ${bare ?? '…'}`);
  return (
    `npm passes options to Tagway only after '--': write 'npm start -- ${parts.join(' ')}'` +
    (kept.length ? ` (npm kept '${kept.map(([f]) => f).join("', '")}' for itself).` : '.')
  );
}

export const CONFIG_FLAGS = Object.entries(FLAGS).map(([flag, f]) => ({ flag, env: f.env, kind: f.kind }));

/** Settings for which 0 would mean "refuse everything": at least 1. */
const AT_LEAST_ONE = new Set([
  'bodyLimit',
  'maxBulkItems',
  'maxConcurrentBulk',
  'maxConnectionsPerAddress',
  'maxHistorySamples',
  'maxConcurrentHistory',
]);

export function defaultConfig(): Config {
  return {
    port: 8443,
    host: '0.0.0.0',
    dataDir: resolve('data'),
    project: undefined,
    http: false,
    tlsCert: undefined,
    tlsKey: undefined,
    bodyLimit: 1_048_576,
    maxBulkItems: 10_000,
    maxConcurrentBulk: 4,
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
    maxConnectionsPerAddress: 64,
    maxHistorySamples: 1_000_000,
    maxConcurrentHistory: 2,
    basePath: '/',
    winccOaPrefix: '/reporting',
    logLevel: 'info',
    adminPassword: undefined,
    sessions: { ...DEFAULT_SESSION_SETTINGS },
    sqliteSynchronous: 'FULL',
    databaseUrl: undefined,
    trustedProxies: [],
    security: { throttle: {}, corsOrigins: [] },
  };
}

/**
 * The cluster link's TLS files: only with --cluster-url, certificate and key together, and readable PEM that fits
 * (read here, so that a bad file stops `tagway start` at once with the option named).
 */
function checkClusterTls(c: Config): void {
  const given = [
    ['--cluster-ca', c.clusterCa],
    ['--cluster-cert', c.clusterCert],
    ['--cluster-key', c.clusterKey],
  ]
    .filter(([, file]) => file !== undefined)
    .map(([flag]) => flag);
  if (given.length === 0) return;
  if (c.clusterUrl === undefined)
    throw new ConfigError(`${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} for the cluster link to NATS: give --cluster-url too`);
  try {
    loadNatsTls(c.clusterUrl, { ca: c.clusterCa, cert: c.clusterCert, key: c.clusterKey });
  } catch (err) {
    if (err instanceof NatsTlsError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Reads settings from argv (after the command) and env; throws ConfigError with a clear message. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const c = defaultConfig();
  const raw = new Map<string, string | true>();
  for (const [flag, f] of Object.entries(FLAGS)) {
    const v = env[f.env];
    if (v !== undefined && v !== '') raw.set(flag, f.kind === 'bool' ? (parseBool(v, f.env) ? true : 'false') : v);
  }
  // `npm start --http` (no `--`) would otherwise start without the option, silently.
  if (env.npm_lifecycle_event === 'start' && npmKept(env).length > 0) {
    const bare = argv.find((a) => !a.startsWith('-'));
    throw new ConfigError(bare === undefined ? npmHint(env) : `unexpected argument '${bare}'. ${npmHint(env, bare)}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const f = FLAGS[name];
    if (!f) throw new ConfigError(unknownArgument(arg, name, env));
    if (f.kind === 'bool') {
      raw.set(name, inline === undefined || parseBool(inline, name) ? true : 'false');
      continue;
    }
    // `--project --port 9000` must not take '--port' as the project file (use --project=--odd-name for that).
    const value = inline ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i]);
    if (value === undefined) throw new ConfigError(`option '${name}' needs a value`);
    raw.set(name, value);
  }
  for (const [flag, value] of raw) {
    const f = FLAGS[flag]!;
    const source = `${flag} / ${f.env}`;
    if (f.kind === 'bool') {
      (c as unknown as Record<string, unknown>)[f.key] = value === true;
      continue;
    }
    const s = String(value);
    if (f.kind === 'int') {
      if (!/^[0-9]+$/.test(s)) throw new ConfigError(`${source} must be a whole number, got '${s}'`);
      const n = Number(s);
      if (f.key === 'sessionIdle') {
        if (n < 1) throw new ConfigError(`${source} must be at least 1`);
        c.sessions.idleTimeoutMs = n * 60_000;
        continue;
      }
      if (f.key === 'sessionLifetime') {
        if (n < 1) throw new ConfigError(`${source} must be at least 1`);
        c.sessions.absoluteLifetimeMs = n * 3_600_000;
        continue;
      }
      const seconds = {
        requestTimeout: 'requestTimeoutMs',
        headersTimeout: 'headersTimeoutMs',
        keepAliveTimeout: 'keepAliveTimeoutMs',
        idleTimeout: 'idleTimeoutMs',
      } as const;
      if (f.key in seconds) {
        if (n < 1 || n > 3600) throw new ConfigError(`${source} must be 1…3600`);
        c[seconds[f.key as keyof typeof seconds]] = n * 1000;
        continue;
      }
      const t = c.security.throttle;
      if (f.key === 'jwtLifetime') {
        if (n < 1 || n > 1440) throw new ConfigError(`${source} must be 1…1440`);
        c.security.jwtLifetimeMs = n * 60_000;
        continue;
      }
      if (f.key === 'maxFailuresUser') {
        if (n < 1) throw new ConfigError(`${source} must be at least 1`);
        t.maxFailuresPerUser = n;
        continue;
      }
      if (f.key === 'maxFailuresAddress') {
        if (n < 1) throw new ConfigError(`${source} must be at least 1`);
        t.maxFailuresPerAddress = n;
        continue;
      }
      if (f.key === 'loginWindow') {
        if (n < 1) throw new ConfigError(`${source} must be at least 1`);
        t.windowMs = n * 60_000;
        continue;
      }
      if (f.key === 'coolingOff') {
        if (n < 1) throw new ConfigError(`${source} must be at least 1`);
        t.coolingOffMs = n * 1000;
        continue;
      }
      if (f.key === 'lockoutAfter') {
        t.lockoutAfter = n;
        continue;
      }
      if (f.key === 'maxFailuresGlobal') {
        t.maxFailuresGlobal = n;
        continue;
      }
      if ((f.key === 'port' || f.key === 'winccClassicPort') && n > 65535)
        throw new ConfigError(`${source} must be a port number 0…65535, got ${n}`);
      if (AT_LEAST_ONE.has(f.key) && n < 1) throw new ConfigError(`${source} must be at least 1`);
      (c as unknown as Record<string, unknown>)[f.key] = n;
      continue;
    }
    if (f.key === 'corsOrigins') {
      const origins = s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const o of origins)
        if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`${source}: '${o}' is not an origin like https://host:port`);
      c.security.corsOrigins = origins;
      continue;
    }
    if (f.key === 'trustedProxies') {
      const list = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      for (const x of list)
        if (!isAddressOrCidr(x)) throw new ConfigError(`${source}: '${x}' is not an IP address or CIDR block like 10.0.0.0/8`);
      c.trustedProxies = list;
      continue;
    }
    if (f.key === 'ldapConfig') {
      try {
        c.security.ldap = JSON.parse(readFileSync(resolve(s), 'utf8')) as LdapSettings;
      } catch (err) {
        throw new ConfigError(`${source}: cannot read LDAP settings from '${s}': ${(err as Error).message}`);
      }
      continue;
    }
    (c as unknown as Record<string, unknown>)[f.key] = s;
  }
  if (c.sqliteSynchronous !== 'FULL' && c.sqliteSynchronous !== 'NORMAL')
    throw new ConfigError(`--sqlite-synchronous must be FULL or NORMAL`);
  if (c.databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^/]/.test(c.databaseUrl))
    throw new ConfigError('--database-url must be a PostgreSQL URL like postgres://user:password@host:5432/database');
  if (c.clusterUrl !== undefined && !/^(nats|tls):\/\/[^/]/.test(c.clusterUrl))
    throw new ConfigError('--cluster-url must be a NATS URL like nats://127.0.0.1:4222');
  if (c.clusterUrl !== undefined && c.databaseUrl === undefined)
    throw new ConfigError('--cluster-url needs a shared PostgreSQL database: give --database-url (or TAGWAY_DATABASE_URL) too');
  if (c.clusterLeaseMs !== undefined && (c.clusterLeaseMs < 1500 || c.clusterLeaseMs > 300_000))
    throw new ConfigError('--cluster-lease-ms must be between 1500 and 300000');
  checkClusterTls(c);
  if (!LOG_LEVELS.includes(c.logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${c.logLevel}'`);
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined))
    throw new ConfigError('--tls-cert and --tls-key go together: give both or neither');
  if (c.headersTimeoutMs > c.requestTimeoutMs)
    throw new ConfigError('--headers-timeout-seconds must not be longer than --request-timeout-seconds');
  if (!c.basePath.startsWith('/')) throw new ConfigError(`--base-path must start with '/'`);
  c.basePath = c.basePath.replace(/\/+$/, '') || '/';
  if (!/^\/[A-Za-z0-9._~/-]*[^/]$/.test(c.winccOaPrefix)) throw new ConfigError(`--wincc-oa-prefix must start with '/' and name a path`);
  c.dataDir = resolve(c.dataDir);
  // The project path stays as given (relative to the working directory), so that `tagway start` names the
  // file in its problem lines exactly as `tagway check` does.
  c.adminPassword = env.TAGWAY_ADMIN_PASSWORD;
  return c;
}
