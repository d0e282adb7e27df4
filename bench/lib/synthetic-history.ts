import { Quality } from '../../src/domain/quality.js';
import type { Storage } from '../../src/storage/open.js';

/**
 * Stores `count` synthetic numeric samples round-robin over the tags `ids` (one every 100 ms per tag from `t0`,
 * a sine plus a ramp) in batches of `batch`, the way the historian hands them over: what the storage benchmarks
 * ingest into each backend.
 */
export async function insertSyntheticHistory(
  storage: Storage,
  ids: readonly number[],
  count: number,
  batch: number,
  t0: number,
): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const tagIds = new Array<number>(n);
    const ts = new Array<number>(n);
    const values = new Array<number>(n);
    const quality = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      const k = done + j;
      tagIds[j] = ids[k % ids.length]!;
      ts[j] = t0 + Math.floor(k / ids.length) * 100;
      values[j] = Math.sin(k) * 100 + k;
      quality[j] = Quality.GOOD;
    }
    await storage.history.insertBatch({ count: n, tagIds, ts, values, quality });
  }
}
