import type { Series, StoredValue } from '../../domain/history/series.js';
import { SeriesTooLarge, type RawPage, type RawQuery, type Sample, type SampleBatch } from '../history-repository.js';
import { migrate, type Database } from './database.js';

/**
 * History in SQLite. One row per sample in a WITHOUT ROWID table clustered on (tag_id, ts): a tag's samples
 * sit together in key order, so a range query is one sequential B-tree walk with no second lookup, and a row
 * costs ~20 bytes instead of repeating the tag name. `value` is declared without a type so that SQLite keeps
 * what it gets (REAL for numbers, TEXT for text and 64-bit integers) without affinity conversions.
 */
const MIGRATIONS = [
  `CREATE TABLE history_tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
   CREATE TABLE history (
     tag_id INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     value,
     quality INTEGER NOT NULL,
     PRIMARY KEY (tag_id, ts)
   ) WITHOUT ROWID;`,
];

/** Rows per multi-row INSERT: one statement call per row costs more than SQLite's work for the row itself. */
const ROWS_PER_STATEMENT = 100;

type Row = [number, StoredValue, number];

/** GOOD (0xC0): what nearly every sample has; `series` reads only the others. */
const COMMON_QUALITY = 0xc0;

/** Index of `t` in an ascending array that holds it. */
function indexOf(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The synchronous core of SqliteHistoryRepository (the historian's ingest path is measured on it). */
export class SqliteHistoryStore {
  private readonly ids = new Map<string, number>();
  private readonly insertOne;
  private readonly insertMany;
  private readonly insertTx;
  private readonly selectTagId;
  private readonly insertTag;
  private readonly rangeAsc;
  private readonly rangeAscAfter;
  private readonly rangeDesc;
  private readonly colTs;
  private readonly colValue;
  private readonly oddQuality;
  private readonly readSeries;
  private readonly before;
  private readonly atOrAfter;
  private readonly pruneStmt;

  constructor(private readonly db: Database) {
    migrate(db, 'history', MIGRATIONS);
    const values1 = '(?, ?, ?, ?)';
    this.insertOne = db.prepare(`INSERT OR REPLACE INTO history (tag_id, ts, value, quality) VALUES ${values1}`);
    this.insertMany = db.prepare(
      `INSERT OR REPLACE INTO history (tag_id, ts, value, quality) VALUES ${Array(ROWS_PER_STATEMENT).fill(values1).join(',')}`,
    );
    this.selectTagId = db.prepare('SELECT id FROM history_tags WHERE name = ?').pluck();
    this.insertTag = db.prepare('INSERT INTO history_tags (name) VALUES (?)');
    // Each page states only the one bound that matters on each side: given both `ts >= from` and `ts > after`,
    // SQLite seeks to `from` and filters its way to `after`, so page k cost k pages (a 1-day range paged by 2,000
    // read ~20x its rows). A keyset page must seek straight to its cursor.
    const page = 'SELECT ts, value, quality FROM history WHERE tag_id = ?';
    this.rangeAsc = db.prepare(`${page} AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?`).raw();
    this.rangeAscAfter = db.prepare(`${page} AND ts > ? AND ts < ? ORDER BY ts LIMIT ?`).raw();
    this.rangeDesc = db.prepare(`${page} AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT ?`).raw();
    // A long range leaves SQLite column by column (`pluck`): one JS array of numbers per column costs about a
    // fifth of one JS array per row, which is what dominates reading 86,400 rows. Quality is nearly always GOOD,
    // so only the exceptions are read and patched in.
    const range = 'FROM history WHERE tag_id = ? AND ts >= ? AND ts < ? ORDER BY ts';
    this.colTs = db.prepare(`SELECT ts - ? ${range} LIMIT ?`).pluck();
    this.colValue = db.prepare(`SELECT value ${range}`).pluck();
    this.oddQuality = db
      .prepare(`SELECT ts, quality FROM history WHERE tag_id = ? AND ts >= ? AND ts < ? AND quality <> ${COMMON_QUALITY} ORDER BY ts`)
      .raw();
    // One read transaction: the three statements see the same snapshot even if another connection writes between.
    this.readSeries = db.transaction((tagId: number, from: number, to: number, maxSamples: number | undefined): Series => {
      // The timestamps come first and alone: a range over the budget is refused before its values are read.
      const ts = this.colTs.all(from, tagId, from, to, maxSamples === undefined ? -1 : maxSamples + 1) as number[];
      if (maxSamples !== undefined && ts.length > maxSamples) throw new SeriesTooLarge(maxSamples);
      const values = this.colValue.all(tagId, from, to) as StoredValue[];
      const odd = this.oddQuality.all(tagId, from, to) as [number, number][];
      const prior = this.lastBefore(tagId, from);
      const offset = prior ? 1 : 0;
      const n = ts.length + offset;
      const outTs = new Float64Array(n);
      const outValues: StoredValue[] = prior ? [prior.value, ...values] : values;
      const quality = new Uint8Array(n).fill(COMMON_QUALITY);
      if (prior) {
        outTs[0] = prior.ts;
        quality[0] = prior.quality;
      }
      for (let i = 0; i < ts.length; i++) outTs[i + offset] = ts[i]! + from;
      for (const [t, q] of odd) quality[indexOf(outTs, t)] = q;
      return { length: n, ts: outTs, values: outValues, quality };
    });
    this.before = db.prepare('SELECT ts, value, quality FROM history WHERE tag_id = ? AND ts < ? ORDER BY ts DESC LIMIT 1');
    this.atOrAfter = db.prepare('SELECT ts, value, quality FROM history WHERE tag_id = ? AND ts >= ? ORDER BY ts LIMIT 1');
    // Deletes the oldest `maxRows` rows below the cut-off: everything older than the (maxRows+1)-th oldest row, or
    // everything below the cut-off when fewer remain. Bounded batches keep each write transaction short.
    this.pruneStmt = db.prepare(`DELETE FROM history WHERE tag_id = @tag AND ts < coalesce(
      (SELECT ts FROM history WHERE tag_id = @tag AND ts < @before ORDER BY ts LIMIT 1 OFFSET @skip), @before)`);
    const params: (number | StoredValue)[] = new Array(ROWS_PER_STATEMENT * 4);
    this.insertTx = db.transaction((b: SampleBatch, order: Uint32Array) => {
      const { count, tagIds, ts, values, quality } = b;
      let i = 0;
      for (; i + ROWS_PER_STATEMENT <= count; i += ROWS_PER_STATEMENT) {
        for (let k = 0, j = i; k < params.length; k += 4, j++) {
          const r = order[j]!;
          params[k] = tagIds[r]!;
          params[k + 1] = ts[r]!;
          params[k + 2] = values[r]!;
          params[k + 3] = quality[r]!;
        }
        this.insertMany.run(params);
      }
      for (; i < count; i++) {
        const r = order[i]!;
        this.insertOne.run(tagIds[r]!, ts[r]!, values[r]!, quality[r]!);
      }
    });
  }

  forgetIds(): void {
    this.ids.clear();
  }

  tagId(name: string): number {
    const known = this.findTagId(name);
    if (known !== undefined) return known;
    const id = Number(this.insertTag.run(name).lastInsertRowid);
    this.ids.set(name, id);
    return id;
  }

  findTagId(name: string): number | undefined {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.selectTagId.get(name) as number | undefined;
      if (id !== undefined) this.ids.set(name, id);
    }
    return id;
  }

  listTags(): { id: number; name: string }[] {
    return this.db.prepare('SELECT id, name FROM history_tags ORDER BY id').all() as { id: number; name: string }[];
  }

  insertBatch(batch: SampleBatch): void {
    const n = batch.count;
    if (n === 0) return;
    // Rows go in in key order. A batch interleaves many tags, and inserting it as it came touches one B-tree
    // leaf per row all over the table (the page cache thrashes once tags x 4 KB exceeds it); sorted, each leaf
    // is visited once per batch. Measured 4x faster with 1,000 tags. Ties keep arrival order (index as the
    // last key), so of two samples at the same ms the later one replaces the earlier, as unsorted.
    const { tagIds, ts } = batch;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => tagIds[a]! - tagIds[b]! || ts[a]! - ts[b]! || a - b);
    this.insertTx(batch, order);
  }

  raw(tagId: number, q: RawQuery): RawPage {
    const rows = (
      q.order === 'asc'
        ? q.after === undefined || q.after < q.from
          ? this.rangeAsc.all(tagId, q.from, q.to, q.limit + 1)
          : this.rangeAscAfter.all(tagId, q.after, q.to, q.limit + 1)
        : this.rangeDesc.all(tagId, q.from, q.after === undefined ? q.to : Math.min(q.to, q.after), q.limit + 1)
    ) as Row[];
    const more = rows.length > q.limit;
    if (more) rows.length = q.limit;
    const samples = rows.map((r) => ({ ts: r[0], value: r[1], quality: r[2] }));
    return { samples, next: more ? samples[samples.length - 1]!.ts : null };
  }

  series(tagId: number, from: number, to: number, maxSamples?: number): Series {
    return this.readSeries(tagId, from, to, maxSamples);
  }

  lastBefore(tagId: number, t: number): Sample | undefined {
    return this.before.get(tagId, t) as Sample | undefined;
  }

  firstAtOrAfter(tagId: number, t: number): Sample | undefined {
    return this.atOrAfter.get(tagId, t) as Sample | undefined;
  }

  prune(tagId: number, before: number, maxRows: number): number {
    return this.pruneStmt.run({ tag: tagId, before, skip: Math.max(1, maxRows) }).changes;
  }
}
