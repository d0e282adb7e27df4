import type { AlarmEventRecord } from '../../domain/alarms/records.js';
import type {
  AlarmJournalRepository,
  AlarmSetting,
  AlarmSettingsRepository,
  ArchivePage,
  ArchiveQuery,
  JournalFence,
  NewAlarmEvent,
  OpenOccurrenceHistory,
} from '../alarm-journal-repository.js';
import { AlarmJournal } from './alarm-journal.js';
import type { Database } from './database.js';
import { SqliteRepository } from './repository.js';

/** The alarm journal behind its async interface; the SQL lives in `AlarmJournal`. */
export class SqliteAlarmJournalRepository extends SqliteRepository implements AlarmJournalRepository {
  readonly journal: AlarmJournal;

  constructor(db: Database) {
    super();
    this.journal = new AlarmJournal(db);
  }

  nextOccurrenceId(): number {
    return this.journal.nextOccurrenceId();
  }
  /** No cluster runs on SQLite (the cluster needs PostgreSQL), so there is no lease to fence an append with. */
  readonly fencing = false;

  append(events: readonly NewAlarmEvent[], fence?: JournalFence): Promise<AlarmEventRecord[]> {
    if (fence) return Promise.reject(new Error('alarm journal: SQLite has no cluster leases to fence an append with'));
    return this.exec(() => this.journal.append(events));
  }
  loadOpen(): Promise<OpenOccurrenceHistory[]> {
    return this.exec(() => this.journal.loadOpen());
  }
  eventsOf(occurrence: number): Promise<AlarmEventRecord[]> {
    return this.exec(() => this.journal.eventsOf(occurrence));
  }
  lastEventId(): Promise<number> {
    return this.exec(() => this.journal.lastEventId());
  }
  count(): Promise<number> {
    return this.exec(() => this.journal.count());
  }
  since(eventId: number, limit?: number): Promise<AlarmEventRecord[]> {
    return this.exec(() => this.journal.since(eventId, limit));
  }
  query(q?: ArchiveQuery): Promise<ArchivePage> {
    return this.exec(() => this.journal.query(q));
  }
  pruneBatch(before: number, batch?: number): Promise<number> {
    return this.exec(() => this.journal.pruneBatch(before, batch));
  }
  /** A rolled-back unit of work may have advanced the journal's newest time and its name cache. */
  afterRollback(): void {
    this.journal.resync();
  }
}

export class SqliteAlarmSettingsRepository extends SqliteRepository implements AlarmSettingsRepository {
  constructor(private readonly journal: AlarmJournal) {
    super();
  }
  save(alarm: string, setting: AlarmSetting): Promise<void> {
    return this.exec(() => this.journal.saveSetting(alarm, setting));
  }
  load(): Promise<Map<string, AlarmSetting>> {
    return this.exec(() => this.journal.loadSettings());
  }
}
