import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ClusterRepository } from '../storage/cluster-repository.js';
import { ClusterLink, DEFAULT_LEASE_MS, type ClusterSettings } from './link.js';
import { loadNatsTls } from './nats-tls.js';
import { redactNatsUrl } from './redact.js';

export { redactNatsUrl };

/**
 * The cluster settings of a config, or undefined when the node runs alone. Throws when they cannot work, a TLS file
 * that cannot be read or does not fit included (read here, before anything starts).
 */
export function clusterSettings(config: Config): ClusterSettings | undefined {
  if (config.clusterUrl === undefined) return undefined;
  if (config.databaseUrl === undefined)
    throw new Error('A cluster needs a shared PostgreSQL database: set --database-url (TAGWAY_DATABASE_URL) with --cluster-url');
  const port = config.port === 0 ? `0-${process.pid}` : String(config.port);
  return {
    url: config.clusterUrl,
    nodeId: config.nodeId ?? `${hostname()}:${port}`,
    leaseMs: config.clusterLeaseMs ?? DEFAULT_LEASE_MS,
    tls: loadNatsTls(config.clusterUrl, { ca: config.clusterCa, cert: config.clusterCert, key: config.clusterKey }),
  };
}

/** Starts this node's cluster link (leases, NATS); stopped by `runtime.onStop`. */
export async function startCluster(runtime: Runtime, repo: ClusterRepository): Promise<ClusterLink | undefined> {
  const settings = clusterSettings(runtime.config);
  if (!settings) return undefined;
  const link = new ClusterLink(runtime, repo, settings);
  try {
    await link.start();
  } catch (err) {
    await link.stop().catch(() => undefined);
    throw err;
  }
  runtime.onStop(() => link.stop());
  runtime.logger.info(
    { node: settings.nodeId, nats: redactNatsUrl(settings.url), leaseMs: settings.leaseMs, tls: settings.tls !== undefined },
    'cluster member',
  );
  return link;
}
