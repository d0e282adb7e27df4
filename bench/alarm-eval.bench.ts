/**
 * Alarm evaluation throughput with 10,000 alarm definitions, in process: tag updates go through
 * TagEngine.update → AlarmEngine (tag-indexed lookup, compiled condition), as drivers deliver them.
 * Baseline, same run: the same updates through the TagEngine with no alarm engine listening, so the ratio is
 * the share of throughput that alarm evaluation keeps. A second figure trips 1 % of the updates, so those
 * evaluations also journal (group-committed per burst).
 * Run: npx tsx bench/alarm-eval.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmDefinition } from '../src/domain/alarms/definition.js';
import { Quality } from '../src/domain/quality.js';
import { AlarmEngine } from '../src/runtime/alarms/engine.js';
import { systemClock } from '../src/domain/clock.js';
import type { TagDefinition } from '../src/domain/tag-definition.js';
import { TagEngine } from '../src/runtime/tag-engine.js';
import { SqliteAlarmJournalRepository, SqliteAlarmSettingsRepository } from '../src/storage/sqlite/sqlite-alarm-journal-repository.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { report } from './lib/report.js';

const N = 10_000;
const BURST = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

const tagDefs: TagDefinition[] = [];
const defs: AlarmDefinition[] = [];
for (let i = 0; i < N; i++) {
  const discrete = i % 5 === 0;
  tagDefs.push({ name: `Area${i % 10}.T${i}`, type: discrete ? 'UInt16' : 'Float64', access: 'readwrite', connection: `plc${i % 4}` });
  defs.push(
    discrete
      ? {
          name: `Area${i % 10}.A${i}`,
          number: i + 1,
          class: 'Alarm',
          priority: i % 17,
          tag: `Area${i % 10}.T${i}`,
          kind: 'discrete',
          bit: 3,
          text: 'Bit 3 of {tag}',
        }
      : {
          name: `Area${i % 10}.A${i}`,
          number: i + 1,
          class: i % 2 ? 'Alarm' : 'Warning',
          priority: i % 17,
          tag: `Area${i % 10}.T${i}`,
          kind: 'analog',
          limit: { type: i % 3 ? 'H' : 'L', value: i % 3 ? 1000 : -1000 },
          hysteresis: 1,
          text: '{tag} = {value}',
        },
  );
}

/** Values that stay inside the limits (no state change): a sweep of plain numbers; bit 3 stays 0. */
function quietValue(i: number, k: number): number {
  return i % 5 === 0 ? k & 7 : (k % 997) - 498.5;
}

async function run(
  tags: TagEngine,
  value: (i: number, k: number) => number,
  flush?: () => Promise<void>,
): Promise<{ updates: number; seconds: number }> {
  let k = 0;
  let updates = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  while (performance.now() < end) {
    // One burst = what a driver poll delivers synchronously.
    for (let b = 0; b < BURST; b++) {
      const i = (k * 7919 + b) % N;
      tags.update(i, value(i, k), Quality.GOOD);
    }
    updates += BURST;
    k++;
    // The journal commit of each burst is awaited, as the engine's end-of-burst flush would be.
    if (flush) await flush();
  }
  return { updates, seconds: (performance.now() - t0) / 1000 };
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-eval-'));
try {
  // Baseline: the tag engine alone.
  const bare = new TagEngine(tagDefs, systemClock);
  await run(bare, quietValue); // warm-up
  const base = await run(bare, quietValue);
  const baseRate = base.updates / base.seconds;

  const db = openDatabase(join(dir, 'alarms.db'), { synchronous: 'FULL' });
  const tags = new TagEngine(tagDefs, systemClock);
  const journal = new SqliteAlarmJournalRepository(db);
  const engine = new AlarmEngine({
    tags,
    journal,
    settings: new SqliteAlarmSettingsRepository(journal.journal),
    clock: systemClock,
    definitions: defs,
  });
  await engine.start();
  await run(tags, quietValue); // warm-up
  const e0 = engine.evaluations;
  const quiet = await run(tags, quietValue);
  const quietEvals = (engine.evaluations - e0) / quiet.seconds;

  // 1 % of updates cross a limit or set bit 3 (and the next round takes them back): evaluations that journal.
  let events = 0;
  engine.onEvent(() => {
    events++;
  });
  const tripping = (i: number, k: number): number => ((k + i) % 100 === 0 ? (i % 5 === 0 ? 8 : i % 3 ? 2000 : -2000) : quietValue(i, k));
  const e1 = engine.evaluations;
  const trip = await run(tags, tripping, () => engine.flush());
  const tripEvals = (engine.evaluations - e1) / trip.seconds;
  await engine.stop();
  db.close();

  report('alarm-eval', [
    {
      name: 'alarm evaluations/s (10,000 definitions, no state change)',
      value: Math.round(quietEvals),
      unit: 'evals/s',
      ratio: quietEvals / baseRate,
      baseline: 'tag updates/s with no alarm engine',
      target: '>= 1,000,000',
    },
    { name: 'baseline: tag updates/s without alarms', value: Math.round(baseRate), unit: 'updates/s' },
    {
      name: 'alarm evaluations/s with 1% state changes (journaled, synchronous=FULL, commit per 1,000-update burst)',
      value: Math.round(tripEvals),
      unit: 'evals/s',
      ratio: tripEvals / baseRate,
      baseline: 'tag updates/s with no alarm engine',
    },
    { name: 'journal events during that run', value: Math.round(events / trip.seconds), unit: 'events/s' },
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
