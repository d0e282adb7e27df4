/**
 * OPC UA NodeId strings as written in a tag's `address` (OPC UA Part 6, 5.3.1.10):
 *   `ns=2;s=Line1.Speed`, `ns=3;i=1001`, `i=2258` (namespace 0), `ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a`,
 *   `ns=1;b=M/RbKBsRVkePCePcx24oRA==`, and `nsu=http://example.com/UA/;s=Speed` (namespace by URI, resolved
 *   against the server's namespace array at every connect, because servers may renumber namespaces on restart).
 *
 * Parsed here without node-opcua so that the project loader can validate addresses cheaply and strictly.
 */
export type NodeIdKind = 'i' | 's' | 'g' | 'b';

export interface ParsedNodeId {
  /** Namespace index, or the namespace URI when written with `nsu=`. */
  namespace: number | string;
  kind: NodeIdKind;
  /** The identifier as written (for `i=` the decimal digits). */
  identifier: string;
}

export type ParseResult = { ok: true; nodeId: ParsedNodeId } | { ok: false; message: string };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UINT = /^(0|[1-9][0-9]*)$/;

function fail(address: string, why: string): ParseResult {
  return { ok: false, message: `'${address}' is not an OPC UA NodeId: ${why} (expected e.g. "ns=2;s=Line1.Speed" or "ns=3;i=1001")` };
}

export function parseNodeId(address: string): ParseResult {
  if (typeof address !== 'string' || address.length === 0) return fail(String(address), 'empty');
  let rest = address;
  let namespace: number | string = 0;
  if (rest.startsWith('ns=')) {
    const semi = rest.indexOf(';');
    if (semi < 0) return fail(address, 'missing ";" after the namespace');
    const ns = rest.slice(3, semi);
    if (!UINT.test(ns) || Number(ns) > 65535) return fail(address, `namespace index "${ns}" is not an integer 0…65535`);
    namespace = Number(ns);
    rest = rest.slice(semi + 1);
  } else if (rest.startsWith('nsu=')) {
    // A URI may itself contain ';' only escaped (Part 6), so the identifier starts after the last ';x='.
    const m = /;([isgb])=/.exec(rest);
    if (!m) return fail(address, 'missing identifier after the namespace URI');
    let last = m.index;
    for (let i = rest.indexOf(';', last + 1); i >= 0; i = rest.indexOf(';', i + 1)) {
      if (/^;[isgb]=/.test(rest.slice(i, i + 3))) last = i;
      else break;
    }
    const uri = rest.slice(4, last);
    if (uri.length === 0) return fail(address, 'empty namespace URI');
    namespace = uri;
    rest = rest.slice(last + 1);
  }
  const kind = rest.slice(0, 2);
  const identifier = rest.slice(2);
  switch (kind) {
    case 'i=':
      if (!UINT.test(identifier) || Number(identifier) > 0xffffffff)
        return fail(address, `numeric identifier "${identifier}" is not an integer 0…4294967295`);
      return { ok: true, nodeId: { namespace, kind: 'i', identifier } };
    case 's=':
      if (identifier.length === 0) return fail(address, 'empty string identifier');
      if (identifier.length > 4096) return fail(address, 'string identifier longer than 4096 characters');
      return { ok: true, nodeId: { namespace, kind: 's', identifier } };
    case 'g=':
      if (!GUID.test(identifier)) return fail(address, `"${identifier}" is not a GUID`);
      return { ok: true, nodeId: { namespace, kind: 'g', identifier: identifier.toLowerCase() } };
    case 'b=':
      if (identifier.length === 0 || !BASE64.test(identifier)) return fail(address, `"${identifier}" is not base64`);
      return { ok: true, nodeId: { namespace, kind: 'b', identifier } };
    default:
      return fail(address, 'the identifier must start with i=, s=, g= or b=');
  }
}

/** The canonical NodeId string for a numeric namespace (what node-opcua's `resolveNodeId` accepts). */
export function formatNodeId(id: ParsedNodeId, namespaceIndex?: number): string {
  const ns = typeof id.namespace === 'number' ? id.namespace : namespaceIndex;
  if (ns === undefined) throw new Error(`namespace '${String(id.namespace)}' is not resolved`);
  return ns === 0 ? `${id.kind}=${id.identifier}` : `ns=${ns};${id.kind}=${id.identifier}`;
}
