import Type, { type Static } from 'typebox';
import { compileGlob } from '../../domain/glob.js';
import { BUILT_IN_GROUPS } from '../normalise.js';
import type { PathMessage } from '../schema-errors.js';
import { Identifier } from './common.js';
import type { ProjectFile } from './project.js';

/** Security policies the OPC UA server offers (node-opcua's names); `None` only when listed. */
export const OPCUA_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type OpcUaSecurityPolicyName = (typeof OPCUA_SECURITY_POLICIES)[number];

/** `northbound.opcua`: Tagway's own OPC UA server over the same tags, permissions and audit (docs/northbound.md). */
export const NorthboundOpcuaSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port of opc.tcp:// (4840 is the registered one)' }),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        description: 'Host name in the endpoint URLs and the certificate (default: this machine)',
      }),
    ),
    tags: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Glob of the tags to expose (default **)' })),
    securityPolicies: Type.Optional(
      Type.Array(Type.Enum(OPCUA_SECURITY_POLICIES), {
        minItems: 1,
        uniqueItems: true,
        description: 'Offered with SignAndEncrypt (None: without security); default [Basic256Sha256]',
      }),
    ),
    allowAnonymous: Type.Optional(Type.Boolean({ description: 'Accept anonymous sessions, with the rights of anonymousGroup' })),
    anonymousGroup: Type.Optional(Identifier),
    maxSessions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most concurrent sessions (default 100)' })),
    maxMonitoredItems: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Most monitored items over all sessions (default 100,000)' }),
    ),
    maxSubscriptions: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most subscriptions over all sessions (default 200)' }),
    ),
  },
  { additionalProperties: false },
);

export type NorthboundOpcuaEntry = Static<typeof NorthboundOpcuaSchema>;

/**
 * Cross-checks of `northbound.opcua` (registered in validators.ts): anonymous access needs a group that exists
 * and is not `admins`, and the tag glob must compile.
 */
export function validateNorthboundOpcua(raw: ProjectFile): PathMessage[] {
  const o = raw.northbound?.opcua;
  if (!o || typeof o !== 'object') return [];
  const out: PathMessage[] = [];
  const base = '/northbound/opcua';
  if (o.allowAnonymous === true) {
    const groups = new Set([...BUILT_IN_GROUPS.map((g) => g.name), ...(raw.groups ?? []).map((g) => g.name)]);
    if (o.anonymousGroup === undefined)
      out.push({
        path: `${base}/allowAnonymous`,
        message: 'anonymous access needs anonymousGroup: the Tagway group whose rights anonymous sessions get',
      });
    else if (o.anonymousGroup === 'admins')
      out.push({ path: `${base}/anonymousGroup`, message: "anonymous sessions cannot have the rights of 'admins'" });
    else if (!groups.has(o.anonymousGroup)) out.push({ path: `${base}/anonymousGroup`, message: `no group named '${o.anonymousGroup}'` });
  }
  if (typeof o.tags === 'string') {
    try {
      compileGlob(o.tags);
    } catch (err) {
      out.push({ path: `${base}/tags`, message: (err as Error).message });
    }
  }
  return out;
}
