import { compileGlob, MAX_GLOB_LENGTH } from '../../domain/glob.js';
import { TagwayError, type FieldError } from '../../domain/problems.js';
import type { AlarmEvent } from './types.js';

/**
 * The filters of `GET /alarms/current`, applied to live archive events: `class`, `minPriority`, `maxPriority`,
 * `tag`, `alarm` (glob), `state`; plus `event` from the archive's filters. `class`, `state` and `event` accept a
 * comma-separated list; `tag` and `alarm` accept globs.
 */
export interface AlarmFilterSpec {
  class?: string | undefined;
  minPriority?: number | undefined;
  maxPriority?: number | undefined;
  tag?: string | undefined;
  alarm?: string | undefined;
  state?: string | undefined;
  event?: string | undefined;
}

export type AlarmPredicate = (e: AlarmEvent) => boolean;

function list(s: string | undefined): Set<string> | undefined {
  if (s === undefined) return undefined;
  return new Set(
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );
}

export function compileAlarmFilter(spec: AlarmFilterSpec): AlarmPredicate {
  const errors: FieldError[] = [];
  for (const f of ['minPriority', 'maxPriority'] as const) {
    const v = spec[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 16)) errors.push({ field: f, message: 'must be an integer from 0 to 16' });
  }
  for (const f of ['class', 'tag', 'alarm', 'state', 'event'] as const) {
    const v = spec[f];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) errors.push({ field: f, message: 'must be a non-empty string' });
    // The lists and globs live as long as the subscription: bounded like every glob.
    else if (v !== undefined && v.length > MAX_GLOB_LENGTH) errors.push({ field: f, message: `at most ${MAX_GLOB_LENGTH} characters` });
  }
  if (errors.length > 0) throw new TagwayError('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
  const classes = list(spec.class);
  const states = list(spec.state);
  const events = list(spec.event);
  const min = spec.minPriority ?? 0;
  const max = spec.maxPriority ?? 16;
  const tag = spec.tag === undefined ? undefined : compileGlob(spec.tag);
  const alarm = spec.alarm === undefined ? undefined : compileGlob(spec.alarm);
  return (e) =>
    e.priority >= min &&
    e.priority <= max &&
    (classes === undefined || classes.has(e.class)) &&
    (states === undefined || states.has(e.state)) &&
    (events === undefined || events.has(e.event)) &&
    (tag === undefined || (typeof e.tag === 'string' && tag(e.tag))) &&
    (alarm === undefined || alarm(e.alarm));
}
