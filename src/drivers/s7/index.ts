import type { DriverModule } from '../registry.js';
import { polledDriverModule } from '../shared/polled-module.js';
import { readS7Binding, readS7ConnectionOptions } from './config.js';
import { S7Driver } from './driver.js';

/**
 * `driver: s7` (Siemens S7-300/400/1200/1500 over ISO-on-TCP, through nodes7). Register with
 * `registerDriver('s7', s7)`. Options and address syntax: docs/drivers/s7.md.
 */
export const s7: DriverModule = polledDriverModule({
  readOptions: readS7ConnectionOptions,
  readBinding: readS7Binding,
  // Connection-level defaults do not change whether a tag is valid; the standard ones stand in for them.
  tagCheckOptions: { pollMs: 1000 },
  create: (name, opts, bindings, host) => new S7Driver(name, opts, bindings, host),
});

export { S7Driver } from './driver.js';
export type { S7Stats } from './driver.js';
export { parseS7Address } from './address.js';
