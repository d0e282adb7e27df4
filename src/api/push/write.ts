import type { Principal } from '../../auth/principal.js';
import { TagwayError, type ItemError } from '../../domain/problems.js';
import type { TagEngine, WriteContext } from '../../runtime/tag-engine.js';

export type WriteResult = { name: string; status: 'OK' } | { name: string; error: ItemError };

/**
 * The `write` message: the same per-item semantics as `PUT /tags/values` (each item succeeds or fails alone,
 * all start in the same tick so that drivers can batch them).
 */
export async function writeItems(
  engine: TagEngine, principal: Principal, items: ReadonlyArray<{ name: string; value: unknown }>, ctx: WriteContext,
): Promise<WriteResult[]> {
  return Promise.all(items.map(async ({ name, value }): Promise<WriteResult> => {
    try {
      const tag = engine.require(name);
      if (!principal.permissions.allows('tags:write', name)) throw new TagwayError('FORBIDDEN', `You may not write tag '${name}'`);
      await engine.write(tag, value, ctx);
      return { name, status: 'OK' };
    } catch (err) {
      if (err instanceof TagwayError) return { name, error: { code: err.code, message: err.message } };
      return { name, error: { code: 'INTERNAL_ERROR', message: 'The write failed unexpectedly' } };
    }
  }));
}
