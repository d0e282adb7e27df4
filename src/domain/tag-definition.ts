import type { TagType, TagValue } from './tag-types.js';

/** A tag as configured in the project file, after validation. */
export interface TagDefinition {
  name: string;
  type: TagType;
  unit?: string | undefined;
  description?: string | undefined;
  group?: string | undefined;
  access: 'read' | 'readwrite';
  min?: number | string | undefined;
  max?: number | string | undefined;
  maxLength?: number | undefined;
  initial?: TagValue | undefined;
  /** Name of the connection (driver instance) that supplies the value. */
  connection: string;
  /** Driver-specific address (e.g. `HR100`, `ns=2;s=Speed`, `DB1,REAL4`, `plant/line1/speed#/value`). */
  address?: string | undefined;
  /** Linear scaling between device (raw) and engineering values, applied by drivers that read raw numbers. */
  scaling?: { rawMin: number; rawMax: number; engMin: number; engMax: number } | undefined;
  simulation?: SimulationSpec | undefined;
  history?: HistorySpec | undefined;
  /** Driver-specific extra options, validated by the driver. */
  options?: Record<string, unknown> | undefined;
}

export type SimulationKind = 'sine' | 'ramp' | 'randomWalk' | 'square' | 'counter' | 'constant' | 'random' | 'clock' | 'text';

export interface SimulationSpec {
  kind: SimulationKind;
  /** Update cycle in ms (100 ms – 1 h). */
  cycleMs: number;
  periodMs?: number | undefined;
  min?: number | undefined;
  max?: number | undefined;
  step?: number | undefined;
  /** For `text`: the values cycled through. */
  values?: string[] | undefined;
}

export interface HistorySpec {
  mode: 'onChange' | 'cyclic' | 'both';
  deadband?: number | undefined;
  intervalMs?: number | undefined;
  retentionDays?: number | undefined;
}
