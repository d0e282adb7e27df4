/**
 * PostgreSQL against SQLite, same run, same data, through the same repository interfaces (what the runtime uses):
 * - history ingest: values/s of `insertBatch` with 50,000-value batches over 1,000 tags (the historian's flushes);
 * - 1 day of 1 s data → 1-minute time-weighted averages through HistoryQueries (as the API), and the same buckets
 *   computed entirely in SQL by `history_buckets` (PostgreSQL only; plain sample averages);
 * - durable bulk writes: `keyValues.setMany` of 1,000 entries per commit (a bulk tag write of internal tags), and
 *   single durable commits (`keyValues.set`) one after the other;
 * - alarm archive: a page of 100 at random depths (keyset cursor) over 1,000,000 events, unfiltered and filtered.
 * Both durable: SQLite synchronous=FULL, PostgreSQL fsync on and synchronous_commit on (a throw-away local cluster
 * from Debian's package, as the tests start it). Ratios are PostgreSQL / SQLite (< 1 = PostgreSQL faster for rates
 * it is the other way round: see the unit). Run: npm run bench -- postgres   (BENCH_EVENTS, BENCH_VALUES to change)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/domain/clock.js';
import { insertSyntheticHistory } from './lib/synthetic-history.js';
import { Historian } from '../src/runtime/historian.js';
import { HistoryQueries } from '../src/runtime/history-query.js';
import { encodeCursor, type ArchiveQuery } from '../src/storage/alarm-journal-repository.js';
import type { Storage } from '../src/storage/open.js';
import { openPostgresStorage, postgresSqlForTests } from '../src/storage/postgres/open-postgres.js';
import { openSqliteStorage, sqliteDatabaseForTests } from '../src/storage/sqlite/open-sqlite.js';
import { startTestCluster } from '../test/helpers/postgres.js';
import { dayAverageQuery, insertDay } from './lib/day-average.js';
import { percentile, report, type Figure } from './lib/report.js';

const TAGS = 1000;
const VALUES = Number(process.env.BENCH_VALUES ?? 300_000);
const BATCH = 50_000;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PAGES = Number(process.env.BENCH_PAGES ?? 40);
const DAY_FROM = Date.UTC(2026, 0, 5);
const T0 = Date.UTC(2026, 0, 1);

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-pg-'));
const cluster = await startTestCluster({ durable: true });
const started = performance.now();
try {
  const pg = await openPostgresStorage({ databaseUrl: await cluster.createDatabase('bench'), dataDir: dir });
  const lite = openSqliteStorage({ dataDir: dir, sqliteSynchronous: 'FULL' });
  const backends: Array<[string, Storage]> = [
    ['SQLite', lite],
    ['PostgreSQL', pg],
  ];
  const out: Record<string, Record<string, number>> = { SQLite: {}, PostgreSQL: {} };
  const time = async (runs: number, fn: () => Promise<unknown>): Promise<number> => {
    await fn(); // warm-up
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn();
      t.push(performance.now() - t0);
    }
    return percentile(t, 50);
  };

  // --- history ingest ---
  for (const [name, s] of backends) {
    const ids: number[] = [];
    for (let i = 0; i < TAGS; i++) ids.push(await s.history.tagId(`Plant.Area${i % 10}.Tag${i}`));
    const t0 = performance.now();
    await insertSyntheticHistory(s, ids, VALUES, BATCH, T0);
    out[name]!.ingest = VALUES / ((performance.now() - t0) / 1000);
  }

  // --- one day of 1 s data → 1-minute averages ---
  const { def, engine, tag, q } = dayAverageQuery(DAY_FROM);
  for (const [name, s] of backends) {
    await insertDay(s, def, DAY_FROM);
    const queries = new HistoryQueries(engine, s.history, new Historian(engine, s.history, systemClock), systemClock);
    let buckets = 0;
    out[name]!.dayAvg = await time(RUNS, async () => {
      buckets = (await queries.query(tag, q)).items.length;
    });
    if (buckets !== 1440) throw new Error(`${name}: ${buckets} buckets`);
  }
  const sql = postgresSqlForTests(pg);
  out.PostgreSQL!.dayAvgSql = await time(RUNS, async () => {
    const r = await sql.query('SELECT * FROM history_buckets($1, $2, $3, 60000)', [def.name, q.from, q.to]);
    if (r.rows.length !== 1440) throw new Error(`history_buckets: ${r.rows.length}`);
  });

  // --- durable bulk writes ---
  const entries = Array.from({ length: 1000 }, (_, i) => ({ key: `Line1.Tag${i}`, value: i * 1.5, at: 0 }));
  for (const [name, s] of backends) {
    out[name]!.bulk = await time(20, () => s.keyValues.setMany('bench', entries));
    out[name]!.single = await time(100, () => s.keyValues.set('bench', 'one', Math.random(), Date.now()));
  }

  // --- alarm archive over EVENTS events, seeded with one SQL statement each ---
  const tf = performance.now();
  const liteDb = sqliteDatabaseForTests(lite);
  liteDb.pragma('synchronous = OFF');
  // Indexes are built after the fill on both sides (far faster than maintaining them row by row).
  const liteIndexes = liteDb
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alarm_events' AND sql IS NOT NULL")
    .all() as { name: string; sql: string }[];
  for (const ix of liteIndexes) liteDb.exec(`DROP INDEX ${ix.name}`);
  liteDb.exec(`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ${EVENTS - 1})
    INSERT INTO alarm_events (occurrence, alarm, number, class, priority, event, at, state, text, tag, value, user)
    SELECT x / 3 + 1, 'Area' || ((x / 3) % 10) || '.Alarm' || ((x / 3) % 10000), (x / 3) % 10000 + 1,
      CASE (x / 3) % 4 WHEN 0 THEN 'Alarm' WHEN 1 THEN 'Warning' WHEN 2 THEN 'Fault' ELSE 'System' END, (x / 3) % 17,
      CASE x % 3 WHEN 0 THEN 'RAISED' WHEN 1 THEN 'ACKNOWLEDGED' ELSE 'CLEARED' END, ${T0} + x * 1000,
      CASE x % 3 WHEN 0 THEN 'RAISED' WHEN 1 THEN 'RAISED_ACKNOWLEDGED' ELSE 'RAISED_ACKNOWLEDGED_CLEARED' END,
      'Tank level high: ' || (x % 100) || ' %', 'Area' || ((x / 3) % 10) || '.Tag' || ((x / 3) % 10000), CAST(x % 1000 AS TEXT),
      CASE x % 3 WHEN 1 THEN 'operator' ELSE NULL END
    FROM c;
    INSERT OR IGNORE INTO alarm_names (name) SELECT DISTINCT alarm FROM alarm_events;`);
  for (const ix of liteIndexes) liteDb.exec(ix.sql);
  liteDb.exec('ANALYZE');
  liteDb.pragma('synchronous = FULL');
  const liteFill = (performance.now() - tf) / 1000;
  const pf = performance.now();
  const pgIndexes = (
    await sql.query<{ name: string; def: string }>(
      "SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'alarm_events' AND indexname <> 'alarm_events_pkey'",
    )
  ).rows;
  for (const ix of pgIndexes) await sql.query(`DROP INDEX ${ix.name}`);
  await sql.query(`INSERT INTO alarm_events (event_id, occurrence, alarm, number, class, priority, event, at, state, text, tag, value, username)
    SELECT x + 1, x / 3 + 1, 'Area' || ((x / 3) % 10) || '.Alarm' || ((x / 3) % 10000), (x / 3) % 10000 + 1,
      CASE (x / 3) % 4 WHEN 0 THEN 'Alarm' WHEN 1 THEN 'Warning' WHEN 2 THEN 'Fault' ELSE 'System' END, (x / 3) % 17,
      CASE x % 3 WHEN 0 THEN 'RAISED' WHEN 1 THEN 'ACKNOWLEDGED' ELSE 'CLEARED' END, ${T0}::bigint + x * 1000::bigint,
      CASE x % 3 WHEN 0 THEN 'RAISED' WHEN 1 THEN 'RAISED_ACKNOWLEDGED' ELSE 'RAISED_ACKNOWLEDGED_CLEARED' END,
      'Tank level high: ' || (x % 100) || ' %', 'Area' || ((x / 3) % 10) || '.Tag' || ((x / 3) % 10000), (x % 1000)::text,
      CASE x % 3 WHEN 1 THEN 'operator' END
    FROM generate_series(0, ${EVENTS - 1}) AS x`);
  for (const ix of pgIndexes) await sql.query(ix.def);
  await sql.query('INSERT INTO alarm_names (name) SELECT DISTINCT alarm FROM alarm_events ON CONFLICT DO NOTHING');
  await sql.query('UPDATE alarm_journal_head SET last_event_id = $1, last_at = $2', [EVENTS, T0 + (EVENTS - 1) * 1000]);
  await sql.query('ANALYZE alarm_events');
  const pgFill = (performance.now() - pf) / 1000;
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const cases: Array<[string, () => ArchiveQuery]> = [
    ['no filter', () => ({ cursor: encodeCursor(1 + Math.floor(rnd() * EVENTS), 'desc') })],
    ['class=Fault', () => ({ class: 'Fault', cursor: encodeCursor(1 + Math.floor(rnd() * EVENTS), 'desc') })],
    ['alarm glob Area3.*, last day', () => ({ alarm: 'Area3.*', from: T0 + (EVENTS - 86_400) * 1000 })],
  ];
  for (const [label, mk] of cases)
    for (const [name, s] of backends) {
      seed = 42;
      out[name]![`archive ${label}`] = await time(PAGES, async () => {
        const p = await s.alarmJournal.query({ ...mk(), limit: 100 });
        if (p.items.length === 0) throw new Error(`${name} ${label}: empty page`);
      });
    }

  const L = out.SQLite!;
  const P = out.PostgreSQL!;
  const figures: Figure[] = [
    {
      name: 'history ingest PostgreSQL',
      value: Math.round(P.ingest!),
      unit: 'values/s',
      ratio: P.ingest! / L.ingest!,
      baseline: 'SQLite insertBatch, same run',
    },
    { name: 'history ingest SQLite', value: Math.round(L.ingest!), unit: 'values/s' },
    {
      name: '1 day 1 s → 1 min avg PostgreSQL (p50)',
      value: P.dayAvg!,
      unit: 'ms',
      ratio: P.dayAvg! / L.dayAvg!,
      baseline: 'SQLite, HistoryQueries, same run',
    },
    { name: '1 day 1 s → 1 min avg SQLite (p50)', value: L.dayAvg!, unit: 'ms' },
    {
      name: '1 day → 1 min sample avg in SQL (history_buckets, p50)',
      value: P.dayAvgSql!,
      unit: 'ms',
      ratio: P.dayAvgSql! / L.dayAvg!,
      baseline: 'SQLite HistoryQueries avg',
    },
    {
      name: 'durable setMany of 1,000 PostgreSQL (p50)',
      value: P.bulk!,
      unit: 'ms',
      ratio: P.bulk! / L.bulk!,
      baseline: 'SQLite FULL, same run',
    },
    { name: 'durable setMany of 1,000 SQLite (p50)', value: L.bulk!, unit: 'ms' },
    {
      name: 'durable single commit PostgreSQL (p50)',
      value: P.single!,
      unit: 'ms',
      ratio: P.single! / L.single!,
      baseline: 'SQLite FULL, same run',
    },
    { name: 'durable single commit SQLite (p50)', value: L.single!, unit: 'ms' },
    ...cases.flatMap(([label]): Figure[] => [
      {
        name: `archive page of 100, ${label}, PostgreSQL (p50)`,
        value: P[`archive ${label}`]!,
        unit: 'ms',
        ratio: P[`archive ${label}`]! / L[`archive ${label}`]!,
        baseline: `SQLite, ${EVENTS} events`,
      },
      { name: `archive page of 100, ${label}, SQLite (p50)`, value: L[`archive ${label}`]!, unit: 'ms' },
    ]),
    { name: `seeding ${EVENTS} alarm events (one SQL statement, indexes after), PostgreSQL`, value: pgFill, unit: 's' },
    { name: `seeding ${EVENTS} alarm events (one SQL statement, indexes after), SQLite`, value: liteFill, unit: 's' },
    { name: 'whole run', value: (performance.now() - started) / 1000, unit: 's' },
  ];
  report('postgres', figures);
  await pg.close();
  await lite.close();
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
