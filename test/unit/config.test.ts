import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FLAGS, defaultConfig, loadConfig } from '../../src/config.js';
import { DEFAULT_SESSION_SETTINGS } from '../../src/auth/sessions.js';
import { configError, load } from '../helpers/config.js';
import { createTestNatsCertificates } from '../helpers/nats.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = load([]);
    expect(c).toEqual({
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
      sessions: DEFAULT_SESSION_SETTINGS,
      sqliteSynchronous: 'FULL',
      trustedProxies: [],
      security: { corsOrigins: [], throttle: {} },
    });
    expect(defaultConfig()).toEqual(c);
  });

  it('reads every flag', () => {
    const c = load([
      '--port',
      '9443',
      '--host',
      '127.0.0.1',
      '--data-dir',
      '/var/lib/tagway',
      '--project',
      'plant.yaml',
      '--http',
      '--body-limit',
      '2048',
      '--max-bulk-items',
      '50',
      '--max-concurrent-bulk',
      '2',
      '--max-history-samples',
      '20000',
      '--max-concurrent-history=3',
      '--base-path',
      '/scada/',
      '--log-level',
      'debug',
      '--session-idle-minutes',
      '5',
      '--session-lifetime-hours',
      '2',
      '--sqlite-synchronous',
      'NORMAL',
    ]);
    expect(c).toMatchObject({
      port: 9443,
      host: '127.0.0.1',
      dataDir: '/var/lib/tagway',
      project: 'plant.yaml',
      http: true,
      bodyLimit: 2048,
      maxBulkItems: 50,
      maxConcurrentBulk: 2,
      maxHistorySamples: 20_000,
      maxConcurrentHistory: 3,
      basePath: '/scada',
      logLevel: 'debug',
      sessions: { idleTimeoutMs: 5 * 60_000, absoluteLifetimeMs: 2 * 3_600_000 },
      sqliteSynchronous: 'NORMAL',
    });
    const tls = load(['--tls-cert', 'c.pem', '--tls-key=k.pem']);
    expect(tls).toMatchObject({ tlsCert: 'c.pem', tlsKey: 'k.pem', http: false });
  });

  it('reads every environment variable', async () => {
    const ldapFile = join(mkdtempSync(join(tmpdir(), 'tagway-cfg-')), 'ldap.json');
    const nats = await createTestNatsCertificates(dirname(ldapFile));
    writeFileSync(ldapFile, JSON.stringify({ url: 'ldap://127.0.0.1:389', userDn: 'uid={username},dc=x', groupMap: {} }));
    const env = {
      TAGWAY_PORT: '9443',
      TAGWAY_HOST: '::1',
      TAGWAY_DATA_DIR: 'd',
      TAGWAY_PROJECT: 'p.yaml',
      TAGWAY_HTTP: 'true',
      TAGWAY_TLS_CERT: 'c.pem',
      TAGWAY_TLS_KEY: 'k.pem',
      TAGWAY_BODY_LIMIT: '100',
      TAGWAY_MAX_BULK_ITEMS: '7',
      TAGWAY_MAX_CONCURRENT_BULK: '3',
      TAGWAY_REQUEST_TIMEOUT_SECONDS: '20',
      TAGWAY_HEADERS_TIMEOUT_SECONDS: '4',
      TAGWAY_WINCC_CLASSIC_PORT: '34569',
      TAGWAY_KEEP_ALIVE_TIMEOUT_SECONDS: '3',
      TAGWAY_IDLE_TIMEOUT_SECONDS: '90',
      TAGWAY_MAX_CONNECTIONS_PER_ADDRESS: '16',
      TAGWAY_MAX_HISTORY_SAMPLES: '5000',
      TAGWAY_MAX_CONCURRENT_HISTORY: '4',
      TAGWAY_BASE_PATH: '/x',
      TAGWAY_WINCC_OA_PREFIX: '/oa',
      TAGWAY_LOG_LEVEL: 'warn',
      TAGWAY_SESSION_IDLE_MINUTES: '1',
      TAGWAY_SESSION_LIFETIME_HOURS: '3',
      TAGWAY_SQLITE_SYNCHRONOUS: 'NORMAL',
      TAGWAY_DATABASE_URL: 'postgres://tagway:pw@db.example:5432/tagway',
      TAGWAY_WEB_DIR: 'none',
      TAGWAY_CLUSTER_URL: 'nats://nats.example:4222',
      TAGWAY_NODE_ID: 'node-1',
      TAGWAY_CLUSTER_LEASE_MS: '8000',
      TAGWAY_CLUSTER_CA: nats.caCert,
      TAGWAY_CLUSTER_CERT: nats.clientCert,
      TAGWAY_CLUSTER_KEY: nats.clientKey,
      TAGWAY_ADMIN_PASSWORD: 'first-admin-pw',
      TAGWAY_CORS_ORIGINS: 'https://hmi.example, http://127.0.0.1:5173',
      TAGWAY_JWT_LIFETIME_MINUTES: '5',
      TAGWAY_LOGIN_MAX_FAILURES_USER: '3',
      TAGWAY_LOGIN_MAX_FAILURES_ADDRESS: '9',
      TAGWAY_LOGIN_WINDOW_MINUTES: '2',
      TAGWAY_LOGIN_COOLING_OFF_SECONDS: '30',
      TAGWAY_LOGIN_LOCKOUT_AFTER: '10',
      TAGWAY_LOGIN_MAX_FAILURES_GLOBAL: '50',
      TAGWAY_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,fd00::/8',
      TAGWAY_LDAP_CONFIG: ldapFile,
    };
    expect(load([], env)).toEqual({
      port: 9443,
      host: '::1',
      dataDir: resolve('d'),
      project: 'p.yaml',
      http: true,
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
      bodyLimit: 100,
      maxBulkItems: 7,
      maxConcurrentBulk: 3,
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 4_000,
      keepAliveTimeoutMs: 3_000,
      idleTimeoutMs: 90_000,
      maxConnectionsPerAddress: 16,
      maxHistorySamples: 5000,
      maxConcurrentHistory: 4,
      basePath: '/x',
      winccOaPrefix: '/oa',
      winccClassicPort: 34569,
      logLevel: 'warn',
      adminPassword: 'first-admin-pw',
      sessions: { idleTimeoutMs: 60_000, absoluteLifetimeMs: 3 * 3_600_000 },
      sqliteSynchronous: 'NORMAL',
      databaseUrl: 'postgres://tagway:pw@db.example:5432/tagway',
      webDir: 'none',
      clusterUrl: 'nats://nats.example:4222',
      nodeId: 'node-1',
      clusterLeaseMs: 8000,
      clusterCa: nats.caCert,
      clusterCert: nats.clientCert,
      clusterKey: nats.clientKey,
      trustedProxies: ['10.0.0.1', '192.168.0.0/16', 'fd00::/8'],
      security: {
        corsOrigins: ['https://hmi.example', 'http://127.0.0.1:5173'],
        jwtLifetimeMs: 5 * 60_000,
        throttle: {
          maxFailuresPerUser: 3,
          maxFailuresPerAddress: 9,
          windowMs: 2 * 60_000,
          coolingOffMs: 30_000,
          lockoutAfter: 10,
          maxFailuresGlobal: 50,
        },
        ldap: { url: 'ldap://127.0.0.1:389', userDn: 'uid={username},dc=x', groupMap: {} },
      },
    });
    // Every flag has exactly one environment variable, and the test above names each.
    expect(CONFIG_FLAGS.map((f) => f.env).sort()).toEqual(
      Object.keys(env)
        .filter((k) => k !== 'TAGWAY_ADMIN_PASSWORD')
        .sort(),
    );
  });

  it('refuses a cluster without a PostgreSQL database, a URL that is not NATS and a lease out of range', () => {
    expect(configError(['--cluster-url', 'nats://127.0.0.1:4222'])).toMatch(/--cluster-url needs a shared PostgreSQL database/);
    expect(configError(['--cluster-url', 'http://x', '--database-url', 'postgres://db/t'])).toMatch(/--cluster-url must be a NATS URL/);
    expect(configError(['--cluster-url', 'nats://x:4222', '--database-url', 'postgres://db/t', '--cluster-lease-ms', '100'])).toMatch(
      /--cluster-lease-ms must be between/,
    );
  });

  it('refuses a database URL that is not a PostgreSQL one', () => {
    expect(configError(['--database-url', 'mysql://x@db/t'])).toMatch(/--database-url must be a PostgreSQL URL/);
    expect(load(['--database-url=postgresql://db/t']).databaseUrl).toBe('postgresql://db/t');
  });

  it('refuses a CORS entry that is not an origin and an unreadable LDAP file', () => {
    expect(configError(['--cors-origins', 'https://ok.example,hmi.example'])).toMatch(/not an origin/);
    expect(configError(['--ldap-config', '/nonexistent/ldap.json'])).toMatch(/cannot read LDAP settings/);
    expect(configError(['--trusted-proxies', '10.0.0.0/33'])).toMatch(/not an IP address or CIDR/);
    expect(configError(['--trusted-proxies', 'proxy.example'])).toMatch(/not an IP address or CIDR/);
  });

  it('flags win over the environment; an empty variable counts as unset', () => {
    const env = { TAGWAY_PORT: '1111', TAGWAY_HOST: '10.0.0.1', TAGWAY_HTTP: '1', TAGWAY_LOG_LEVEL: '' };
    const c = load(['--port', '2222', '--http=false'], env);
    expect(c.port).toBe(2222);
    expect(c.host).toBe('10.0.0.1');
    expect(c.http).toBe(false);
    expect(c.logLevel).toBe('info');
  });

  it('accepts --flag=value and --flag value, port 0 and 65535', () => {
    expect(load(['--port=0']).port).toBe(0);
    expect(load(['--port', '65535']).port).toBe(65535);
    expect(load(['--data-dir=/a=b']).dataDir).toBe('/a=b');
  });

  it('reads boolean words', () => {
    for (const v of ['1', 'true', 'YES', 'on']) expect(load([], { TAGWAY_HTTP: v }).http).toBe(true);
    for (const v of ['0', 'false', 'No', 'off']) expect(load([], { TAGWAY_HTTP: v }).http).toBe(false);
    expect(load(['--http=on']).http).toBe(true);
  });

  it('resolves the data dir, keeps the project path as given, normalises the base path', () => {
    const c = load(['--data-dir', 'rel/dir', '--project', 'plants/a.yaml', '--base-path', '/a//']);
    expect(c.dataDir).toBe(resolve('rel/dir'));
    expect(c.project).toBe('plants/a.yaml');
    expect(c.basePath).toBe('/a');
    expect(load(['--base-path', '/']).basePath).toBe('/');
  });

  describe('errors', () => {
    it('port out of range or not a number', () => {
      expect(configError(['--port', '70000'])).toBe('--port / TAGWAY_PORT must be a port number 0…65535, got 70000');
      expect(configError([], { TAGWAY_PORT: '70000' })).toMatch(/must be a port number/);
      expect(configError(['--port', 'http'])).toBe("--port / TAGWAY_PORT must be a whole number, got 'http'");
      expect(configError(['--port', '-1'])).toMatch(/must be a whole number, got '-1'/);
      expect(configError(['--port', '80.5'])).toMatch(/whole number/);
      expect(configError(['--port='])).toMatch(/whole number, got ''/);
      expect(configError([], { TAGWAY_PORT: 'abc' })).toMatch(/whole number, got 'abc'/);
    });

    it('unknown option', () => {
      expect(configError(['--prot', '8443'])).toBe(
        "unknown option '--prot'; did you mean '--port'? Run 'tagway help' for the list of options.",
      );
      expect(configError(['--port', '1', 'extra'])).toMatch(/^unexpected argument 'extra'\. Options are written '--name value'/);
      expect(configError(['--verbose=1'])).toBe("unknown option '--verbose=1'. Run 'tagway help' for the list of options.");
    });

    it('a bare value after `npm start` without `--` names the option npm kept for itself', () => {
      // `npm start --port 9443` runs `tagway start 9443` with npm_config_port=true in the environment.
      const m = configError(['9443'], { npm_lifecycle_event: 'start', npm_config_port: 'true' });
      expect(m).toBe(
        "unexpected argument '9443'. npm passes options to Tagway only after '--': write 'npm start -- --port 9443' (npm kept '--port' for itself).",
      );
      // `npm start --data-dir /x --port=9443`: both flags kept by npm, only '/x' passed on.
      expect(configError(['/x'], { npm_lifecycle_event: 'start', npm_config_data_dir: 'true', npm_config_port: '9443' })).toBe(
        "unexpected argument '/x'. npm passes options to Tagway only after '--': write 'npm start -- --port 9443 --data-dir /x' (npm kept '--port', '--data-dir' for itself).",
      );
      // `npm start --http`: nothing reaches Tagway, which would otherwise start without the option.
      expect(configError([], { npm_lifecycle_event: 'start', npm_config_http: 'true' })).toBe(
        "npm passes options to Tagway only after '--': write 'npm start -- --http' (npm kept '--http' for itself).",
      );
      // Under other npm scripts (npm test) npm_config_* of the test runner are not Tagway's business.
      expect(load(['--port', '1'], { npm_lifecycle_event: 'test', npm_config_port: 'true' }).port).toBe(1);
      expect(configError(['--data-dirr', 'x'])).toContain("did you mean '--data-dir'?");
      expect(configError(['--sesion-idle-minutes', '5'])).toContain("did you mean '--session-idle-minutes'?");
    });

    it('missing value, also when the next word is another option', () => {
      expect(configError(['--port'])).toBe("option '--port' needs a value");
      expect(configError(['--project', '--port', '9000'])).toBe("option '--project' needs a value");
      expect(load(['--project=--odd.yaml']).project).toBe('--odd.yaml');
    });

    it('limits, levels, modes and paths', () => {
      expect(configError(['--body-limit', '0'])).toMatch(/--body-limit \/ TAGWAY_BODY_LIMIT must be at least 1/);
      expect(configError(['--max-bulk-items', '0'])).toMatch(/must be at least 1/);
      expect(configError(['--max-concurrent-bulk', '0'])).toMatch(/--max-concurrent-bulk \/ TAGWAY_MAX_CONCURRENT_BULK must be at least 1/);
      expect(configError(['--max-history-samples', '0'])).toMatch(/TAGWAY_MAX_HISTORY_SAMPLES must be at least 1/);
      expect(configError(['--max-concurrent-history', '0'])).toMatch(/TAGWAY_MAX_CONCURRENT_HISTORY must be at least 1/);
      expect(configError(['--session-idle-minutes', '0'])).toMatch(/must be at least 1/);
      expect(configError(['--session-lifetime-hours', '0'])).toMatch(/must be at least 1/);
      expect(configError(['--sqlite-synchronous', 'OFF'])).toBe('--sqlite-synchronous must be FULL or NORMAL');
      expect(configError(['--base-path', 'api'])).toBe("--base-path must start with '/'");
      expect(configError(['--log-level', 'loud'])).toMatch(
        /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'/,
      );
      expect(configError(['--http=maybe'])).toBe("--http must be true or false, got 'maybe'");
      expect(configError([], { TAGWAY_HTTP: 'banana' })).toBe("TAGWAY_HTTP must be true or false, got 'banana'");
    });

    it('--tls-cert and --tls-key go together', () => {
      expect(configError(['--tls-cert', 'c.pem'])).toMatch(/--tls-cert and --tls-key go together/);
      expect(configError([], { TAGWAY_TLS_KEY: 'k.pem' })).toMatch(/go together/);
    });
  });
});

describe('--wincc-oa-prefix', () => {
  it('must start with a slash and name a path', () => {
    expect(loadConfig(['--wincc-oa-prefix', '/wincc/reporting'], {}).winccOaPrefix).toBe('/wincc/reporting');
    for (const bad of ['reporting', '/', '/reporting/', '/a b'])
      expect(() => loadConfig(['--wincc-oa-prefix', bad], {})).toThrow(/wincc-oa-prefix/);
  });
});
