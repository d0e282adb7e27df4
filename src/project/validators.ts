import type { ProjectValidator } from './types.js';

const validators: ProjectValidator[] = [];

/** Adds a module's cross-checks to every project load (idempotent: a validator counts once). */
export function registerProjectValidator(v: ProjectValidator): void {
  if (!validators.includes(v)) validators.push(v);
}

export function projectValidators(): readonly ProjectValidator[] {
  return validators;
}
