import type { StateMachine } from '../../domain/alarms/definition.js';
import type { AlarmEventRecord } from '../../domain/alarms/records.js';
import { ALARM_EVENTS } from '../../domain/alarms/state-machine.js';
import { compileGlob, isGlob } from '../../domain/glob.js';
import {
  ARCHIVE_MAX_LIMIT,
  decodeCursor,
  encodeCursor,
  type AlarmJournalRepository,
  type AlarmSetting,
  type AlarmSettingsRepository,
  type ArchivePage,
  type ArchiveQuery,
  JournalFencedError,
  type JournalFence,
  type NewAlarmEvent,
  type OpenOccurrenceHistory,
} from '../alarm-journal-repository.js';
import { LOCK_NS, LOCKS, PgRepository, type PgExec, type PgMigrations, type Sql } from './db.js';
import { alarmEventRecordOf, type AlarmEventRowBase } from '../rows.js';

/**
 * The alarm journal in PostgreSQL. Appends from every node take one advisory lock and read the journal's head row
 * (last event id, newest time): event ids are then gapless and committed in order (SSE resumption never skips an
 * event committed late), and journal time never goes backwards across nodes either.
 */
export const ALARM_MIGRATIONS: PgMigrations = {
  module: 'alarm-journal',
  steps: [
    `CREATE TABLE alarm_events (
       event_id BIGINT PRIMARY KEY,
       occurrence BIGINT NOT NULL,
       alarm TEXT COLLATE "C" NOT NULL,
       number INTEGER NOT NULL,
       class TEXT NOT NULL,
       priority INTEGER NOT NULL,
       event TEXT NOT NULL,
       at BIGINT NOT NULL,
       state TEXT NOT NULL,
       text TEXT NOT NULL,
       tag TEXT,
       value TEXT,
       username TEXT
     );
     CREATE INDEX alarm_events_at ON alarm_events (at, event_id);
     CREATE INDEX alarm_events_occurrence ON alarm_events (occurrence);
     CREATE INDEX alarm_events_alarm ON alarm_events (alarm, event_id);
     CREATE INDEX alarm_events_tag ON alarm_events (tag, event_id);
     CREATE INDEX alarm_events_class ON alarm_events (class, event_id);
     CREATE INDEX alarm_events_event ON alarm_events (event, event_id);
     CREATE TABLE alarm_open (occurrence BIGINT PRIMARY KEY, alarm TEXT NOT NULL, state_machine TEXT NOT NULL);
     CREATE TABLE alarm_names (name TEXT COLLATE "C" PRIMARY KEY);
     CREATE TABLE alarm_journal_head (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), last_event_id BIGINT NOT NULL, last_at BIGINT NOT NULL);
     INSERT INTO alarm_journal_head (last_event_id, last_at) VALUES (0, 0);
     -- Occurrence ids are handed out synchronously by the alarm engine; each node reserves blocks of this sequence.
     CREATE SEQUENCE alarm_occurrence_blocks START 1;`,
    `CREATE TABLE alarm_settings (alarm TEXT PRIMARY KEY, enabled BOOLEAN NOT NULL, shelved_until BIGINT);`,
  ],
};

/** Occurrence ids reserved per round trip; the next block is fetched when half of one is used. */
export const OCCURRENCE_BLOCK = 1000;

interface Row extends AlarmEventRowBase {
  username: string | null;
}

const toRecord = (r: Row): AlarmEventRecord => alarmEventRecordOf(r, r.username);

/** Inserts journal rows with their ids as given (appends, and `tagway migrate-data`). */
export async function insertAlarmRows(db: Sql, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof Row>(k: K) => rows.map((r) => r[k]);
  await db.query(
    `INSERT INTO alarm_events (event_id, occurrence, alarm, number, class, priority, event, at, state, text, tag, value, username)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::text[],
       $10::text[], $11::text[], $12::text[], $13::text[])`,
    [
      col('event_id'),
      col('occurrence'),
      col('alarm'),
      col('number'),
      col('class'),
      col('priority'),
      col('event'),
      col('at'),
      col('state'),
      col('text'),
      col('tag'),
      col('value'),
      col('username'),
    ],
  );
}
export type AlarmEventRow = Row;

/** Occurrence ids this process may hand out: [next, end). Shared by the repository and its unit-of-work views. */
interface IdBlocks {
  next: number;
  end: number;
  /** Reserved block starts not yet in use. */
  spare: number[];
  fetching: Promise<void> | undefined;
}

export class PgAlarmJournalRepository extends PgRepository implements AlarmJournalRepository {
  private readonly ids: IdBlocks = { next: 0, end: 0, spare: [], fetching: undefined };

  constructor(
    db: PgExec,
    /** Reserves blocks outside any unit of work (a rolled-back one must not give reserved ids back). */
    private readonly reserve: (n: number) => Promise<number[]>,
  ) {
    super(db);
  }

  /** Reserves the first blocks; called once by openPostgresStorage before the repository is used. */
  async init(): Promise<void> {
    await this.refill(2);
  }

  private refill(blocks: number): Promise<void> {
    this.ids.fetching ??= this.reserve(blocks)
      .then((starts) => {
        this.ids.spare.push(...starts);
      })
      .catch(() => {
        /* the store is unreachable; the next id asks again */
      })
      .finally(() => {
        this.ids.fetching = undefined;
      });
    return this.ids.fetching;
  }

  nextOccurrenceId(): number {
    const ids = this.ids;
    if (ids.next >= ids.end) {
      const start = ids.spare.shift();
      if (start === undefined) {
        void this.refill(2);
        throw new Error('alarm journal: no occurrence ids reserved (the database is unreachable)');
      }
      ids.next = (start - 1) * OCCURRENCE_BLOCK + 1;
      ids.end = ids.next + OCCURRENCE_BLOCK;
    }
    if (ids.spare.length === 0 && ids.end - ids.next <= OCCURRENCE_BLOCK / 2) void this.refill(1);
    return ids.next++;
  }

  /** The cluster's lease rows (src/storage/postgres/pg-cluster-repository.ts) are in the same database. */
  readonly fencing = true;

  append(events: readonly NewAlarmEvent[], fence?: JournalFence): Promise<AlarmEventRecord[]> {
    if (events.length === 0) return this.db.run(async () => []);
    return this.db.atomic(async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NS, LOCKS.alarmJournal]);
      if (fence) await checkFence(db, fence);
      const head = (await db.query<{ last_event_id: number; last_at: number }>('SELECT last_event_id, last_at FROM alarm_journal_head'))
        .rows[0]!;
      let eventId = head.last_event_id;
      let lastAt = head.last_at;
      const rows: Row[] = [];
      const out: AlarmEventRecord[] = [];
      const names = new Set<string>();
      for (const e of events) {
        lastAt = Math.max(e.at, lastAt);
        eventId++;
        const value = e.value === null ? null : JSON.stringify(e.value);
        rows.push({
          event_id: eventId,
          occurrence: e.id,
          alarm: e.alarm,
          number: e.number,
          class: e.class,
          priority: e.priority,
          event: e.event,
          at: lastAt,
          state: e.state,
          text: e.text,
          tag: e.tag,
          value,
          username: e.user,
        });
        if (e.event === 'RAISED') names.add(e.alarm);
        out.push({
          eventId,
          id: e.id,
          alarm: e.alarm,
          number: e.number,
          class: e.class,
          priority: e.priority,
          event: e.event,
          at: new Date(lastAt).toISOString(),
          state: e.state,
          text: e.text,
          tag: e.tag,
          value: e.value,
          user: e.user,
        });
      }
      await insertAlarmRows(db, rows);
      if (names.size > 0) await db.query('INSERT INTO alarm_names (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [[...names]]);
      // In event order: an occurrence raised and closed in the same batch ends up closed.
      for (const e of events) {
        if (e.event === 'RAISED' && !e.closes)
          await db.query(
            'INSERT INTO alarm_open (occurrence, alarm, state_machine) VALUES ($1, $2, $3) ON CONFLICT (occurrence) DO UPDATE SET alarm = excluded.alarm, state_machine = excluded.state_machine',
            [e.id, e.alarm, e.stateMachine],
          );
        else if (e.event !== 'RAISED' && e.closes) await db.query('DELETE FROM alarm_open WHERE occurrence = $1', [e.id]);
      }
      await db.query('UPDATE alarm_journal_head SET last_event_id = $1, last_at = $2', [eventId, lastAt]);
      return out;
    });
  }

  loadOpen(): Promise<OpenOccurrenceHistory[]> {
    return this.db.run(async (db) => {
      const open = (
        await db.query<{ occurrence: number; alarm: string; state_machine: StateMachine }>(
          'SELECT occurrence, alarm, state_machine FROM alarm_open ORDER BY occurrence',
        )
      ).rows;
      if (open.length === 0) return [];
      const evs = (
        await db.query<Row>('SELECT * FROM alarm_events WHERE occurrence = ANY($1::bigint[]) ORDER BY event_id', [
          open.map((o) => o.occurrence),
        ])
      ).rows;
      const by = new Map<number, AlarmEventRecord[]>(open.map((o) => [o.occurrence, []]));
      for (const r of evs) by.get(r.occurrence)!.push(toRecord(r));
      return open.map((o) => ({ id: o.occurrence, alarm: o.alarm, stateMachine: o.state_machine, events: by.get(o.occurrence)! }));
    });
  }

  eventsOf(occurrence: number): Promise<AlarmEventRecord[]> {
    return this.db.run(async (db) =>
      (await db.query<Row>('SELECT * FROM alarm_events WHERE occurrence = $1 ORDER BY event_id', [occurrence])).rows.map(toRecord),
    );
  }

  lastEventId(): Promise<number> {
    return this.db.run(async (db) => (await db.query<{ id: number }>('SELECT last_event_id AS id FROM alarm_journal_head')).rows[0]!.id);
  }

  count(): Promise<number> {
    return this.db.run(async (db) => (await db.query<{ n: number }>('SELECT count(*) AS n FROM alarm_events')).rows[0]!.n);
  }

  since(eventId: number, limit = 1000): Promise<AlarmEventRecord[]> {
    return this.db.run(async (db) =>
      (await db.query<Row>('SELECT * FROM alarm_events WHERE event_id > $1 ORDER BY event_id LIMIT $2', [eventId, limit])).rows.map(
        toRecord,
      ),
    );
  }

  query(q: ArchiveQuery = {}): Promise<ArchivePage> {
    const order = q.order ?? 'desc';
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 100)), ARCHIVE_MAX_LIMIT);
    let cursor: number | undefined;
    try {
      if (q.cursor !== undefined) cursor = decodeCursor(q.cursor, order);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.db.run(async (db) => {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      const firstAtOrAfter = async (t: number) =>
        (await db.query<{ id: number }>('SELECT event_id AS id FROM alarm_events WHERE at >= $1 ORDER BY at, event_id LIMIT 1', [t]))
          .rows[0]?.id;
      // Journal time follows event ids, so a time range is an event id range (a short walk of the primary key).
      if (q.from !== undefined) {
        const lo = await firstAtOrAfter(q.from);
        if (lo === undefined) return { items: [], next: null };
        where.push(`event_id >= ${p(lo)}`, `at >= ${p(q.from)}`);
      }
      if (q.to !== undefined) {
        const hi = await firstAtOrAfter(q.to);
        if (hi !== undefined) where.push(`event_id < ${p(hi)}`);
        where.push(`at < ${p(q.to)}`);
      }
      if (cursor !== undefined) where.push(`event_id ${order === 'desc' ? '<' : '>'} ${p(cursor)}`);
      if (q.alarm !== undefined) {
        if (!isGlob(q.alarm)) where.push(`alarm = ${p(q.alarm)}`);
        else {
          const m = compileGlob(q.alarm);
          const names = (await db.query<{ name: string }>('SELECT name FROM alarm_names')).rows.map((r) => r.name).filter(m);
          if (names.length === 0) return { items: [], next: null };
          where.push(`alarm = ANY(${p(names)}::text[])`);
        }
      }
      if (q.tag !== undefined) where.push(`tag = ${p(q.tag)}`);
      if (q.class !== undefined) where.push(`class = ${p(q.class)}`);
      if (q.minPriority !== undefined) where.push(`priority >= ${p(q.minPriority)}`);
      if (q.maxPriority !== undefined) where.push(`priority <= ${p(q.maxPriority)}`);
      if (q.event !== undefined) {
        const evs = (typeof q.event === 'string' ? [q.event] : [...q.event]).filter((e) => (ALARM_EVENTS as readonly string[]).includes(e));
        if (evs.length === 1) where.push(`event = ${p(evs[0])}`);
        else if (evs.length > 1 && evs.length < ALARM_EVENTS.length) where.push(`event = ANY(${p(evs)}::text[])`);
      }
      if (q.text !== undefined && q.text !== '') {
        // As SQLite's LIKE: case-insensitive, the text a plain substring (its wildcards escaped).
        where.push(`text ILIKE ${p(`%${q.text.replace(/[\\%_]/g, (c) => '\\' + c)}%`)} ESCAPE '\\'`);
      }
      const sql = `SELECT * FROM alarm_events${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY event_id ${order === 'desc' ? 'DESC' : 'ASC'} LIMIT ${p(limit + 1)}`;
      const rows = (await db.query<Row>(sql, params)).rows;
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const items = rows.map(toRecord);
      const last = items[items.length - 1];
      return { items, next: more && last ? encodeCursor(last.eventId, order) : null };
    });
  }

  pruneBatch(before: number, batch = 1000): Promise<number> {
    return this.db.run(async (db) => {
      const r = await db.query(
        `DELETE FROM alarm_events WHERE event_id IN (
           SELECT event_id FROM alarm_events WHERE at < $1 AND occurrence NOT IN (SELECT occurrence FROM alarm_open)
           ORDER BY event_id LIMIT $2)`,
        [before, batch],
      );
      return r.rowCount ?? 0;
    });
  }
}

/**
 * Fails the append's transaction unless `fence.holder` holds every lease with its token, unexpired by the database's
 * clock. FOR SHARE keeps the rows as checked until the append commits: a node taking one of these leases over
 * (its UPDATE in PgClusterRepository.acquire) waits for the commit, so its rebuild from the journal sees these
 * events; a takeover that committed first is seen here (the row is read again after the wait) and refuses them.
 */
async function checkFence(db: Sql, fence: JournalFence): Promise<void> {
  if (fence.leases.length === 0) return;
  const rows = (
    await db.query<{ connection: string; holder: string | null; token: number; live: boolean }>(
      `SELECT connection, holder, token, coalesce(expires_at > clock_timestamp(), false) AS live
       FROM cluster_leases WHERE connection = ANY($1::text[]) ORDER BY connection FOR SHARE`,
      [[...new Set(fence.leases.map((l) => l.connection))]],
    )
  ).rows;
  const byConnection = new Map(rows.map((r) => [r.connection, r]));
  const refused = fence.leases.filter((l) => {
    const r = byConnection.get(l.connection);
    return !r || !r.live || r.holder !== fence.holder || r.token !== l.token;
  });
  if (refused.length > 0) throw new JournalFencedError(refused);
}

export class PgAlarmSettingsRepository extends PgRepository implements AlarmSettingsRepository {
  save(alarm: string, setting: AlarmSetting): Promise<void> {
    return this.db.run(async (db) => {
      await db.query(
        `INSERT INTO alarm_settings (alarm, enabled, shelved_until) VALUES ($1, $2, $3)
         ON CONFLICT (alarm) DO UPDATE SET enabled = excluded.enabled, shelved_until = excluded.shelved_until`,
        [alarm, setting.enabled, setting.shelvedUntil],
      );
    });
  }

  load(): Promise<Map<string, AlarmSetting>> {
    return this.db.run(async (db) => {
      const rows = (await db.query<{ alarm: string; enabled: boolean; shelved_until: number | null }>('SELECT * FROM alarm_settings')).rows;
      return new Map(rows.map((r) => [r.alarm, { enabled: r.enabled, shelvedUntil: r.shelved_until }]));
    });
  }
}
