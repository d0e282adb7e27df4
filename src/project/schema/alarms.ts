import Type, { type Static } from 'typebox';
import {
  BUILTIN_CLASSES,
  LIMIT_TYPES,
  PRIORITY_MAX,
  PRIORITY_MIN,
  STATE_MACHINES,
  type AlarmClass,
  type AlarmDefinition,
} from '../../domain/alarms/definition.js';
import { didYouMean } from '../../domain/suggest.js';
import { isIntegerType, isNumericType, TAG_TYPES, type TagType } from '../../domain/tag-types.js';

/**
 * The `alarms:` and `alarmClasses:` sections of the project file. The schemas refuse unknown keys so that a typo
 * (`hysterisis:`) is an error instead of a silently ignored setting; `validateAlarms` checks what a schema cannot
 * see (the tag exists and suits the alarm kind, names and numbers are unique, the class exists).
 */
export const ALARM_NAME_PATTERN = '^[A-Za-z0-9_.\\-:/\\[\\]# ]+$';
/** Names of generated connection-lost alarms; project alarms may not use the prefix. */
export const SYSTEM_ALARM_PREFIX = 'System.ConnectionLost.';

const DelayMs = Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'Milliseconds (at most one day)' });

export const AlarmLimitSchema = Type.Object(
  {
    type: Type.Enum([...LIMIT_TYPES], { description: 'HH/H raise above, L/LL below the value' }),
    value: Type.Number(),
  },
  { additionalProperties: false },
);

export const AlarmDefinitionSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: ALARM_NAME_PATTERN }),
    number: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Unique; 0 is reserved for System alarms' }),
    class: Type.String({ minLength: 1, maxLength: 100 }),
    priority: Type.Integer({ minimum: PRIORITY_MIN, maximum: PRIORITY_MAX }),
    tag: Type.String({ minLength: 1 }),
    kind: Type.Optional(
      Type.Union([Type.Literal('discrete'), Type.Literal('analog')], {
        description: 'Defaults to analog when `limit` is given, else discrete',
      }),
    ),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 63, description: 'Discrete alarm on one bit of an integer tag' })),
    limit: Type.Optional(AlarmLimitSchema),
    hysteresis: Type.Optional(Type.Number({ minimum: 0 })),
    onDelayMs: Type.Optional(DelayMs),
    offDelayMs: Type.Optional(DelayMs),
    text: Type.Union([
      Type.String({ maxLength: 1000, description: 'Placeholders: {value} {value:N} {unit} {tag} {limit}' }),
      Type.Record(Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$' }), Type.String({ maxLength: 1000 }), {
        minProperties: 1,
        description:
          'Texts by language ({en: …, de: …}); the first (or `en`) is the journal language, clients choose one with ?lang= or Accept-Language',
      }),
    ]),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AlarmDefinitionEntry = Static<typeof AlarmDefinitionSchema>;

export const AlarmClassSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    stateMachine: Type.Enum([...STATE_MACHINES]),
    color: Type.Optional(Type.String({ pattern: '^#[0-9A-Fa-f]{6}$' })),
  },
  { additionalProperties: false },
);
export type AlarmClassEntry = Static<typeof AlarmClassSchema>;

export const AlarmsSectionSchema = Type.Array(AlarmDefinitionSchema);
export const AlarmClassesSectionSchema = Type.Array(AlarmClassSchema);

/** What the cross-check needs of the project (the loader's full type satisfies it). */
export interface AlarmProjectView {
  tags?: readonly { name: string; type: TagType }[] | undefined;
  alarms?: readonly AlarmDefinitionEntry[] | undefined;
  alarmClasses?: readonly AlarmClassEntry[] | undefined;
}

export interface ProjectIssue {
  /** JSON pointer, e.g. `/alarms/3/tag`. */
  path: string;
  message: string;
}

const BIT_WIDTH: Partial<Record<TagType, number>> = {
  Int8: 8,
  UInt8: 8,
  Int16: 16,
  UInt16: 16,
  Int32: 32,
  UInt32: 32,
  Int64: 64,
  UInt64: 64,
};

export function alarmKind(e: AlarmDefinitionEntry): 'discrete' | 'analog' {
  return e.kind ?? (e.limit ? 'analog' : 'discrete');
}

// "Did you mean" compares with every tag name: affordable for a plant of ordinary size, not for 100,000 tags.
const SUGGEST_AMONG_AT_MOST = 10_000;

/** Checks references and uniqueness; the entries are assumed to have passed the schemas. */
export function validateAlarms(project: AlarmProjectView): ProjectIssue[] {
  const issues: ProjectIssue[] = [];
  const tagTypes = new Map<string, TagType>();
  for (const t of project.tags ?? []) tagTypes.set(t.name, t.type);

  const classNames = new Set(BUILTIN_CLASSES.map((c) => c.name));
  const seenClasses = new Set<string>();
  // An entry left out (undefined) had a schema problem of its own; indices stay those of the file.
  (project.alarmClasses ?? []).forEach((c, i) => {
    if (!c) return;
    if (seenClasses.has(c.name)) issues.push({ path: `/alarmClasses/${i}/name`, message: `Duplicate alarm class '${c.name}'` });
    seenClasses.add(c.name);
    classNames.add(c.name);
  });

  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  (project.alarms ?? []).forEach((a, i) => {
    if (!a) return;
    const at = (field: string): string => `/alarms/${i}/${field}`;
    const firstName = names.get(a.name);
    if (firstName !== undefined) issues.push({ path: at('name'), message: `Duplicate alarm name '${a.name}' (also /alarms/${firstName})` });
    else names.set(a.name, i);
    if (a.name.startsWith(SYSTEM_ALARM_PREFIX))
      issues.push({ path: at('name'), message: `Alarm names starting with '${SYSTEM_ALARM_PREFIX}' are reserved` });
    const firstNumber = numbers.get(a.number);
    if (firstNumber !== undefined)
      issues.push({ path: at('number'), message: `Duplicate alarm number ${a.number} (also /alarms/${firstNumber})` });
    else numbers.set(a.number, i);
    if (!classNames.has(a.class))
      issues.push({ path: at('class'), message: `Unknown alarm class '${a.class}'${didYouMean(a.class, classNames)}` });

    const kind = alarmKind(a);
    if (kind === 'analog') {
      if (!a.limit) issues.push({ path: at('limit'), message: 'An analog alarm needs a limit' });
      if (a.bit !== undefined) issues.push({ path: at('bit'), message: 'bit applies only to discrete alarms' });
    } else {
      if (a.limit) issues.push({ path: at('limit'), message: 'A discrete alarm has no limit' });
      if (a.hysteresis !== undefined) issues.push({ path: at('hysteresis'), message: 'A discrete alarm has no hysteresis' });
    }

    const type = tagTypes.get(a.tag);
    if (type === undefined) {
      issues.push({
        path: at('tag'),
        message: `No tag named '${a.tag}'${tagTypes.size <= SUGGEST_AMONG_AT_MOST ? didYouMean(a.tag, tagTypes.keys()) : ''}`,
      });
      return;
    }
    // A tag whose type is no tag type was reported by the project schema; its alarms are not checked against it.
    if (!(TAG_TYPES as readonly string[]).includes(type)) return;
    if (kind === 'analog' && !isNumericType(type) && type !== 'Bool') {
      issues.push({ path: at('limit'), message: `Limits need a numeric tag; '${a.tag}' is ${type}` });
    }
    if (kind === 'discrete') {
      if (a.bit !== undefined) {
        const width = BIT_WIDTH[type];
        if (!isIntegerType(type) || width === undefined)
          issues.push({ path: at('bit'), message: `bit needs an integer tag; '${a.tag}' is ${type}` });
        else if (a.bit >= width) issues.push({ path: at('bit'), message: `bit ${a.bit} does not exist in ${type} (0–${width - 1})` });
      } else if (type !== 'Bool' && !isIntegerType(type)) {
        issues.push({ path: at('tag'), message: `A discrete alarm needs a Bool or integer tag; '${a.tag}' is ${type}` });
      }
    }
  });
  return issues;
}

/** A text or a map of texts by language → the journal text (English if given, else the first) and the map. */
function alarmTexts(text: string | Record<string, string>): { text: string; texts?: Record<string, string> } {
  if (typeof text === 'string') return { text };
  return { text: text.en ?? Object.values(text)[0]!, texts: text };
}

/** Entries (already validated) → domain definitions. */
export function toAlarmDefinition(e: AlarmDefinitionEntry): AlarmDefinition {
  const common = {
    name: e.name,
    number: e.number,
    class: e.class,
    priority: e.priority,
    tag: e.tag,
    ...alarmTexts(e.text),
    onDelayMs: e.onDelayMs,
    offDelayMs: e.offDelayMs,
    enabled: e.enabled ?? true,
  };
  return alarmKind(e) === 'analog'
    ? { ...common, kind: 'analog', limit: e.limit ?? { type: '>', value: 0 }, hysteresis: e.hysteresis }
    : { ...common, kind: 'discrete', bit: e.bit };
}

export function toAlarmClass(e: AlarmClassEntry): AlarmClass {
  return { name: e.name, stateMachine: e.stateMachine, color: e.color };
}
