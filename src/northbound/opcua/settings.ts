import type { NorthboundOpcuaEntry, OpcUaSecurityPolicyName } from '../../project/schema/northbound-opcua.js';

/** `northbound.opcua` with its defaults filled in. */
export interface OpcUaServerSettings {
  port: number;
  host: string | undefined;
  tags: string;
  securityPolicies: OpcUaSecurityPolicyName[];
  /** The Tagway group whose rights anonymous sessions get; undefined = anonymous refused. */
  anonymousGroup: string | undefined;
  maxSessions: number;
  maxSubscriptions: number;
  maxMonitoredItems: number;
}

export const OPCUA_DEFAULTS = {
  tags: '**',
  securityPolicies: ['Basic256Sha256'] as OpcUaSecurityPolicyName[],
  maxSessions: 100,
  maxSubscriptions: 200,
  maxMonitoredItems: 100_000,
};

export function opcUaSettings(e: NorthboundOpcuaEntry): OpcUaServerSettings {
  return {
    port: e.port,
    host: e.host,
    tags: e.tags ?? OPCUA_DEFAULTS.tags,
    securityPolicies: e.securityPolicies ?? OPCUA_DEFAULTS.securityPolicies,
    anonymousGroup: e.allowAnonymous ? e.anonymousGroup : undefined,
    maxSessions: e.maxSessions ?? OPCUA_DEFAULTS.maxSessions,
    maxSubscriptions: e.maxSubscriptions ?? OPCUA_DEFAULTS.maxSubscriptions,
    maxMonitoredItems: e.maxMonitoredItems ?? OPCUA_DEFAULTS.maxMonitoredItems,
  };
}
