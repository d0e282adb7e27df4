import type { DriverModule } from '../registry.js';
import { polledDriverModule } from '../shared/polled-module.js';
import { readBinding, readConnectionOptions } from './config.js';
import { ModbusTcpDriver } from './driver.js';

/**
 * `driver: modbus-tcp`. Register with `registerDriver('modbus-tcp', modbusTcp)`.
 * Options and address syntax: docs/drivers/modbus-tcp.md.
 */
export const modbusTcp: DriverModule = polledDriverModule({
  readOptions: readConnectionOptions,
  readBinding: readBinding,
  // Connection-level defaults do not change whether a tag is valid; the standard ones stand in for them.
  tagCheckOptions: { byteOrder: 'big', wordOrder: 'big', unitId: 1, pollMs: 1000, writeMultiple: false },
  create: (name, opts, bindings, host) => new ModbusTcpDriver(name, opts, bindings, host),
});

export { ModbusTcpDriver } from './driver.js';
export type { ModbusStats } from './driver.js';
