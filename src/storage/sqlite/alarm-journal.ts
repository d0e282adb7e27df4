import type { Statement } from 'better-sqlite3';
import type { StateMachine } from '../../domain/alarms/definition.js';
import type { AlarmEventRecord } from '../../domain/alarms/records.js';
import { ALARM_EVENTS } from '../../domain/alarms/state-machine.js';
import { compileGlob, isGlob } from '../../domain/glob.js';
import { migrate, type Database } from './database.js';
import {
  ARCHIVE_MAX_LIMIT,
  decodeCursor,
  encodeCursor,
  type AlarmSetting,
  type ArchivePage,
  type ArchiveQuery,
  type NewAlarmEvent,
  type OpenOccurrenceHistory,
} from '../alarm-journal-repository.js';
import { alarmEventRecordOf, type AlarmEventRowBase } from '../rows.js';

export {
  ARCHIVE_MAX_LIMIT,
  decodeCursor,
  encodeCursor,
  type AlarmSetting,
  type ArchivePage,
  type ArchiveQuery,
  type NewAlarmEvent,
  type OpenOccurrenceHistory,
};

/**
 * The alarm journal: every state change of every occurrence, in commit order. `event_id` (AUTOINCREMENT, so never
 * reused even after pruning) is the keyset for archive paging and the SSE event id. A second small table holds the
 * occurrences still open, so that start-up reads a handful of rows instead of scanning the journal.
 *
 * Journal time never goes backwards: an event stamped before the newest one is recorded at the newest time (a
 * clock stepped back by NTP). That keeps `at` in `event_id` order, which lets `from`/`to` become an `event_id`
 * range found in the `at` index, so a time-filtered page is a short index walk whatever the filters.
 */
const MIGRATIONS = [
  `CREATE TABLE alarm_events (
     event_id INTEGER PRIMARY KEY AUTOINCREMENT,
     occurrence INTEGER NOT NULL,
     alarm TEXT NOT NULL,
     number INTEGER NOT NULL,
     class TEXT NOT NULL,
     priority INTEGER NOT NULL,
     event TEXT NOT NULL,
     at INTEGER NOT NULL,
     state TEXT NOT NULL,
     text TEXT NOT NULL,
     tag TEXT,
     value TEXT,
     user TEXT
   );
   CREATE INDEX alarm_events_at ON alarm_events (at);
   CREATE INDEX alarm_events_occurrence ON alarm_events (occurrence);
   CREATE INDEX alarm_events_alarm ON alarm_events (alarm, event_id);
   CREATE INDEX alarm_events_tag ON alarm_events (tag, event_id);
   CREATE INDEX alarm_events_class ON alarm_events (class, event_id);
   CREATE INDEX alarm_events_event ON alarm_events (event, event_id);
   CREATE TABLE alarm_open (
     occurrence INTEGER PRIMARY KEY,
     alarm TEXT NOT NULL,
     state_machine TEXT NOT NULL
   );
   CREATE TABLE alarm_names (name TEXT PRIMARY KEY) WITHOUT ROWID;`,
  // Operator overrides of a definition (disabled, shelved) survive a restart.
  `CREATE TABLE alarm_settings (
     alarm TEXT PRIMARY KEY,
     enabled INTEGER NOT NULL,
     shelved_until INTEGER
   ) WITHOUT ROWID;`,
];

interface Row extends AlarmEventRowBase {
  user: string | null;
}

/** Up to this many alarm names matched by a glob become an `IN (…)` list (index lookups); more are matched by
 * the glob function inside SQLite, so that LIMIT still stops the scan early. */
const GLOB_IN_LIST_MAX = 64;

const toRecord = (r: Row): AlarmEventRecord => alarmEventRecordOf(r, r.user);

export class AlarmJournal {
  private readonly insertEvent: Statement;
  private readonly insertOpen: Statement;
  private readonly deleteOpen: Statement;
  private readonly insertName: Statement;
  private readonly firstAtOrAfter: Statement;
  private readonly appendTx: (events: readonly NewAlarmEvent[]) => AlarmEventRecord[];
  private readonly queryCache = new Map<string, Statement>();
  private lastAt: number;
  private maxOccurrence: number;
  private names: Set<string> | undefined;

  constructor(readonly db: Database) {
    migrate(db, 'alarm-journal', MIGRATIONS);
    // Our glob syntax (segments split by . and /) differs from SQLite's GLOB; the compiled matchers are cached.
    db.function('tagway_glob', { deterministic: true }, (pattern: unknown, name: unknown) =>
      typeof pattern === 'string' && typeof name === 'string' && compileGlob(pattern)(name) ? 1 : 0,
    );
    this.insertEvent = db.prepare(`INSERT INTO alarm_events
      (occurrence, alarm, number, class, priority, event, at, state, text, tag, value, user)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertOpen = db.prepare('INSERT OR REPLACE INTO alarm_open (occurrence, alarm, state_machine) VALUES (?, ?, ?)');
    this.deleteOpen = db.prepare('DELETE FROM alarm_open WHERE occurrence = ?');
    this.insertName = db.prepare('INSERT OR IGNORE INTO alarm_names (name) VALUES (?)');
    this.firstAtOrAfter = db.prepare('SELECT event_id AS id FROM alarm_events WHERE at >= ? ORDER BY at, event_id LIMIT 1').pluck();
    this.lastAt = 0;
    this.maxOccurrence = 0;
    this.resync();
    this.appendTx = db.transaction((events: readonly NewAlarmEvent[]) => {
      const out: AlarmEventRecord[] = [];
      for (const e of events) {
        const at = Math.max(e.at, this.lastAt);
        const value = e.value === null ? null : JSON.stringify(e.value);
        const info = this.insertEvent.run(e.id, e.alarm, e.number, e.class, e.priority, e.event, at, e.state, e.text, e.tag, value, e.user);
        if (e.event === 'RAISED') {
          this.insertName.run(e.alarm);
          if (!e.closes) this.insertOpen.run(e.id, e.alarm, e.stateMachine);
        } else if (e.closes) {
          this.deleteOpen.run(e.id);
        }
        this.lastAt = at;
        out.push({
          eventId: Number(info.lastInsertRowid),
          id: e.id,
          alarm: e.alarm,
          number: e.number,
          class: e.class,
          priority: e.priority,
          event: e.event,
          at: new Date(at).toISOString(),
          state: e.state,
          text: e.text,
          tag: e.tag,
          value: e.value,
          user: e.user,
        });
      }
      return out;
    });
  }

  /** Re-reads what is kept in memory from the tables (at open, and after a rolled-back unit of work). */
  resync(): void {
    const last = this.db.prepare('SELECT max(at) AS at, max(occurrence) AS occ FROM alarm_events').get() as {
      at: number | null;
      occ: number | null;
    };
    const openMax = this.db.prepare('SELECT max(occurrence) FROM alarm_open').pluck().get() as number | null;
    this.lastAt = last.at ?? 0;
    // Never lower: ids handed out before a rollback stay used.
    this.maxOccurrence = Math.max(this.maxOccurrence, last.occ ?? 0, openMax ?? 0);
    this.names = undefined;
  }

  /** A fresh occurrence id: never used before, even across restarts (the journal remembers the highest). */
  nextOccurrenceId(): number {
    return ++this.maxOccurrence;
  }

  /**
   * Records events in one transaction (one fsync with `synchronous=FULL`), in order; returns them with their
   * event ids. Throws (and records nothing) if the database refuses.
   */
  append(events: readonly NewAlarmEvent[]): AlarmEventRecord[] {
    if (events.length === 0) return [];
    const saveLastAt = this.lastAt;
    try {
      const out = this.appendTx(events);
      if (this.names) for (const e of events) this.names.add(e.alarm);
      return out;
    } catch (err) {
      this.lastAt = saveLastAt;
      throw err;
    }
  }

  /** Open occurrences with all their events, for rebuilding the current list at start-up. */
  loadOpen(): OpenOccurrenceHistory[] {
    const open = this.db.prepare('SELECT occurrence, alarm, state_machine FROM alarm_open ORDER BY occurrence').all() as {
      occurrence: number;
      alarm: string;
      state_machine: StateMachine;
    }[];
    const evs = this.db.prepare('SELECT * FROM alarm_events WHERE occurrence = ? ORDER BY event_id');
    return open.map((o) => ({
      id: o.occurrence,
      alarm: o.alarm,
      stateMachine: o.state_machine,
      events: (evs.all(o.occurrence) as Row[]).map(toRecord),
    }));
  }

  /** Remembers an operator override of an alarm definition. */
  saveSetting(alarm: string, setting: AlarmSetting): void {
    this.db
      .prepare('INSERT OR REPLACE INTO alarm_settings (alarm, enabled, shelved_until) VALUES (?, ?, ?)')
      .run(alarm, setting.enabled ? 1 : 0, setting.shelvedUntil);
  }

  loadSettings(): Map<string, AlarmSetting> {
    const rows = this.db.prepare('SELECT alarm, enabled, shelved_until FROM alarm_settings').all() as {
      alarm: string;
      enabled: number;
      shelved_until: number | null;
    }[];
    return new Map(rows.map((r) => [r.alarm, { enabled: r.enabled === 1, shelvedUntil: r.shelved_until }]));
  }

  /** Every event of one occurrence, oldest first (empty when unknown or pruned). */
  eventsOf(occurrence: number): AlarmEventRecord[] {
    return (this.db.prepare('SELECT * FROM alarm_events WHERE occurrence = ? ORDER BY event_id').all(occurrence) as Row[]).map(toRecord);
  }

  /** Newest event id, 0 when empty. */
  lastEventId(): number {
    return (this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'alarm_events'").pluck().get() as number | undefined) ?? 0;
  }

  count(): number {
    return this.db.prepare('SELECT count(*) FROM alarm_events').pluck().get() as number;
  }

  /** Events after `eventId` in order (SSE resumption with Last-Event-ID). */
  since(eventId: number, limit = 1000): AlarmEventRecord[] {
    return (this.db.prepare('SELECT * FROM alarm_events WHERE event_id > ? ORDER BY event_id LIMIT ?').all(eventId, limit) as Row[]).map(
      toRecord,
    );
  }

  private alarmNames(): Set<string> {
    if (!this.names) this.names = new Set(this.db.prepare('SELECT name FROM alarm_names').pluck().all() as string[]);
    return this.names;
  }

  /** One page of the archive. Filters combine with AND. */
  query(q: ArchiveQuery = {}): ArchivePage {
    const order = q.order ?? 'desc';
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 100)), ARCHIVE_MAX_LIMIT);
    const where: string[] = [];
    const params: unknown[] = [];

    // Time → event_id range (see the class comment); the `at` terms stay to be exact at the edges.
    if (q.from !== undefined) {
      const lo = this.firstAtOrAfter.get(q.from) as number | undefined;
      if (lo === undefined) return { items: [], next: null };
      where.push('event_id >= ?', 'at >= ?');
      params.push(lo, q.from);
    }
    if (q.to !== undefined) {
      const hi = this.firstAtOrAfter.get(q.to) as number | undefined;
      if (hi !== undefined) {
        where.push('event_id < ?');
        params.push(hi);
      }
      where.push('at < ?');
      params.push(q.to);
    }
    if (q.cursor !== undefined) {
      const k = decodeCursor(q.cursor, order);
      where.push(order === 'desc' ? 'event_id < ?' : 'event_id > ?');
      params.push(k);
    }
    if (q.alarm !== undefined) {
      if (!isGlob(q.alarm)) {
        where.push('alarm = ?');
        params.push(q.alarm);
      } else {
        const m = compileGlob(q.alarm);
        const matching = [...this.alarmNames()].filter(m);
        if (matching.length === 0) return { items: [], next: null };
        if (matching.length <= GLOB_IN_LIST_MAX) {
          where.push(`alarm IN (${matching.map(() => '?').join(',')})`);
          params.push(...matching);
        } else {
          where.push('tagway_glob(?, alarm)');
          params.push(q.alarm);
        }
      }
    }
    if (q.tag !== undefined) {
      where.push('tag = ?');
      params.push(q.tag);
    }
    if (q.class !== undefined) {
      where.push('class = ?');
      params.push(q.class);
    }
    if (q.minPriority !== undefined) {
      where.push('priority >= ?');
      params.push(q.minPriority);
    }
    if (q.maxPriority !== undefined) {
      where.push('priority <= ?');
      params.push(q.maxPriority);
    }
    if (q.event !== undefined) {
      const evs = (typeof q.event === 'string' ? [q.event] : [...q.event]).filter((e) => (ALARM_EVENTS as readonly string[]).includes(e));
      if (evs.length === 1) {
        where.push('event = ?');
        params.push(evs[0]);
      } else if (evs.length > 1 && evs.length < ALARM_EVENTS.length) {
        where.push(`event IN (${evs.map(() => '?').join(',')})`);
        params.push(...evs);
      }
    }
    if (q.text !== undefined && q.text !== '') {
      // LIKE is case-insensitive for ASCII; escape its wildcards so the text is a plain substring.
      where.push("text LIKE ? ESCAPE '\\'");
      params.push(`%${q.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
    }

    const sql = `SELECT * FROM alarm_events${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY event_id ${order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    let stmt = this.queryCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.queryCache.size > 200) this.queryCache.clear();
      this.queryCache.set(sql, stmt);
    }
    // One more than a page tells whether another page exists.
    const rows = stmt.all(...params, limit + 1) as Row[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map(toRecord);
    const last = items[items.length - 1];
    return { items, next: more && last ? encodeCursor(last.eventId, order) : null };
  }

  /**
   * Deletes up to `batch` events older than `before` (epoch ms), never those of open occurrences (the rebuild
   * needs them). Small batches keep each write transaction short so alarms are never held up; returns how many
   * were deleted (less than `batch` means done).
   */
  pruneBatch(before: number, batch = 1000): number {
    const hi = this.firstAtOrAfter.get(before) as number | undefined;
    const info = this.db
      .prepare(`DELETE FROM alarm_events WHERE event_id IN (
      SELECT event_id FROM alarm_events WHERE event_id < ? AND occurrence NOT IN (SELECT occurrence FROM alarm_open)
      ORDER BY event_id LIMIT ?)`)
      .run(hi ?? Number.MAX_SAFE_INTEGER, batch);
    return info.changes;
  }
}
