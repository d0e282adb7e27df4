import { registerDriver } from './registry.js';
import { simulator } from './simulator/index.js';
import { internal } from './internal/index.js';
import { modbusTcp } from './modbus-tcp/index.js';
import { s7 } from './s7/index.js';
import { lazyFactory } from './lazy.js';
import { opcuaValidators } from './opcua/validate.js';
import { mqttValidators } from './mqtt/validate.js';

/**
 * Registers every built-in driver (idempotent). Called explicitly by start-up and the CLI (src/server/built-ins.ts),
 * not as a side effect of importing this module, so that what is registered, and when, can be read off the code.
 */
export function registerBuiltInDrivers(): void {
  registerDriver('simulator', simulator);
  registerDriver('internal', internal);
  registerDriver('modbus-tcp', modbusTcp);
  registerDriver('s7', s7);
  // node-opcua and mqtt.js load only when a project has such a connection (node-opcua alone costs seconds).
  registerDriver('opcua', {
    ...opcuaValidators,
    create: lazyFactory(async () => (await import('./opcua/index.js')).opcua.create),
    browse: async (driver, nodeId) => (await import('./opcua/index.js')).browse(driver, nodeId),
  });
  registerDriver('mqtt', {
    ...mqttValidators,
    create: lazyFactory(async () => (await import('./mqtt/index.js')).mqtt.create),
  });
}
