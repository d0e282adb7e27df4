/**
 * Historian sustained ingest: values/s from TagEngine.update through the Historian's deadband check and
 * buffer into SQLite (file on disk, WAL, synchronous=FULL as shipped), flushes included.
 * Baseline, same run, same rows: a bare prepared single-row INSERT loop, one transaction per batch, into an
 * identical table — what a straightforward implementation would do.
 * Target: >= 200,000 values/s.
 * Also reported: process CPU time per 1 M values through the historian (user + system, the flushes' SQLite work
 * included): the figure the roll-up ingest budget (docs/history.md) is stated in, less noisy than wall time on a
 * shared machine. `BENCH_BASELINE=0` skips the baseline (an A/B of two trees wants only the historian figure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { Quality } from '../src/domain/quality.js';
import { systemClock } from '../src/domain/clock.js';
import { Historian } from '../src/runtime/historian.js';
import type { TagDefinition } from '../src/domain/tag-definition.js';
import { TagEngine } from '../src/runtime/tag-engine.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteHistoryRepository } from '../src/storage/sqlite/sqlite-history-repository.js';
import { report } from './lib/report.js';

const TAGS = 1000;
const TOTAL = Number(process.env.BENCH_VALUES ?? 2_000_000);
const CHUNK = 50_000; // values between turns of the event loop (one flush each, the historian's default batch)
const BASE = Date.UTC(2026, 0, 1);

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-ingest-'));
try {
  // --- the historian ---
  const db = openDatabase(join(dir, 'historian.db'));
  const store = new SqliteHistoryRepository(db);
  const defs: TagDefinition[] = Array.from({ length: TAGS }, (_, i) => ({
    name: `Plant.Area${i % 10}.Tag${i}`,
    type: 'Float64',
    access: 'read',
    connection: 'bench',
    history: { mode: 'onChange', deadband: 0 },
  }));
  // The initial states are stamped just before the first sample, as a running historian's samples move forward in
  // time: stamped with the wall clock (later than BASE) they made every sample of the run older than its tag's
  // latest minute, a replay of old data, which the roll-ups handle by writing each minute through (docs/history.md).
  const engine = new TagEngine(defs, { ...systemClock, now: () => BASE - 1000 });
  const historian = new Historian(engine, store, systemClock, { flushIntervalMs: 1000, flushMaxValues: CHUNK });
  historian.start();
  await historian.flush(); // the initial states, not part of the figure
  const startWritten = historian.stats().written;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let done = 0; done < TOTAL; done += CHUNK) {
    for (let k = done; k < done + CHUNK && k < TOTAL; k++) {
      engine.update(k % TAGS, Math.sin(k) * 100 + k, Quality.GOOD, BASE + Math.floor(k / TAGS) * 100);
    }
    await turn(); // lets the historian's scheduled flush run, as it would between driver polls
  }
  await historian.stop();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuPerMillion = (cpu.user + cpu.system) / 1000 / (TOTAL / 1_000_000);
  const stats = historian.stats();
  const written = stats.written - startWritten;
  if (written !== TOTAL || stats.dropped !== 0) throw new Error(`wrote ${written} of ${TOTAL}, dropped ${stats.dropped}`);
  const rows = db.prepare('SELECT count(*) FROM history').pluck().get() as number;
  if (rows !== TOTAL + TAGS) throw new Error(`table holds ${rows} rows`);
  db.close();
  const historianRate = TOTAL / (ms / 1000);

  if (process.env.BENCH_BASELINE === '0') {
    report('history-ingest', [
      { name: 'historian sustained ingest', value: Math.round(historianRate), unit: 'values/s' },
      { name: 'historian CPU per 1M values', value: Math.round(cpuPerMillion), unit: 'ms' },
    ]);
  } else {
    // --- baseline: bare single-row INSERTs, one transaction per chunk ---
    const bdb = openDatabase(join(dir, 'baseline.db'));
    bdb.exec(`CREATE TABLE history (tag_id INTEGER NOT NULL, ts INTEGER NOT NULL, value, quality INTEGER NOT NULL,
    PRIMARY KEY (tag_id, ts)) WITHOUT ROWID`);
    const insert = bdb.prepare('INSERT INTO history (tag_id, ts, value, quality) VALUES (?, ?, ?, ?)');
    const chunk = bdb.transaction((from: number) => {
      for (let k = from; k < from + CHUNK && k < TOTAL; k++)
        insert.run(1 + (k % TAGS), BASE + Math.floor(k / TAGS) * 100, Math.sin(k) * 100 + k, Quality.GOOD);
    });
    const b0 = performance.now();
    for (let done = 0; done < TOTAL; done += CHUNK) {
      chunk(done);
      await turn();
    }
    const bms = performance.now() - b0;
    bdb.close();
    const baselineRate = TOTAL / (bms / 1000);

    report('history-ingest', [
      {
        name: 'historian sustained ingest',
        value: Math.round(historianRate),
        unit: 'values/s',
        ratio: historianRate / baselineRate,
        baseline: 'bare prepared single-row INSERT loop, one transaction per 50k',
        target: '>= 200000 values/s',
      },
      { name: 'historian CPU per 1M values', value: Math.round(cpuPerMillion), unit: 'ms' },
      { name: 'baseline bare INSERT loop', value: Math.round(baselineRate), unit: 'values/s' },
      { name: 'values ingested', value: TOTAL, unit: 'values' },
      { name: 'tags', value: TAGS, unit: 'tags' },
    ]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
