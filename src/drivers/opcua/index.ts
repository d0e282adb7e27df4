import { TagwayError } from '../../domain/problems.js';
import { isTagType } from '../../domain/tag-types.js';
import type { Driver } from '../driver.js';
import type { DriverModule } from '../registry.js';
import { parseNodeId } from './address.js';
import type { BrowseItem } from './browse.js';
import { OpcUaDriver } from './driver.js';
import { readOpcUaOptions, readOpcUaTagOptions } from './options.js';

export { OpcUaDriver } from './driver.js';
export type { BrowseItem } from './browse.js';

/** The `opcua` driver: `registerDriver('opcua', opcua)`. */
export const opcua: DriverModule = {
  create: (connection, tags, host) => new OpcUaDriver(connection, tags, host),
  validateConnection: (options) => readOpcUaOptions(options).problems,
  validateTag(tag) {
    if (!isTagType(tag.type)) return `type '${tag.type}' is not a tag type`;
    if (tag.address === undefined) return 'address is required: the NodeId, such as "ns=2;s=Line1.Speed"';
    const p = parseNodeId(tag.address);
    if (!p.ok) return p.message;
    const problems = readOpcUaTagOptions(tag.options).problems;
    return problems.length > 0 ? problems.map(([k, m]) => `options.${k} ${m}`).join('; ') : undefined;
  },
};

/**
 * Children of a node on a running opcua connection (default: the Objects folder). Throws TagwayError
 * DEVICE_UNAVAILABLE (not connected or not an OPC UA connection), DEVICE_TIMEOUT, VALIDATION_FAILED (bad NodeId)
 * or NOT_FOUND (no such node).
 */
export async function browse(driver: Driver, nodeId?: string): Promise<BrowseItem[]> {
  if (!(driver instanceof OpcUaDriver)) throw new TagwayError('NOT_FOUND', 'Browsing is only available on OPC UA connections');
  return driver.browse(nodeId);
}

export default opcua;
