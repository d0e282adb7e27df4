import type { TagValue } from '../tag-types.js';

/** What the historian last wrote for a tag. */
export interface LoggedPoint {
  value: TagValue;
  quality: number;
}

function asNumber(v: TagValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return NaN; // a Bool flip is always a change, never within a deadband
  return /^-?\d+$/.test(v) ? Number(v) : NaN; // 64-bit integers travel as decimal strings
}

/**
 * The on-change logging decision. A new value is logged when
 * - nothing has been logged yet for the tag,
 * - its quality differs from the last logged one (always, whatever the value: a connection loss and its end
 *   must show in a trend), or
 * - it differs from the last *logged* value by more than the absolute `deadband` (in the tag's unit).
 * Comparing with the last logged value, not the last seen one, means a slow drift is logged once it has
 * added up to more than the deadband. Without a deadband (or 0) every change is logged; non-numeric values
 * are logged whenever they differ.
 */
export function shouldLog(last: LoggedPoint | undefined, value: TagValue, quality: number, deadband = 0): boolean {
  if (last === undefined) return true;
  if (last.quality !== quality) return true;
  if (last.value === value) return false;
  if (deadband > 0) {
    const a = asNumber(last.value);
    const b = asNumber(value);
    if (a === a && b === b) return Math.abs(b - a) > deadband;
  }
  return true;
}
