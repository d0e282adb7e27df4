import type { DriverModule } from '../registry.js';
import { SimulatorDriver } from './driver.js';

export const simulator: DriverModule = {
  create: (_connection, tags, host) => new SimulatorDriver(tags, host),
  validateConnection: (options) => Object.keys(options).map((k) => [`/${k}`, `unknown key '${k}' for driver 'simulator'`]),
};
