import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp, type AppOptions } from './adapters/http/rest/app.js';
import type { Config } from './config.js';
import { DEMO_PROJECT_FILE, loadProjectFile } from './project/load.js';
import type { Project } from './project/types.js';
import { Runtime } from './runtime/runtime.js';
import type { Clock } from './domain/clock.js';
import { createLogger } from './server/logger.js';
import { ensureTls } from './server/tls.js';
import { listenAlso } from './server/extra-listener.js';
import { checkPortFree, lockDataDir } from './server/instance-lock.js';
import { registerBuiltIns } from './server/built-ins.js';
import { clusterMetricSource, engineMetricSources } from './server/metric-sources.js';
import { tagwayVersion } from './server/version.js';
import { openStorage } from './storage/open.js';
import { redactUrl } from './storage/postgres/db.js';
import { driverModule } from './drivers/registry.js';
import type { AlarmEngine } from './runtime/alarms/engine.js';
import { createAlarmEngine } from './runtime/alarms/setup.js';
import { Historian } from './runtime/historian.js';
import { HistoryQueries } from './runtime/history-query.js';
import { pushExtension, type PushService } from './adapters/http/rest/push/index.js';
import { adminRoutes } from './adapters/http/rest/admin/routes.js';
import { alarmRoutes } from './adapters/http/rest/alarms/routes.js';
import { auditRoutes } from './adapters/http/rest/audit/routes.js';
import { exportRoutes } from './adapters/http/rest/exports/routes.js';
import { composeExports } from './server/exports.js';
import type { Authenticator } from './adapters/http/rest/authenticate.js';
import { historyRoutes } from './adapters/http/rest/history/routes.js';
import { metricsRoutes } from './adapters/http/rest/metrics/routes.js';
import type { ApiPlugin } from './adapters/http/rest/plugin.js';
import { winccOaReporting } from './adapters/http/wincc-oa/reporting.js';
import { winccClassic } from './adapters/http/wincc-classic/plugin.js';
import { winccUnified } from './adapters/http/wincc-unified/index.js';
import { securityAuthenticators } from './adapters/http/rest/security/authenticators.js';
import { tokenRoutes } from './adapters/http/rest/security/token-routes.js';
import { AlarmService } from './services/alarm-service.js';
import { AuditService } from './services/audit-service.js';
import { AuthService } from './services/auth-service.js';
import { BoardService } from './services/board-service.js';
import { ConnectionService } from './services/connection-service.js';
import { HistoryService, MAX_TAGS_PER_QUERY } from './services/history-service.js';
import { MetricsService, type MetricSource } from './services/metrics-service.js';
import type { Services } from './services/services.js';
import { TagService } from './services/tag-service.js';
import { UserAdminService } from './services/user-admin-service.js';
import { createMqttPublisher, readMqttPublisherSettings } from './northbound/mqtt/index.js';
import { ClusterService } from './services/cluster-service.js';
import { clusterSettings, redactNatsUrl, startCluster } from './cluster/setup.js';
import type { ClusterLink } from './cluster/link.js';
import { joinAlarms, type ClusterAlarms } from './cluster/alarms.js';
import { clusterRoutes } from './adapters/http/rest/cluster/routes.js';
import { PgClusterRepository } from './storage/postgres/pg-cluster-repository.js';
import { createPool } from './storage/postgres/open-postgres.js';

/**
 * The composition root: the one place that chooses concrete parts and wires them, in this order:
 * config → storage → runtime (engines) → services → front ends. Stop runs in reverse. Nothing else in src/ opens
 * storage or constructs a service (lint: .dependency-cruiser.cjs).
 */

export interface RunningServer {
  app: FastifyInstance;
  runtime: Runtime;
  /** The service layer every front end calls. */
  services: Services;
  /** The engines beside the tag engine, as the composition built them (tests and benchmarks look inside). */
  engines: Composition['engines'];
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  port: number;
  /** The second port (`--wincc-classic-port`) when one is configured. */
  winccClassicPort?: number | undefined;
  /** PEM of the server certificate (tests trust it). */
  certificate: string | undefined;
  fingerprint: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
  print?: (line: string) => void;
  project?: Project;
  /** With `project`: the file it was read from, which reloads re-read. Without `project`, the configured file. */
  projectFile?: string | undefined;
}

/**
 * Loads the project, starts the runtime and serves the API. Throws ProjectError for an invalid project, and
 * StartupError when the port is taken or another instance holds the data directory: both are checked before
 * anything has a side effect (database, drivers, the admin and its printed password).
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  registerBuiltIns();
  await checkPortFree(config.host, config.port);
  if (config.winccClassicPort) await checkPortFree(config.host, config.winccClassicPort);
  // Reading the project only reads (its cache is written seconds later); an invalid file creates nothing.
  const projectFile = opts.project ? opts.projectFile : (config.project ?? DEMO_PROJECT_FILE);
  const project = opts.project ?? loadProjectFile(config.project ?? DEMO_PROJECT_FILE, { cacheDir: join(config.dataDir, 'cache') });
  const lock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, opts, project, projectFile, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(
  config: Config,
  opts: StartOptions,
  project: Project,
  projectFile: string | undefined,
  releaseLock: () => void,
): Promise<RunningServer> {
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  // Refused before anything starts: a cluster member without the shared database would run every driver alone.
  const cluster = clusterSettings(config);
  const logger = opts.logger ?? createLogger(config.logLevel);
  const tls = config.http ? undefined : await ensureTls(config.dataDir, config.tlsCert, config.tlsKey);
  const storage = await openStorage({
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
    databaseUrl: config.databaseUrl,
    // Once, at the failure; the refused writes then log `storage unavailable` (at most once a minute).
    onDurabilityLost: (err) =>
      logger.error(
        { code: (err as { code?: unknown }).code, error: err.message },
        'storage: WAL sync failed, writes refused until restart',
      ),
  });
  if (config.databaseUrl) print(`Storage: PostgreSQL at ${redactUrl(config.databaseUrl)}`);
  const runtime = new Runtime({ config, project, logger, clock: opts.clock, print, projectFile, storage });
  let ext: Composition;
  try {
    ext = await compose(runtime);
    await runtime.start();
    for (const start of ext.afterStart) start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  const appOptions: AppOptions = {
    https: tls,
    authenticators: ext.authenticators,
    plugins: ext.plugins,
    services: ext.services,
    dashboardDir: config.webDir === 'none' ? false : config.webDir,
  };
  let app: FastifyInstance;
  let extra: Awaited<ReturnType<typeof listenAlso>> | undefined;
  try {
    app = await buildApp(runtime, appOptions);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  if (config.winccClassicPort !== undefined) {
    try {
      extra = await listenAlso(app.server, config.host, config.winccClassicPort);
    } catch (err) {
      await app.close();
      await runtime.stop();
      throw err;
    }
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost =
    config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${config.http ? 'http' : 'https'}://${shownHost}:${port}`;
  if (config.http) print(`WARNING: serving plain HTTP; passwords and tokens cross the network unencrypted. Use HTTPS outside a lab.`);
  if (tls) print(`TLS certificate ${tls.generated ? 'generated' : 'loaded'}: ${tls.certFile}\n  SHA-256 fingerprint ${tls.fingerprint}`);
  ext.cluster?.setAddress(url);
  if (cluster) print(`Cluster: node '${cluster.nodeId}' on ${redactNatsUrl(cluster.url)}`);
  print(
    `Tagway serving project '${project.name}' (${runtime.tags.size} tags) on ${url}  — API docs at ${url}${config.basePath === '/' ? '' : config.basePath}/docs`,
  );
  if (extra)
    print(
      `The same API (WinCC REST service at ${config.basePath === '/' ? '' : config.basePath}/WinCCRestService) also on port ${extra.port}`,
    );
  let stopped: Promise<void> | undefined;
  return {
    app,
    runtime,
    services: ext.services,
    engines: ext.engines,
    url,
    port,
    winccClassicPort: extra?.port,
    certificate: tls?.cert,
    fingerprint: tls?.fingerprint,
    stop: () => {
      stopped ??= (async () => {
        try {
          const extraClosed = extra?.close();
          await app.close();
          await extraClosed;
          await runtime.stop();
        } finally {
          releaseLock();
        }
      })();
      return stopped;
    },
  };
}

/**
 * The non-HTTP front ends the project configures (`northbound:`), started over the same services and stopped with
 * the runtime. node-opcua is loaded only when the OPC UA server is configured (it takes a while to load).
 */
async function startOpcUaNorthbound(runtime: Runtime, services: Services): Promise<void> {
  const opcua = runtime.project.raw.northbound?.opcua;
  if (opcua) {
    const { startOpcUaServer } = await import('./northbound/opcua/server.js');
    const { opcUaSettings } = await import('./northbound/opcua/settings.js');
    const server = await startOpcUaServer({
      settings: opcUaSettings(opcua),
      services,
      tags: runtime.tags,
      events: runtime.events,
      dataDir: runtime.config.dataDir,
      logger: runtime.logger.child({ service: 'opcua-server' }),
      version: tagwayVersion(),
    });
    runtime.onStop(() => server.stop());
    runtime.logger.info(`OPC UA server on ${server.endpointUrl} (${server.exposed} tags)`);
  }
}

/** What the composition gives the HTTP front end: the services, and the routes and authenticators beyond the core. */
export interface Composition {
  services: Services;
  plugins: AppOptions['plugins'] & object;
  authenticators: Authenticator[];
  /** Front ends that connect out (the MQTT publisher): started once the drivers run, so that they publish first values. */
  afterStart: Array<() => void>;
  engines: { alarms: AlarmEngine; push: PushService };
  /** This node's cluster link, when it is a cluster member. */
  cluster?: ClusterLink | undefined;
}

/**
 * Builds the engines that run beside the tag engine (alarms, historian, push), then every service over them. Each
 * engine registers its shutdown with `runtime.onStop`: hooks run in reverse order after the drivers stopped and
 * before storage closes. Call before `runtime.start()`, so that the engines hear the drivers' first values.
 */
export async function compose(runtime: Runtime): Promise<Composition> {
  const { config, security } = runtime;
  // A cluster member: drivers start only for the connections whose lease this node wins (src/cluster/).
  // (startServer refused a cluster URL without a database already; startCluster reads the settings once.)
  const cluster =
    config.clusterUrl !== undefined && config.databaseUrl
      ? await startCluster(runtime, new PgClusterRepository(createPool(config.databaseUrl, 3)))
      : undefined;
  // In a cluster the owner of a connection evaluates its alarms; every node lists them all (src/cluster/alarms.ts).
  let clusterAlarms: ClusterAlarms | undefined;
  const alarms = await createAlarmEngine(runtime, {
    join: cluster ? async (engine) => (clusterAlarms = await joinAlarms(cluster, runtime, engine)) : undefined,
  });
  // Audited by the node that journaled the event (another node's events reach this one too, for its channels).
  runtime.onStop(security.audit.attachToAlarms({ onEvent: (l) => alarms.onLocalEvent(l) }));
  // The alarm journal's storage state in /health: degraded while events wait for a journal that refuses commits.
  runtime.onStop(
    runtime.storageHealth.register(() => {
      const s = alarms.storageState();
      return s.state === 'ok'
        ? { name: 'alarm journal', ok: true }
        : {
            name: 'alarm journal',
            ok: false,
            reason: `${s.reason ?? 'commit refused'}; ${s.pendingEvents} events waiting since ${s.since ?? '?'}`,
          };
    }),
  );
  // Audit rows held in memory while storage refuses them (retried every 500 ms, in order, never silently dropped).
  runtime.onStop(runtime.storageHealth.register(() => ({ name: 'audit trail', ...security.audit.storageState() })));
  // Tag logging: the historian logs each history tag's current state as its first point and flushes at stop.
  const historian = new Historian(runtime.tags, runtime.storage.history, runtime.clock, {
    logger: runtime.logger.child({ service: 'historian' }),
  });
  const queries = new HistoryQueries(runtime.tags, runtime.storage.history, historian, runtime.clock);
  if (cluster) historian.restrictTo((connection) => cluster.isLocal(connection));
  historian.start();
  runtime.onStop(() => historian.stop());
  // ERP exports: stopped (hooks run in reverse) before the historian flushes its last samples.
  const exportsPart = await composeExports(runtime, historian);
  // The event bus carries what the engines commit, for whoever listens (a cluster link, later front ends). The
  // tag engine's changes are forwarded only while someone listens: the hot path pays one check per change.
  const bus = runtime.events;
  runtime.onStop(alarms.onEvent((e) => bus.emit('alarm.committed', e)));
  security.audit.onCommitted = (e) => bus.emit('audit.recorded', e);
  security.audit.committedListened = () => bus.has('audit.recorded');
  runtime.onStop(runtime.tags.onChange((c) => bus.has('tag.changed') && bus.emit('tag.changed', c)));
  // Live push (/ws, /events): tag values, and the alarm engine's committed journal events.
  const push = pushExtension(runtime, { alarms });

  const connections = new ConnectionService({
    connections: runtime.connections,
    tags: runtime.tags,
    audit: security.audit,
    reload: () => runtime.reloadProjectFile(),
    projectFile: () => runtime.projectFile,
    driverModule,
  });
  const metricSources: MetricSource[] = [
    ...engineMetricSources(alarms, historian, push.service.hub),
    exportsPart.metrics,
    ...(cluster ? [clusterMetricSource(cluster, clusterAlarms)] : []),
  ];
  const services: Services = {
    tags: new TagService(runtime.tags, security.audit, {
      maxBulkItems: config.maxBulkItems,
      maxConcurrentBulk: config.maxConcurrentBulk,
    }),
    alarms: new AlarmService({ engine: alarms, audit: security.audit, maxBulkItems: config.maxBulkItems }),
    history: new HistoryService(queries, runtime.clock, {
      maxSamples: config.maxHistorySamples,
      maxConcurrent: config.maxConcurrentHistory,
      maxTags: MAX_TAGS_PER_QUERY,
    }),
    connections,
    metrics: new MetricsService({
      tags: runtime.tags,
      connections,
      uptimeMs: () => runtime.clock.now() - runtime.startedAt,
      sources: metricSources,
    }),
    users: new UserAdminService({
      users: runtime.users,
      groups: security.groups,
      clients: security.clients,
      sessions: runtime.sessions,
      audit: security.audit,
      events: runtime.events,
      throttle: {
        reserve: (u, o) => security.reserve(u, o),
        failed: (a, u, o, action) => security.failed(a, u, o, action),
        reset: (u) => security.throttle.reset(u),
      },
    }),
    audit: new AuditService(security.auditLog),
    auth: new AuthService({
      login: (u, p, o) => security.login(u, p, o),
      sessions: runtime.sessions,
      audit: security.audit,
      principalOf: (u, method) => {
        const r = runtime.users.get(u);
        return r && !r.disabled ? security.principalOf(r, method) : undefined;
      },
      permissionsFor: (groups) => runtime.users.permissionsFor(groups),
    }),
    exports: exportsPart.service,
    boards: new BoardService({
      repo: runtime.storage.boards,
      audit: security.audit,
      tagExists: (name) => runtime.tags.get(name) !== undefined,
      groupExists: (name) => runtime.users.group(name) !== undefined,
      now: () => runtime.clock.now(),
    }),
  };
  await startOpcUaNorthbound(runtime, services);
  const afterStart = composeMqttNorthbound(runtime, services, metricSources);
  return {
    afterStart,
    engines: { alarms, push: push.service },
    services,
    cluster,
    plugins: [
      ...(cluster ? [clusterRoutes(new ClusterService(cluster))] : []),
      metricsRoutes,
      alarmRoutes,
      historyRoutes,
      push.plugin,
      tokenRoutes,
      auditRoutes,
      adminRoutes,
      exportRoutes,
      { plugin: winccOaReporting() as ApiPlugin, prefix: config.winccOaPrefix },
      // Classic WinCC's REST service, under the base path; its clients write the prefix in any case.
      {
        plugin: winccClassic() as ApiPlugin,
        prefix: `${config.basePath === '/' ? '' : config.basePath}/WinCCRestService`,
        caseInsensitivePrefix: true,
      },
      // WinCC Unified's GraphQL API: `/graphql` at the root (where Unified clients look), not under the base path.
      { plugin: winccUnified(push.service.hub) as ApiPlugin, prefix: '' },
    ],
    authenticators: [...securityAuthenticators],
  };
}

/** Front ends that are not HTTP: built here with the services they call, started after the runtime, stopped with it. */
function composeMqttNorthbound(runtime: Runtime, services: Services, metricSources: MetricSource[]): Array<() => void> {
  const afterStart: Array<() => void> = [];
  const mqttSection = runtime.project.raw.northbound?.mqtt;
  if (mqttSection !== undefined) {
    // Checked when the project was loaded (validateNorthboundMqtt): the settings are read again for their defaults.
    const { settings } = readMqttPublisherSettings(mqttSection);
    const publisher = createMqttPublisher({
      settings,
      engine: runtime.tags,
      tags: services.tags,
      principalFor: (username) => {
        const u = runtime.users.get(username);
        return u && !u.disabled ? runtime.security.principalOf(u, 'none') : undefined;
      },
      clock: runtime.clock,
      logger: runtime.logger.child({ service: 'northbound-mqtt' }),
    });
    metricSources.push(() => publisher.metrics());
    runtime.onStop(() => publisher.stop());
    afterStart.push(() => publisher.start());
  }
  return afterStart;
}
