import { mkdirSync } from 'node:fs';
import { MessageSecurityMode, OPCUAServer, SecurityPolicy, StatusCodes, type ServerSession, type StatusCode } from 'node-opcua';
import type { Logger } from 'pino';
import type { EventBus } from '../../runtime/event-bus.js';
import type { TagEngine } from '../../runtime/tag-engine.js';
import type { Services } from '../../services/services.js';
import { TagAddressSpace } from './address-space.js';
import { OpcUaAlarms } from './alarms.js';
import { bindHistoryRead } from './history.js';
import { certificateManager, serverPkiDir, userPkiDir } from './pki.js';
import { OpcUaSessions } from './sessions.js';
import type { OpcUaServerSettings } from './settings.js';

export interface OpcUaServerDeps {
  settings: OpcUaServerSettings;
  services: Pick<Services, 'tags' | 'history' | 'alarms' | 'auth'>;
  tags: Pick<TagEngine, 'tags' | 'onChange'>;
  events: Pick<EventBus, 'on'>;
  dataDir: string;
  logger: Logger;
  version: string;
}

export interface RunningOpcUaServer {
  endpointUrl: string;
  /** Tags exposed. */
  exposed: number;
  server: OPCUAServer;
  stop(): Promise<void>;
}

/**
 * Tagway's OPC UA server: the tags the glob selects under `Objects/Tagway`, their values pushed from the tag
 * engine, every operation decided by the services for the session's Tagway user, history from the historian and
 * alarms as Alarms & Conditions. Its PKI (and its certificate, made on first start) lives in `<dataDir>/opcua/`.
 */
export async function startOpcUaServer(d: OpcUaServerDeps): Promise<RunningOpcUaServer> {
  const s = d.settings;
  const logger = d.logger;
  mkdirSync(serverPkiDir(d.dataDir), { recursive: true });
  const serverCertificateManager = certificateManager(serverPkiDir(d.dataDir));
  const userCertificateManager = certificateManager(userPkiDir(d.dataDir));
  await serverCertificateManager.initialize();
  await userCertificateManager.initialize();
  const sessions = new OpcUaSessions(d.services.auth, s.anonymousGroup, logger);
  const secure = s.securityPolicies.filter((p) => p !== 'None');
  const securityModes = [
    ...(s.securityPolicies.includes('None') ? [MessageSecurityMode.None] : []),
    ...(secure.length > 0 ? [MessageSecurityMode.SignAndEncrypt] : []),
  ];
  const server = new OPCUAServer({
    port: s.port,
    hostname: s.host,
    serverCertificateManager,
    userCertificateManager,
    securityPolicies: s.securityPolicies.map((p) => SecurityPolicy[p]),
    securityModes,
    allowAnonymous: s.anonymousGroup !== undefined,
    userManager: sessions.userManager,
    // A remote session our rules know nothing about gets nothing (node-opcua's default is to allow).
    unresolvedPermissionPolicy: 'deny',
    serverInfo: { applicationName: { text: 'Tagway', locale: 'en' }, applicationUri: 'urn:tagway:server', productUri: 'urn:tagway' },
    buildInfo: { productName: 'Tagway', manufacturerName: 'Tagway', softwareVersion: d.version, productUri: 'urn:tagway' },
    serverCapabilities: {
      maxSessions: s.maxSessions,
      maxSubscriptions: s.maxSubscriptions,
      maxMonitoredItems: s.maxMonitoredItems,
      maxMonitoredItemsPerSubscription: s.maxMonitoredItems,
      maxSubscriptionsPerSession: s.maxSubscriptions,
      operationLimits: { maxMonitoredItemsPerCall: 10_000, maxNodesPerRead: 10_000, maxNodesPerWrite: 1000, maxNodesPerBrowse: 1000 },
    } as never,
  });
  await server.initialize();
  mapUserCertificates(server, sessions);
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const actorOf = sessions.actorOf.bind(sessions);
  const space = new TagAddressSpace(addressSpace, ns, { tags: d.services.tags, history: d.services.history, actorOf, logger });
  const exposed = space.build(d.tags.tags, s.tags, (variable, tag) => bindHistoryRead(variable, tag, d.services.history, actorOf));
  const unsubscribe: Array<() => void> = [];
  unsubscribe.push(d.tags.onChange(space.onChange));
  const alarms = new OpcUaAlarms(addressSpace, ns, space, d.services.alarms, actorOf, logger);
  await alarms.start();
  unsubscribe.push(d.events.on('alarm.committed', (e) => alarms.onEvent(e)));
  // A user disabled, deleted or given other rights: their sessions answer with the new rights at once; a session
  // whose user is gone is closed.
  unsubscribe.push(
    d.events.on('user.changed', (change) => {
      const all = server.engine.getSessions() as ServerSession[];
      for (const ended of sessions.refresh(all, change)) {
        try {
          server.engine.closeSession(ended.authenticationToken, true, 'Terminated');
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'OPC UA server: closing a session failed');
        }
      }
    }),
  );
  await server.start();
  const endpointUrl = server.getEndpointUrl();
  logger.info({ endpointUrl, exposed }, 'OPC UA server listening');
  let stopped: Promise<void> | undefined;
  return {
    endpointUrl,
    exposed,
    server,
    stop: () =>
      (stopped ??= (async () => {
        for (const u of unsubscribe) u();
        alarms.stop();
        await server.shutdown(0);
        await Promise.allSettled([serverCertificateManager.dispose(), userCertificateManager.dispose()]);
      })()),
  };
}

type StatusCallback = (err: Error | null, status?: StatusCode) => void;

/**
 * X.509 user tokens: node-opcua checks the certificate against the user PKI (`<data dir>/opcua/user-pki`) and the
 * proof of possession; then the certificate's CN must name an active Tagway user, whose rights the session gets.
 */
function mapUserCertificates(server: OPCUAServer, sessions: OpcUaSessions): void {
  const s = server as unknown as {
    isValidX509IdentityToken(
      channel: unknown,
      session: unknown,
      policy: unknown,
      token: { certificateData: Buffer },
      sig: unknown,
      cb: StatusCallback,
    ): void;
  };
  const verify = s.isValidX509IdentityToken.bind(server);
  s.isValidX509IdentityToken = (channel, session, policy, token, sig, cb) =>
    verify(channel, session, policy, token, sig, (err, status) => {
      if (err || !status || status.isNotGood()) return cb(err, status);
      sessions.verifyCertificate(session as never, token.certificateData).then(
        (ok) => cb(null, ok ? StatusCodes.Good : StatusCodes.BadIdentityTokenRejected),
        (e: unknown) => cb(e as Error),
      );
    });
}
