import type { AlarmOccurrence } from '../../domain/alarms/records.js';
import { compileGlob } from '../../domain/glob.js';
import { occurrenceView, type Occurrence } from './occurrence.js';
import type { CurrentFilter } from './types.js';

/**
 * The current list as committed: what the journal holds, never ahead of it. The evaluator's working state runs
 * ahead by one burst normally, and by the whole outage when the journal refuses writes; readers see only this.
 */
export class CurrentList {
  private readonly items = new Map<number, AlarmOccurrence>();

  /** After a commit: the occurrence's state now is its committed state (a commit takes the whole queue). */
  committed(occ: Occurrence, closed: boolean): void {
    if (closed) this.items.delete(occ.id);
    else this.items.set(occ.id, occurrenceView(occ));
  }

  reset(open: Iterable<Occurrence>): void {
    this.items.clear();
    for (const o of open) this.items.set(o.id, occurrenceView(o));
  }

  get(id: number): AlarmOccurrence | undefined {
    return this.items.get(id);
  }

  get size(): number {
    return this.items.size;
  }

  /** Every occurrence still active or waiting for a response, newest first. */
  list(filter: CurrentFilter = {}): AlarmOccurrence[] {
    const m = filter.alarm === undefined ? undefined : compileGlob(filter.alarm);
    const states = filter.state === undefined ? undefined : new Set(typeof filter.state === 'string' ? [filter.state] : filter.state);
    const out: AlarmOccurrence[] = [];
    for (const o of this.items.values()) {
      if (filter.class !== undefined && o.class !== filter.class) continue;
      if (filter.minPriority !== undefined && o.priority < filter.minPriority) continue;
      if (filter.maxPriority !== undefined && o.priority > filter.maxPriority) continue;
      if (filter.tag !== undefined && o.tag !== filter.tag) continue;
      if (m && !m(o.alarm)) continue;
      if (states && !states.has(o.state)) continue;
      out.push(o);
    }
    // ISO 8601 UTC strings of one width sort as their times do.
    out.sort((x, y) => (x.raisedAt < y.raisedAt ? 1 : x.raisedAt > y.raisedAt ? -1 : y.id - x.id));
    return out;
  }
}
