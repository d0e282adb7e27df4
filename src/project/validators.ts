import { validateAlarmSections } from './alarms.js';
import { validateNorthboundOpcua } from './schema/northbound-opcua.js';
import { validateExportSections } from './exports.js';
import type { ProjectValidator } from './types.js';

const validators: ProjectValidator[] = [];

/** Adds a module's cross-checks to every project load (idempotent: a validator counts once). */
export function registerProjectValidator(v: ProjectValidator): void {
  if (!validators.includes(v)) validators.push(v);
}

export function projectValidators(): readonly ProjectValidator[] {
  return validators;
}

/** The cross-checks of Tagway's own modules (alarm sections). Called by start-up and the CLI (server/built-ins.ts). */
export function registerBuiltInProjectValidators(): void {
  registerProjectValidator(validateAlarmSections);
  registerProjectValidator(validateNorthboundOpcua);
  registerProjectValidator(validateExportSections);
}
