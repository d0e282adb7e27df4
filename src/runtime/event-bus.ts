import type { AlarmEventRecord } from '../domain/alarms/records.js';
import type { SessionRecord } from '../storage/session-repository.js';
import type { TagChange } from './tag-engine.js';

/**
 * What happens inside one Tagway process that other parts (live channels, a future cluster link) react to.
 * Producers emit after the fact is durable (an alarm event after its journal commit, a revocation after the
 * session is gone); listeners must be quick and must not throw into the producer.
 */
export interface TagwayEvents {
  /** A tag's value, quality or timestamp changed (emitted only while someone listens: the hot path pays nothing). */
  'tag.changed': TagChange;
  /** An alarm journal event was committed. */
  'alarm.committed': AlarmEventRecord;
  /** An audit row was appended (after its commit). */
  'audit.recorded': { action: string; user: string; target?: string | undefined; result: string };
  /**
   * A user's rights may have changed: disabled, deleted, password changed, groups changed, or (with `group`) the
   * permissions of a group they belong to. Live channels re-check their principal.
   */
  'user.changed': {
    username?: string | undefined;
    group?: string | undefined;
    reason: 'disabled' | 'deleted' | 'password' | 'groups' | 'permissions' | 'enabled';
  };
  /** A session was created (login, refresh): a cluster link tells the other nodes, whose session caches are their own. */
  'session.created': { record: SessionRecord };
  /** A session's last-seen time was saved (at most once a minute per session): other nodes slide its idle timeout. */
  'session.touched': { sessionId: string; lastSeenAt: number };
  /** A session ended before its time (logout, refresh, revocation); `sessionId` is the session's token hash. */
  'session.revoked': { sessionId: string; username: string; reason: 'logout' | 'refresh' | 'revoked' | 'expired' | 'user' };
}

export type EventName = keyof TagwayEvents;
type Listener<K extends EventName> = (payload: TagwayEvents[K]) => void;

/** A small typed publish/subscribe: the one seam where a cluster link will later cross process boundaries. */
export class EventBus {
  private readonly listeners: { [K in EventName]?: Array<Listener<K>> } = {};

  /** Subscribes; returns the unsubscribe function (call it in stop()). */
  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    const list = (this.listeners[event] ??= []) as Array<Listener<K>>;
    list.push(listener);
    return () => {
      const cur = this.listeners[event] as Array<Listener<K>> | undefined;
      if (cur) this.listeners[event] = cur.filter((l) => l !== listener) as never;
    };
  }

  /** True when anyone listens (producers on hot paths skip building the payload otherwise). */
  has(event: EventName): boolean {
    const list = this.listeners[event];
    return list !== undefined && list.length > 0;
  }

  emit<K extends EventName>(event: K, payload: TagwayEvents[K]): void {
    const list = this.listeners[event] as Array<Listener<K>> | undefined;
    if (!list) return;
    for (const l of list) {
      try {
        l(payload);
      } catch {
        // A faulty listener must not break the producer (a commit, a revocation) or the other listeners.
      }
    }
  }
}
