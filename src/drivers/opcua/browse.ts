import { AttributeIds, BrowseDirection, NodeClass, resolveNodeId, type ClientSession, type ReferenceDescription } from 'node-opcua';
import { TagwayError } from '../../domain/problems.js';
import { formatNodeId, parseNodeId } from './address.js';
import { statusName } from './status-mapping.js';
import { errorText, withTimeout } from './timeout.js';
import { BUILT_IN_NAMES } from './values.js';

/** One child of a browsed node, as answered by `GET /connections/{name}/browse?nodeId=…`. */
export interface BrowseItem {
  /** Usable as a tag `address` as is (namespace by index, as the server numbers it now). */
  nodeId: string;
  /** Qualified name in OPC UA notation: `2:Speed` (namespace index and name; no prefix for namespace 0). */
  browseName: string;
  displayName: string;
  nodeClass: 'Object' | 'Variable' | 'Method' | 'ObjectType' | 'VariableType' | 'ReferenceType' | 'DataType' | 'View' | 'Unspecified';
  /** For variables: the data type's browse name (`Double`, `UtcTime`, `MyEnum`, …). */
  dataType?: string | undefined;
}

const OBJECTS_FOLDER = 'i=85';

/**
 * Forward hierarchical references of a node (Organizes, HasComponent, HasProperty, …), following continuation
 * points, then the data type of every variable child with two batched reads (DataType, then the types' names).
 */
export async function browseChildren(session: ClientSession, nodeId: string | undefined, timeoutMs: number): Promise<BrowseItem[]> {
  const target = nodeId ?? OBJECTS_FOLDER;
  const parsed = parseNodeId(target);
  if (!parsed.ok) throw new TagwayError('VALIDATION_FAILED', parsed.message, { errors: [{ field: 'nodeId', message: parsed.message }] });
  if (typeof parsed.nodeId.namespace === 'string') {
    const namespaces = await guard(session.readNamespaceArray(), timeoutMs, 'read namespace array');
    const ns = namespaces.indexOf(parsed.nodeId.namespace);
    if (ns < 0) throw new TagwayError('NOT_FOUND', `Namespace '${parsed.nodeId.namespace}' is not on the server`);
    parsed.nodeId.namespace = ns;
  }
  const start = formatNodeId(parsed.nodeId);

  const refs: ReferenceDescription[] = [];
  let result = await guard(
    session.browse({
      nodeId: resolveNodeId(start),
      referenceTypeId: resolveNodeId('HierarchicalReferences'),
      includeSubtypes: true,
      browseDirection: BrowseDirection.Forward,
      nodeClassMask: 0,
      resultMask: 0x3f,
    }),
    timeoutMs,
    `browse ${start}`,
  );
  for (;;) {
    const code = result.statusCode.value >>> 0;
    if (code === 0x80340000 || code === 0x80330000)
      throw new TagwayError('NOT_FOUND', `No node '${start}' on the server (${statusName(code)})`);
    if (code >= 0x80000000) throw new TagwayError('DEVICE_UNAVAILABLE', `Browsing '${start}' failed with ${statusName(code)}`);
    refs.push(...(result.references ?? []));
    const cp = result.continuationPoint;
    if (!cp || cp.length === 0) break;
    result = await guard(session.browseNext(cp, false), timeoutMs, `browse next ${start}`);
  }

  const items: BrowseItem[] = refs.map((r) => ({
    // ExpandedNodeId prints namespace 0 as `ns=0;`; addresses omit it.
    nodeId: r.nodeId.toString().replace(/^ns=0;/, ''),
    browseName: r.browseName.toString(),
    displayName: r.displayName.text ?? r.browseName.name ?? '',
    nodeClass: (NodeClass[r.nodeClass] ?? 'Unspecified') as BrowseItem['nodeClass'],
  }));

  const variables = items.filter((i) => i.nodeClass === 'Variable');
  if (variables.length > 0) {
    const types = await guard(
      session.read(variables.map((v) => ({ nodeId: v.nodeId, attributeId: AttributeIds.DataType }))),
      timeoutMs,
      'read data types',
    );
    const typeIds = types.map((dv) => (dv.statusCode.value === 0 && dv.value.value ? String(dv.value.value.toString()) : undefined));
    // Standard built-in types are named without a round trip; other data types by their BrowseName.
    const unknown = [...new Set(typeIds.filter((t): t is string => t !== undefined && !/^i=([1-9]|1[0-9]|2[0-5])$/.test(t)))];
    const names = new Map<string, string>();
    if (unknown.length > 0) {
      const dvs = await guard(
        session.read(unknown.map((t) => ({ nodeId: t, attributeId: AttributeIds.BrowseName }))),
        timeoutMs,
        'read data type names',
      );
      dvs.forEach((dv, i) => {
        const n = (dv.value.value as { name?: string } | null)?.name;
        if (n) names.set(unknown[i]!, n);
      });
    }
    variables.forEach((v, i) => {
      const t = typeIds[i];
      if (t === undefined) return;
      const builtin = /^i=(\d+)$/.exec(t);
      v.dataType = names.get(t) ?? (builtin ? BUILT_IN_NAMES[Number(builtin[1])] : undefined) ?? t;
    });
  }
  return items;
}

async function guard<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  try {
    return await withTimeout(p, timeoutMs, what);
  } catch (err) {
    if (err instanceof TagwayError) throw err;
    throw new TagwayError('DEVICE_UNAVAILABLE', `${what}: ${errorText(err)}`, { cause: err });
  }
}
