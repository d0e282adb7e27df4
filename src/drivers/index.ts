import { registerDriver } from './registry.js';
import { simulator } from './simulator/index.js';
import { internal } from './internal/index.js';

/** Registers every built-in driver. Imported once by the composition root and the project loader's callers. */
registerDriver('simulator', simulator);
registerDriver('internal', internal);
