import type { WrkResult } from './wrk.js';

/** Rounds of interleaved runs per comparison (`BENCH_ROUNDS`, default 3). */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/**
 * Runs each measurement once per round, interleaved (A B C, A B C, …), and keeps each one's best run: the one
 * that served the most requests per second. This box shares its two cores with other machines' work, and a
 * disturbance hits whichever run happens to be under way (a bare fastify swung by ±25 % between runs of the same
 * hour); interleaving gives every target the same chances and the best of a few runs is the least disturbed.
 * Every measurement must throw on errors itself: a run that failed is not a candidate.
 */
export async function bestOfRounds<K extends string, R extends WrkResult>(
  runs: Record<K, () => Promise<R>>,
  rounds = ROUNDS,
): Promise<Record<K, R>> {
  const best = {} as Record<K, R>;
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(runs) as K[]) {
      const r = await runs[key]();
      if (best[key] === undefined || r.rps > best[key].rps) best[key] = r;
    }
  }
  return best;
}
