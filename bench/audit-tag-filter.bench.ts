/**
 * The audit trail's tag filter (`GET /audit?tag=`), which has no index: one page of 100 over a trail of 100,000
 * rows, a fifth of them bulk writes of 100 items (about 1.4 KB of details per row on average), through
 * AuditRepository.query on SQLite and on PostgreSQL. A tag found in many rows fills its page early; an absent (or
 * rarely written) tag reads the whole range, which is the figure to watch; `from` over the newest 10% bounds it.
 * Baselines, same run: a page without filter, and the exact JSON test alone without the substring pre-test
 * (SQLite: json_each on every row without a target; PostgreSQL: `details::jsonb @>`, which also fails on rows
 * holding \u0000 or a lone surrogate, hence not what the repository does).
 * Run: npx tsx bench/audit-tag-filter.bench.ts   (BENCH_ROWS to change the 100,000; BENCH_PG=0 for SQLite only)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { canonicalJson } from '../src/domain/audit/chain.js';
import { tagItemNeedle, type AuditRepository, type NewAuditEntry } from '../src/storage/audit-repository.js';
import { openPostgresStorage } from '../src/storage/postgres/open-postgres.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteAuditRepository } from '../src/storage/sqlite/sqlite-audit-repository.js';
import { startTestCluster } from '../test/helpers/postgres.js';
import { percentile, report, type Figure } from './lib/report.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
const name = (k: number) => `Line${k % 10}.Unit${String(k % 1000).padStart(3, '0')}.Value`;

function row(i: number): NewAuditEntry {
  if (i % 5 === 0) {
    const items = Array.from({ length: 100 }, (_, j) => ({ name: name(i + j * 10), newValue: i + j + 0.5, oldValue: i + j }));
    return {
      at: at(i),
      action: 'tag.write',
      user: 'mes',
      clientAddress: '10.0.0.9',
      target: null,
      details: canonicalJson({ items }),
      result: 'OK',
    };
  }
  if (i % 7 === 0)
    return { at: at(i), action: 'auth.login', user: 'anna', clientAddress: '10.0.0.7', target: null, details: null, result: 'OK' };
  return {
    at: at(i),
    action: 'tag.write',
    user: 'anna',
    clientAddress: '10.0.0.7',
    target: name(i),
    details: canonicalJson({ newValue: i, oldValue: i - 1 }),
    result: 'OK',
  };
}

async function fill(repo: AuditRepository): Promise<void> {
  for (let i = 1; i <= ROWS; i += 5000) await repo.appendMany(Array.from({ length: Math.min(5000, ROWS - i + 1) }, (_, k) => row(i + k)));
}

/** p50 in ms over RUNS, after one warm-up; checks every run answers `rows` rows. */
async function p50(f: () => Promise<unknown[]> | unknown[], rows: number, what: string): Promise<number> {
  const t: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const s = performance.now();
    const got = await f();
    if (r > 0) t.push(performance.now() - s);
    if (got.length !== rows) throw new Error(`${what}: ${got.length} rows, expected ${rows}`);
  }
  return percentile(t, 50);
}

const COMMON = name(5); // on single rows and in a tenth of the bulk rows
const ABSENT = 'Line1.Nope';
const NEWEST_TENTH = at(Math.floor(ROWS * 0.9));
const figures: Figure[] = [];
const load = () => loadavg()[0]!.toFixed(2);

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-audit-tag-'));
try {
  const db = openDatabase(join(dir, 'audit.db'), { synchronous: 'NORMAL' });
  const repo = new SqliteAuditRepository(db);
  await fill(repo);
  const mb = (db.prepare('SELECT sum(length(details)) AS b FROM audit_log').get() as { b: number }).b / 1e6;
  console.log(
    `${ROWS} rows, ${mb.toFixed(0)} MB of details; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const jsonOnly = db.prepare(
    `SELECT * FROM audit_log WHERE at >= ? AND (target = ? OR (target IS NULL AND EXISTS (SELECT 1 FROM json_each(details, '$.items') AS i
       WHERE CASE WHEN i.type = 'object' THEN json_extract(i.value, '$.name') END = ?))) ORDER BY id DESC LIMIT 101`,
  );
  const page = async (q: Parameters<AuditRepository['query']>[0]) => (await repo.query(q)).items;
  const plain = await p50(() => page({ limit: 100 }), 100, 'sqlite plain');
  figures.push({ name: `SQLite: a page, no filter (load ${load()})`, value: plain, unit: 'ms' });
  for (const [label, tag, from, rows] of [
    ['common tag', COMMON, undefined, 100],
    ['absent tag, whole trail', ABSENT, undefined, 0],
    ['absent tag, newest 10%', ABSENT, NEWEST_TENTH, 0],
  ] as const) {
    const base = await p50(() => jsonOnly.all(from ?? '', tag, tag).slice(0, 100), rows, `sqlite json ${label}`);
    const v = await p50(() => page({ tag, from, limit: 100 }), rows, `sqlite ${label}`);
    figures.push({
      name: `SQLite: ${label} (load ${load()})`,
      value: v,
      unit: 'ms',
      ratio: v / base,
      baseline: `json_each alone ${base.toFixed(1)} ms`,
    });
  }
  db.close();

  if (process.env.BENCH_PG !== '0') {
    const cluster = await startTestCluster();
    try {
      const url = await cluster.createDatabase('bench');
      const storage = await openPostgresStorage({ databaseUrl: url, dataDir: dir, poolSize: 2 });
      const client = new pg.Client({ connectionString: url });
      try {
        await fill(storage.audit);
        await client.connect();
        await client.query('VACUUM ANALYZE audit_log');
        const jsonb = async (tag: string, from: string | undefined) =>
          (
            await client.query(
              `SELECT * FROM audit_log WHERE at >= $3 AND (target = $1 OR (target IS NULL AND details::jsonb @> $2::jsonb)) ORDER BY id DESC LIMIT 101`,
              [tag, JSON.stringify({ items: [{ name: tag }] }), from ?? ''],
            )
          ).rows.slice(0, 100);
        const pgPage = async (q: Parameters<AuditRepository['query']>[0]) => (await storage.audit.query(q)).items;
        const pgPlain = await p50(() => pgPage({ limit: 100 }), 100, 'pg plain');
        figures.push({ name: `PostgreSQL: a page, no filter (load ${load()})`, value: pgPlain, unit: 'ms' });
        for (const [label, tag, from, rows] of [
          ['common tag', COMMON, undefined, 100],
          ['absent tag, whole trail', ABSENT, undefined, 0],
          ['absent tag, newest 10%', ABSENT, NEWEST_TENTH, 0],
        ] as const) {
          const base = await p50(() => jsonb(tag, from), rows, `pg jsonb ${label}`);
          const v = await p50(() => pgPage({ tag, from, limit: 100 }), rows, `pg ${label}`);
          figures.push({
            name: `PostgreSQL: ${label} (load ${load()})`,
            value: v,
            unit: 'ms',
            ratio: v / base,
            baseline: `details::jsonb @> alone ${base.toFixed(1)} ms`,
          });
        }
        // The needle alone, to show what the pre-test saves: rows whose text holds the name at all.
        const needle = tagItemNeedle(COMMON);
        const holding = (await client.query('SELECT count(*)::int AS n FROM audit_log WHERE strpos(details, $1) > 0', [needle])).rows[0].n;
        console.log(`rows whose details hold ${needle}: ${holding} of ${ROWS}`);
      } finally {
        await client.end().catch(() => undefined);
        await storage.close();
      }
    } finally {
      await cluster.stop();
    }
  }
  report('audit-tag-filter', figures);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
