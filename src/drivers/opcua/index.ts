import { TagwayError } from '../../domain/problems.js';
import type { Driver } from '../driver.js';
import { unwrapDriver } from '../lazy.js';
import type { DriverModule } from '../registry.js';
import { opcuaValidators } from './validate.js';
import type { BrowseItem } from './browse.js';
import { OpcUaDriver } from './driver.js';

export { OpcUaDriver } from './driver.js';
export type { BrowseItem } from './browse.js';

/** The `opcua` driver: `registerDriver('opcua', opcua)`. */
export const opcua: DriverModule = {
  create: (connection, tags, host) => new OpcUaDriver(connection, tags, host),
  ...opcuaValidators,
  browse: (driver, nodeId) => browse(driver, nodeId),
};

/**
 * Children of a node on a running opcua connection (default: the Objects folder). Throws TagwayError
 * DEVICE_UNAVAILABLE (not connected or not an OPC UA connection), DEVICE_TIMEOUT, VALIDATION_FAILED (bad NodeId)
 * or NOT_FOUND (no such node).
 */
export async function browse(driver: Driver, nodeId?: string): Promise<BrowseItem[]> {
  // A connection whose driver is still loading (lazy) has no OPC UA session to browse yet.
  const inner = unwrapDriver(driver);
  if (inner === undefined) throw new TagwayError('DEVICE_UNAVAILABLE', 'The connection has not started');
  driver = inner;
  if (!(driver instanceof OpcUaDriver)) throw new TagwayError('NOT_FOUND', 'Browsing is only available on OPC UA connections');
  return driver.browse(nodeId);
}

export default opcua;
