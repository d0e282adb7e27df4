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
import { allSchemaErrors, brokenEntries, summariseSchemaErrors, type PathMessage } from './schema-errors.js';

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
  let brokenAlarms = new Set<number>();
  let brokenClasses = new Set<number>();
  if (!checkAlarms.Check(alarms)) {
    const errors = allSchemaErrors(checkAlarms, alarms);
    for (const p of summariseSchemaErrors(errors, undefined, { root: AlarmsSectionSchema, data: alarms }))
      out.push({ path: `/alarms${p.path}`, message: p.message });
    brokenAlarms = brokenEntries(errors);
  }
  if (!checkClasses.Check(classes)) {
    const errors = allSchemaErrors(checkClasses, classes);
    for (const p of summariseSchemaErrors(errors, undefined, { root: AlarmClassesSectionSchema, data: classes }))
      out.push({ path: `/alarmClasses${p.path}`, message: p.message });
    brokenClasses = brokenEntries(errors);
  }
  // Without the lists themselves every cross-check would be a follow-on problem.
  if (!Array.isArray(alarms) || !Array.isArray(classes)) return out;
  // Cross-checks read fields the schema vouched for: an entry with a schema problem is left out (a class still
  // counts by its name, so that its alarms do not report it unknown), the others are checked as usual.
  const named = (c: unknown): c is { name: string } =>
    c !== null && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string';
  out.push(
    ...validateAlarms({
      // Entries the project schema refused are passed only when they can be read; a wrong type is skipped there.
      tags: (Array.isArray(raw.tags) ? raw.tags : []).filter(named) as { name: string; type: TagType }[],
      alarms: alarms.map((a, i) => (brokenAlarms.has(i) ? undefined : a)) as AlarmDefinitionEntry[],
      alarmClasses: classes.map((c, i) => (brokenClasses.has(i) ? (named(c) ? { name: c.name } : undefined) : c)) as AlarmClassEntry[],
    }),
  );
  return out;
}

/** Domain definitions and classes (built-ins merged) of a loaded project. */
export function alarmsOfProject(project: Project): { definitions: AlarmDefinition[]; classes: AlarmClass[] } {
  return {
    definitions: ((project.raw.alarms ?? []) as AlarmDefinitionEntry[]).map(toAlarmDefinition),
    classes: mergeClasses(((project.raw.alarmClasses ?? []) as AlarmClassEntry[]).map(toAlarmClass)),
  };
}
