/**
 * Alarm journal: events per second committed durably (SQLite WAL, synchronous=FULL: on disk before the call
 * returns), one event per transaction (alarms one at a time) and group-committed (a burst of 100, as the engine
 * commits what one driver poll changed). Baseline, same run and same settings: a bare INSERT of the same columns
 * into a table without the journal's indexes and bookkeeping, so the ratio is the journal's own cost.
 * Run: npx tsx bench/alarm-journal.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmJournal, type NewAlarmEvent } from '../src/storage/sqlite/alarm-journal.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { report } from './lib/report.js';

const SINGLE = Number(process.env.BENCH_SINGLE ?? 400);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 200);
const GROUP = 100;

function event(j: AlarmJournal, i: number): NewAlarmEvent {
  const raise = i % 2 === 0;
  return {
    id: raise ? j.nextOccurrenceId() : i,
    alarm: `Area${i % 10}.Alarm${i % 1000}`,
    number: i % 1000,
    class: i % 3 ? 'Alarm' : 'Warning',
    priority: i % 17,
    event: raise ? 'RAISED' : 'CLEARED',
    at: Date.now(),
    state: raise ? 'RAISED' : 'RAISED_CLEARED',
    text: `Motor ${i % 1000} overload: ${i % 97} A`,
    tag: `Area${i % 10}.Motor${i % 1000}.Current`,
    value: i % 97,
    user: null,
    stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT',
    closes: false,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-journal-'));
try {
  const db = openDatabase(join(dir, 'journal.db'), { synchronous: 'FULL' });
  const j = new AlarmJournal(db);
  const bare = openDatabase(join(dir, 'bare.db'), { synchronous: 'FULL' });
  bare.exec(
    'CREATE TABLE ev (id INTEGER PRIMARY KEY, occurrence INTEGER, alarm TEXT, number INTEGER, class TEXT, priority INTEGER, event TEXT, at INTEGER, state TEXT, text TEXT, tag TEXT, value TEXT, user TEXT)',
  );
  const ins = bare.prepare(
    'INSERT INTO ev (occurrence, alarm, number, class, priority, event, at, state, text, tag, value, user) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const bareInsert = (e: NewAlarmEvent): void => {
    ins.run(e.id, e.alarm, e.number, e.class, e.priority, e.event, e.at, e.state, e.text, e.tag, JSON.stringify(e.value), e.user);
  };
  const bareTx = bare.transaction((es: NewAlarmEvent[]) => {
    for (const e of es) bareInsert(e);
  });

  const time = (fn: () => void): number => {
    const t0 = performance.now();
    fn();
    return (performance.now() - t0) / 1000;
  };
  let n = 0;
  // Warm-up both files.
  for (let i = 0; i < 20; i++) {
    j.append([event(j, n++)]);
    bareInsert(event(j, n++));
  }

  const jSingle = time(() => {
    for (let i = 0; i < SINGLE; i++) j.append([event(j, n++)]);
  });
  const bSingle = time(() => {
    for (let i = 0; i < SINGLE; i++) bareInsert(event(j, n++));
  });
  const jGroup = time(() => {
    for (let g = 0; g < GROUPS; g++) {
      const es: NewAlarmEvent[] = [];
      for (let i = 0; i < GROUP; i++) es.push(event(j, n++));
      j.append(es);
    }
  });
  const bGroup = time(() => {
    for (let g = 0; g < GROUPS; g++) {
      const es: NewAlarmEvent[] = [];
      for (let i = 0; i < GROUP; i++) es.push(event(j, n++));
      bareTx(es);
    }
  });

  const r = (count: number, s: number): number => count / s;
  report('alarm-journal', [
    {
      name: 'journal events/s, one per durable commit (WAL, synchronous=FULL)',
      value: Math.round(r(SINGLE, jSingle)),
      unit: 'events/s',
      ratio: jSingle === 0 ? undefined : bSingle / jSingle,
      baseline: 'bare INSERT, one per commit, same settings',
    },
    { name: 'baseline: bare INSERT/s, one per commit', value: Math.round(r(SINGLE, bSingle)), unit: 'rows/s' },
    {
      name: `journal events/s, group commit of ${GROUP} (one fsync per burst)`,
      value: Math.round(r(GROUPS * GROUP, jGroup)),
      unit: 'events/s',
      ratio: bGroup / jGroup,
      baseline: `bare INSERT, ${GROUP} per commit`,
    },
    { name: `baseline: bare INSERT/s, ${GROUP} per commit`, value: Math.round(r(GROUPS * GROUP, bGroup)), unit: 'rows/s' },
  ]);
  db.close();
  bare.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
