/**
 * Alarm definitions and classes as the rest of Tagway sees them after the project file was validated.
 * Vocabulary follows WinCC Unified (state machines, classes, priorities 0–16) so that its users feel at home.
 */

export const STATE_MACHINES = [
  'RAISE_CLEAR',
  'RAISE_CLEAR_OPTIONAL_ACKNOWLEDGMENT',
  'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT',
  'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET',
] as const;
export type StateMachine = (typeof STATE_MACHINES)[number];

export const LIMIT_TYPES = ['HH', 'H', 'L', 'LL', '>', '>=', '<', '<=', '==', '!='] as const;
export type LimitType = (typeof LIMIT_TYPES)[number];

export interface AlarmClass {
  name: string;
  stateMachine: StateMachine;
  /** CSS colour for clients, e.g. `#d32f2f`. */
  color?: string | undefined;
}

/** Built-in classes; a project may redefine them (e.g. `Fault` needing a reset) or add its own. */
export const BUILTIN_CLASSES: readonly AlarmClass[] = [
  { name: 'Alarm', stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', color: '#d32f2f' },
  { name: 'Fault', stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', color: '#b71c1c' },
  { name: 'Warning', stateMachine: 'RAISE_CLEAR', color: '#f9a825' },
  { name: 'System', stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', color: '#6a1b9a' },
];

/** The project's classes merged over the built-in ones (a project entry with a built-in name replaces it). */
export function mergeClasses(project: readonly AlarmClass[] = []): AlarmClass[] {
  const byName = new Map<string, AlarmClass>();
  for (const c of BUILTIN_CLASSES) byName.set(c.name, c);
  for (const c of project) byName.set(c.name, c);
  return [...byName.values()];
}

export interface AlarmLimit {
  type: LimitType;
  value: number;
}

interface AlarmDefinitionBase {
  name: string;
  /** Unique number of the alarm in the project (≥ 1; 0 is reserved for generated System alarms). */
  number: number;
  class: string;
  /** 0–16: 1–5 low, 6–10 medium, 11–15 high, 16 critical. */
  priority: number;
  tag: string;
  /** Message text with placeholders `{value} {unit} {tag} {limit}`, in the journal language. */
  text: string;
  /** The text by language (`en`, `de`, `pt-BR`), when the project gives several. */
  texts?: Record<string, string> | undefined;
  /** The condition must hold this long before the alarm is raised. */
  onDelayMs?: number | undefined;
  /** The condition must be gone this long before the alarm clears. */
  offDelayMs?: number | undefined;
  /** Default true. */
  enabled?: boolean | undefined;
}

/** Raised while a Bool is true, or while bit `bit` of an integer is 1 (without `bit`: while it is non-zero). */
export interface DiscreteAlarmDefinition extends AlarmDefinitionBase {
  kind: 'discrete';
  bit?: number | undefined;
}

/** Raised while a numeric value violates a limit; `hysteresis` keeps it raised until the value is that far back. */
export interface AnalogAlarmDefinition extends AlarmDefinitionBase {
  kind: 'analog';
  limit: AlarmLimit;
  hysteresis?: number | undefined;
}

export type AlarmDefinition = DiscreteAlarmDefinition | AnalogAlarmDefinition;

export const PRIORITY_MIN = 0;
export const PRIORITY_MAX = 16;
