import { Compile } from 'typebox/compile';
import type { AlarmClass, AlarmDefinition } from '../domain/alarms/definition.js';
import { mergeClasses } from '../domain/alarms/definition.js';
import type { TagType } from '../domain/tag-types.js';
import type { Project } from './types.js';
import {
  AlarmClassesSectionSchema,
  AlarmsSectionSchema,
  toAlarmClass,
  toAlarmDefinition,
  validateAlarms,
  type AlarmClassEntry,
  type AlarmDefinitionEntry,
} from './schema/alarms.js';
import type { ProjectFile } from './schema/project.js';
import { summariseSchemaErrors, type PathMessage, type SchemaError } from './schema-errors.js';

/**
 * The project's `alarms:` and `alarmClasses:` sections. The project schema leaves them open (`unknown[]`) so that
 * this module owns them: registerBuiltInProjectValidators (validators.ts) adds its validator to the loader, which adds line numbers.
 */
const checkAlarms = Compile(AlarmsSectionSchema);
const checkClasses = Compile(AlarmClassesSectionSchema);

export function validateAlarmSections(raw: ProjectFile): PathMessage[] {
  const out: PathMessage[] = [];
  const alarms = raw.alarms ?? [];
  const classes = raw.alarmClasses ?? [];
  if (!checkAlarms.Check(alarms)) {
    for (const p of summariseSchemaErrors(checkAlarms.Errors(alarms) as Iterable<SchemaError>, undefined, {
      root: AlarmsSectionSchema,
      data: alarms,
    }))
      out.push({ path: `/alarms${p.path}`, message: p.message });
  }
  if (!checkClasses.Check(classes)) {
    for (const p of summariseSchemaErrors(checkClasses.Errors(classes) as Iterable<SchemaError>, undefined, {
      root: AlarmClassesSectionSchema,
      data: classes,
    }))
      out.push({ path: `/alarmClasses${p.path}`, message: p.message });
  }
  // Cross-checks read fields the schema vouched for; skip them while the shapes are wrong.
  if (out.length) return out;
  return validateAlarms({
    // Entries the project schema refused are passed only when they can be read; a wrong type is skipped there.
    tags: (Array.isArray(raw.tags) ? raw.tags : []).filter((t) => t !== null && typeof t === 'object' && typeof t.name === 'string') as {
      name: string;
      type: TagType;
    }[],
    alarms: alarms as AlarmDefinitionEntry[],
    alarmClasses: classes as AlarmClassEntry[],
  });
}

/** Domain definitions and classes (built-ins merged) of a loaded project. */
export function alarmsOfProject(project: Project): { definitions: AlarmDefinition[]; classes: AlarmClass[] } {
  return {
    definitions: ((project.raw.alarms ?? []) as AlarmDefinitionEntry[]).map(toAlarmDefinition),
    classes: mergeClasses(((project.raw.alarmClasses ?? []) as AlarmClassEntry[]).map(toAlarmClass)),
  };
}
