import type { DriverModule } from '../registry.js';
import { InternalDriver } from './driver.js';

export const internal: DriverModule = {
  create: (_connection, tags, host) => new InternalDriver(tags, host),
  validateConnection: (options) => Object.keys(options).map((k) => [`/${k}`, `unknown key '${k}' for driver 'internal'`]),
};
