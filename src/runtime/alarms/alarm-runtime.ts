import { compileCondition, type Condition } from '../../domain/alarms/condition.js';
import type { AlarmClass, AlarmDefinition, StateMachine } from '../../domain/alarms/definition.js';
import { formatText } from '../../domain/alarms/text.js';
import { Quality } from '../../domain/quality.js';
import type { TagValue } from '../../domain/tag-types.js';
import type { TagState } from '../tag-engine.js';
import type { Occurrence } from './occurrence.js';
import type { AlarmDefinitionView } from './types.js';

/** Prefix of the generated per-connection alarms (project alarms may not use it; see project/schema/alarms.ts). */
export const CONNECTION_LOST_PREFIX = 'System.ConnectionLost.';
export const SYSTEM_CLASS = 'System';
const SYSTEM_PRIORITY = 16;

/** Live state of one alarm (a project definition, or a generated connection-lost alarm). */
export interface AlarmRuntime {
  readonly name: string;
  readonly def: AlarmDefinition | undefined;
  readonly number: number;
  readonly className: string;
  readonly stateMachine: StateMachine;
  readonly priority: number;
  readonly tag: TagState | undefined;
  readonly test: Condition | undefined;
  readonly text: string;
  readonly limit: number | undefined;
  /** The connection whose tags the alarm watches: in a cluster, its owner evaluates the alarm. */
  readonly connection: string;
  /**
   * Whether this node evaluates the alarm (always on a single node; in a cluster only while it owns the
   * connection — other nodes learn its occurrences from the owner).
   */
  owned: boolean;
  /** The condition after the last usable value (hysteresis state). */
  cond: boolean;
  /** The occurrence whose condition is active now; at most one per alarm. */
  active: Occurrence | undefined;
  /** A pending on-/off-delay, and what it will do. */
  timer: unknown;
  timerRaises: boolean;
  enabled: boolean;
  shelvedUntil: number | undefined;
  shelveTimer: unknown;
  /** Connection-lost alarms: the connection's tags that are BAD now. */
  badTags: Set<number> | undefined;
}

export function usable(quality: number): boolean {
  // BAD values are stale and the initial value was never read from anywhere: judging either would raise or clear
  // alarms on fiction.
  return (quality & 0xc0) !== 0 && quality !== Quality.UNCERTAIN_INITIAL_VALUE;
}

export function definitionRuntime(def: AlarmDefinition, cls: AlarmClass, tag: TagState): AlarmRuntime {
  return {
    name: def.name,
    def,
    number: def.number,
    className: cls.name,
    stateMachine: cls.stateMachine,
    priority: def.priority,
    tag,
    test: compileCondition(def, tag.def.type),
    text: def.text,
    limit: def.kind === 'analog' ? def.limit.value : undefined,
    connection: tag.def.connection,
    owned: true,
    cond: false,
    active: undefined,
    timer: undefined,
    timerRaises: false,
    enabled: def.enabled ?? true,
    shelvedUntil: undefined,
    shelveTimer: undefined,
    badTags: undefined,
  };
}

export function connectionLostRuntime(connection: string, system: AlarmClass): AlarmRuntime {
  return {
    name: CONNECTION_LOST_PREFIX + connection,
    def: undefined,
    number: 0,
    className: system.name,
    stateMachine: system.stateMachine,
    priority: SYSTEM_PRIORITY,
    tag: undefined,
    test: undefined,
    text: `Connection lost: ${connection}`,
    limit: undefined,
    connection,
    owned: true,
    cond: false,
    active: undefined,
    timer: undefined,
    timerRaises: false,
    enabled: true,
    shelvedUntil: undefined,
    shelveTimer: undefined,
    badTags: new Set(),
  };
}

export function valueOf(a: AlarmRuntime, occ?: Occurrence): TagValue | null {
  return a.tag ? a.tag.value : (occ?.value ?? null);
}

export function textOf(a: AlarmRuntime, value: TagValue | null, template = a.text): string {
  if (!a.tag) return template;
  return formatText(template, { value: value ?? undefined, unit: a.tag.def.unit, tag: a.tag.def.name, limit: a.limit });
}

/**
 * The text of an alarm in another language, rendered with the given value; undefined when the alarm has no
 * text in that language. `lang` may be `de-AT`: `de` is tried next.
 */
export function textIn(a: AlarmRuntime, lang: string, value: TagValue | null): string | undefined {
  const texts = a.def?.texts;
  if (!texts) return undefined;
  const find = (l: string) => Object.entries(texts).find(([k]) => k.toLowerCase() === l)?.[1];
  const template = find(lang.toLowerCase()) ?? find(lang.toLowerCase().split('-')[0]!);
  return template === undefined ? undefined : textOf(a, value, template);
}

export function definitionView(a: AlarmRuntime): AlarmDefinitionView {
  const d = a.def!;
  const v: AlarmDefinitionView = {
    name: d.name,
    number: d.number,
    class: d.class,
    priority: d.priority,
    tag: d.tag,
    kind: d.kind,
    text: d.text,
    ...(d.texts ? { texts: d.texts } : {}),
    enabled: a.enabled,
  };
  if (d.kind === 'discrete' && d.bit !== undefined) v.bit = d.bit;
  if (d.kind === 'analog') {
    v.limit = { type: d.limit.type, value: d.limit.value };
    if (d.hysteresis !== undefined) v.hysteresis = d.hysteresis;
  }
  if (d.onDelayMs !== undefined) v.onDelayMs = d.onDelayMs;
  if (d.offDelayMs !== undefined) v.offDelayMs = d.offDelayMs;
  if (a.shelvedUntil !== undefined) v.shelvedUntil = new Date(a.shelvedUntil).toISOString();
  return v;
}
