import type { PermissionSet } from '../domain/permissions.js';
import { TagwayError, type ItemError } from '../domain/problems.js';
import type { TagEngine, WriteContext } from './tag-engine.js';

export type WriteResult = { name: string; status: 'OK' } | { name: string; error: ItemError };

/**
 * Writes many tags for one principal, each item succeeding or failing alone; the one write path of
 * `PUT /tags/values` and the WebSocket `write` message. All writes start in the same tick so that drivers can
 * batch them (one transaction for internal tags). `onDenied` sees writes refused for lack of permission, which
 * never reach the engine's write observers (the audit trail records them through it).
 */
export async function writeItems(
  engine: TagEngine,
  permissions: PermissionSet,
  items: ReadonlyArray<{ name: string; value: unknown }>,
  ctx: WriteContext,
  onDenied?: (name: string, value: unknown) => void,
): Promise<WriteResult[]> {
  return Promise.all(
    items.map(async ({ name, value }): Promise<WriteResult> => {
      const tag = engine.get(name);
      if (!tag) return { name, error: { code: 'TAG_NOT_FOUND', message: `No tag named '${name}'` } };
      if (!permissions.allows('tags:write', name)) {
        onDenied?.(name, value);
        return { name, error: { code: 'FORBIDDEN', message: `You may not write tag '${name}'` } };
      }
      try {
        await engine.write(tag, value, ctx);
        return { name, status: 'OK' };
      } catch (err) {
        if (err instanceof TagwayError) return { name, error: { code: err.code, message: err.message } };
        return { name, error: { code: 'INTERNAL_ERROR', message: 'The write failed unexpectedly' } };
      }
    }),
  );
}
