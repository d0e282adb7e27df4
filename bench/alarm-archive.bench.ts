/**
 * Alarm archive: one page of 100 with filters over 1,000,000 stored events, at random depths (keyset cursor),
 * through AlarmJournal.query (cursor decoding, SQL building, row → record mapping, next cursor). Baseline, same
 * run: a bare better-sqlite3 statement with the same WHERE clause and LIMIT returning the same rows unmapped, so
 * the ratio is the repository's own overhead. Target: p50 ≤ 10 ms per page.
 * Run: npx tsx bench/alarm-archive.bench.ts   (BENCH_EVENTS to change the 1,000,000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmJournal, encodeCursor, type ArchiveQuery } from '../src/storage/sqlite/alarm-journal.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { percentile, report, type Figure } from './lib/report.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const T0 = Date.UTC(2026, 0, 1);

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-archive-'));
try {
  const file = join(dir, 'archive.db');
  const db = openDatabase(file, { synchronous: 'NORMAL' });
  new AlarmJournal(db); // creates the schema
  // Fill with SQL: 10,000 alarms in 10 areas, 4 classes, priorities 0–16, RAISED/ACKNOWLEDGED/CLEARED per
  // occurrence, one event per second.
  const tf = performance.now();
  db.pragma('synchronous = OFF');
  // Bulk-building the indexes after the fill is far faster than maintaining them row by row.
  const indexes = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alarm_events' AND sql IS NOT NULL")
    .all() as { name: string; sql: string }[];
  for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
  db.exec(`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ${EVENTS - 1})
    INSERT INTO alarm_events (occurrence, alarm, number, class, priority, event, at, state, text, tag, value, user)
    SELECT x / 3 + 1,
      'Area' || ((x / 3) % 10) || '.Alarm' || ((x / 3) % 10000),
      (x / 3) % 10000 + 1,
      CASE (x / 3) % 4 WHEN 0 THEN 'Alarm' WHEN 1 THEN 'Warning' WHEN 2 THEN 'Fault' ELSE 'System' END,
      (x / 3) % 17,
      CASE x % 3 WHEN 0 THEN 'RAISED' WHEN 1 THEN 'ACKNOWLEDGED' ELSE 'CLEARED' END,
      ${T0} + x * 1000,
      CASE x % 3 WHEN 0 THEN 'RAISED' WHEN 1 THEN 'RAISED_ACKNOWLEDGED' ELSE 'RAISED_ACKNOWLEDGED_CLEARED' END,
      CASE (x / 3) % 5 WHEN 0 THEN 'Motor ' || ((x / 3) % 10000) || ' overload: ' || (x % 90) || ' A'
        WHEN 1 THEN 'Tank level high: ' || (x % 100) || ' %' WHEN 2 THEN 'Pressure low'
        WHEN 3 THEN 'Door open' ELSE 'Temperature high: ' || (x % 80) || ' °C' END,
      'Area' || ((x / 3) % 10) || '.Tag' || ((x / 3) % 10000),
      CAST(x % 1000 AS TEXT),
      CASE x % 3 WHEN 1 THEN 'operator' ELSE NULL END
    FROM c;
    INSERT OR IGNORE INTO alarm_names (name) SELECT DISTINCT alarm FROM alarm_events;`);
  for (const ix of indexes) db.exec(ix.sql);
  db.exec('ANALYZE');
  db.pragma('synchronous = NORMAL');
  const fillSeconds = (performance.now() - tf) / 1000;
  const j = new AlarmJournal(db);
  const maxId = j.lastEventId();

  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const randomId = (): number => 1 + Math.floor(rnd() * maxId);

  interface Case {
    name: string;
    q: () => ArchiveQuery;
    bare: () => { sql: string; params: unknown[] };
  }
  const cursorOf = (k: number, order: 'asc' | 'desc' = 'desc'): string => encodeCursor(k, order);
  const deep = (): number => randomId();
  let k = 0;
  const cases: Case[] = [
    {
      name: 'no filter, random depth',
      q: () => ({ cursor: cursorOf((k = deep())) }),
      bare: () => ({ sql: 'WHERE event_id < ? ORDER BY event_id DESC LIMIT 101', params: [k] }),
    },
    {
      name: 'class=Fault',
      q: () => ({ class: 'Fault', cursor: cursorOf((k = deep())) }),
      bare: () => ({ sql: 'WHERE event_id < ? AND class = ? ORDER BY event_id DESC LIMIT 101', params: [k, 'Fault'] }),
    },
    {
      name: 'alarm=<one name> (≈100 events)',
      q: () => ({ alarm: 'Area3.Alarm1233' }),
      bare: () => ({ sql: 'WHERE alarm = ? ORDER BY event_id DESC LIMIT 101', params: ['Area3.Alarm1233'] }),
    },
    {
      name: 'alarm glob Area3.* (1,000 names)',
      q: () => ({ alarm: 'Area3.*', cursor: cursorOf((k = deep())) }),
      bare: () => ({ sql: "WHERE event_id < ? AND alarm LIKE 'Area3.%' ORDER BY event_id DESC LIMIT 101", params: [k] }),
    },
    {
      name: 'alarm glob Area3.Alarm12* (11 names)',
      q: () => ({ alarm: 'Area3.Alarm12*' }),
      bare: () => ({ sql: "WHERE alarm LIKE 'Area3.Alarm12%' ORDER BY event_id DESC LIMIT 101", params: [] }),
    },
    {
      name: 'event=ACKNOWLEDGED, minPriority=10',
      q: () => ({ event: 'ACKNOWLEDGED', minPriority: 10, cursor: cursorOf((k = deep())) }),
      bare: () => ({
        sql: 'WHERE event_id < ? AND event = ? AND priority >= 10 ORDER BY event_id DESC LIMIT 101',
        params: [k, 'ACKNOWLEDGED'],
      }),
    },
    {
      name: 'from/to window of 1 h',
      q: () => {
        k = T0 + Math.floor(rnd() * (EVENTS - 3600)) * 1000;
        return { from: k, to: k + 3_600_000 };
      },
      bare: () => ({ sql: 'WHERE at >= ? AND at < ? ORDER BY event_id DESC LIMIT 101', params: [k, k + 3_600_000] }),
    },
    {
      name: 'class=Alarm, text~"overload"',
      q: () => ({ class: 'Alarm', text: 'overload', cursor: cursorOf((k = deep())) }),
      bare: () => ({
        sql: "WHERE event_id < ? AND class = 'Alarm' AND text LIKE '%overload%' ORDER BY event_id DESC LIMIT 101",
        params: [k],
      }),
    },
    {
      name: 'tag=<one tag>, event=RAISED',
      q: () => ({ tag: 'Area7.Tag4567', event: 'RAISED' }),
      bare: () => ({ sql: "WHERE tag = ? AND event = 'RAISED' ORDER BY event_id DESC LIMIT 101", params: ['Area7.Tag4567'] }),
    },
    {
      name: 'order=asc, class=Warning, from',
      q: () => {
        k = T0 + Math.floor(rnd() * EVENTS) * 1000;
        return { order: 'asc', class: 'Warning', from: k };
      },
      bare: () => ({ sql: "WHERE at >= ? AND class = 'Warning' ORDER BY event_id ASC LIMIT 101", params: [k] }),
    },
  ];

  const figures: Figure[] = [];
  const allJ: number[] = [];
  const allB: number[] = [];
  let worst = 0;
  for (const c of cases) {
    const tj: number[] = [];
    const tb: number[] = [];
    let rows = 0;
    for (let r = 0; r < RUNS + 5; r++) {
      const q = c.q();
      const t1 = performance.now();
      const page = j.query({ limit: 100, ...q });
      const t2 = performance.now();
      const b = c.bare();
      const stmt = db.prepare(`SELECT * FROM alarm_events ${b.sql}`);
      const t3 = performance.now();
      stmt.all(...b.params);
      const t4 = performance.now();
      if (r < 5) continue; // warm-up
      tj.push(t2 - t1);
      tb.push(t4 - t3);
      rows += page.items.length;
    }
    const pj = percentile(tj, 50),
      pb = percentile(tb, 50);
    allJ.push(...tj);
    allB.push(...tb);
    worst = Math.max(worst, pj);
    figures.push({
      name: `p50 page: ${c.name} (avg ${Math.round(rows / RUNS)} rows)`,
      value: pj,
      unit: 'ms',
      ratio: pj / pb,
      baseline: 'bare SQLite query, same rows',
      target: '<= 10',
    });
  }
  const p50 = percentile(allJ, 50),
    p50b = percentile(allB, 50);
  figures.unshift(
    {
      name: `p50 archive page of 100, all filter mixes, ${EVENTS.toLocaleString('en')} events`,
      value: p50,
      unit: 'ms',
      ratio: p50 / p50b,
      baseline: 'bare SQLite query, same rows',
      target: '<= 10',
    },
    { name: 'p99 archive page, all filter mixes', value: percentile(allJ, 99), unit: 'ms' },
    { name: 'worst per-filter p50', value: worst, unit: 'ms', target: '<= 10' },
    { name: 'baseline p50: bare SQLite query', value: p50b, unit: 'ms' },
    { name: 'fill time (SQL, not the journal path)', value: fillSeconds, unit: 's' },
  );
  report('alarm-archive', figures);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
