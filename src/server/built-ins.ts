import { registerBuiltInDrivers } from '../drivers/index.js';
import { registerBuiltInProjectValidators, registerProjectValidator } from '../project/validators.js';
import { validateNorthboundMqtt } from '../northbound/mqtt/settings.js';

/**
 * Everything Tagway registers before it reads a project: the drivers (by their `driver:` name) and the modules'
 * project cross-checks. Explicit, and idempotent, instead of import side effects: start-up and the CLI call it.
 */
export function registerBuiltIns(): void {
  registerBuiltInDrivers();
  registerBuiltInProjectValidators();
  registerProjectValidator(validateNorthboundMqtt);
}
