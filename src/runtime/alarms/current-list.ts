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
  /**
   * Journal event id of each item's last applied change. In a cluster, changes arrive from the owners and a node
   * may also read them from the journal (at start, at a takeover): an older or repeated change is ignored.
   */
  private readonly seen = new Map<number, number>();

  /** After a commit: the occurrence's state now is its committed state (a commit takes the whole queue). */
  committed(occ: Occurrence, closed: boolean, eventId?: number): void {
    this.set(occ.id, closed ? null : occurrenceView(occ), eventId);
  }

  reset(open: Iterable<Occurrence>, eventIds?: ReadonlyMap<number, number>): void {
    this.items.clear();
    this.seen.clear();
    for (const o of open) this.set(o.id, occurrenceView(o), eventIds?.get(o.id));
  }

  /**
   * A change another node committed (cluster): the occurrence's view after the event, or null when the event
   * closed it. Applied unless this or a newer event of the occurrence was applied already; true when applied.
   */
  applyRemote(id: number, eventId: number, view: AlarmOccurrence | null): boolean {
    const last = this.seen.get(id);
    if (last !== undefined && eventId <= last) return false;
    this.set(id, view, eventId);
    return true;
  }

  /**
   * Replaces every item `mine` selects with `items` (a takeover's rebuild from the journal, or an owner's
   * snapshot): what the owner no longer lists was closed meanwhile.
   */
  replace(mine: (o: AlarmOccurrence) => boolean, items: Iterable<readonly [AlarmOccurrence, number | undefined]>): void {
    for (const [id, o] of this.items) {
      if (mine(o)) {
        this.items.delete(id);
        this.seen.delete(id);
      }
    }
    for (const [view, eventId] of items) this.set(view.id, view, eventId);
  }

  /** The items `mine` selects, with the event id of their last change (an owner's snapshot). */
  entries(mine: (o: AlarmOccurrence) => boolean): Array<[AlarmOccurrence, number | undefined]> {
    const out: Array<[AlarmOccurrence, number | undefined]> = [];
    for (const o of this.items.values()) if (mine(o)) out.push([o, this.seen.get(o.id)]);
    return out;
  }

  private set(id: number, view: AlarmOccurrence | null, eventId: number | undefined): void {
    if (view === null) {
      this.items.delete(id);
      this.seen.delete(id);
      return;
    }
    this.items.set(id, view);
    if (eventId !== undefined) this.seen.set(id, eventId);
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
