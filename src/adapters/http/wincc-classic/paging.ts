import type { FastifyReply } from 'fastify';
import { invalid } from './errors.js';

/**
 * `?itemLimit=N&continuationPoint=N` on every list (inferred, docs/wincc-classic.md): the answer stays the
 * top-level JSON array a client without paging expects; `continuationPoint` is the 0-based position of the first
 * item, so a client may page by adding `itemLimit` until a page comes back short. While more items follow, the
 * answer names the next page's position in the `X-Continuation-Point` header (absent on the last page).
 */
export const MAX_ITEM_LIMIT = 10_000;

export interface Paging {
  offset: number;
  limit: number;
}

function whole(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(`${name} must be a whole number ${min}…${max}`);
  return n;
}

export function pagingOf(query: Record<string, unknown>): Paging {
  return {
    offset: whole(query.continuationpoint, 'continuationPoint', 0, 2_147_483_647) ?? 0,
    limit: whole(query.itemlimit, 'itemLimit', 1, MAX_ITEM_LIMIT) ?? MAX_ITEM_LIMIT,
  };
}

/** One page of a list, and the header that says where the next starts. */
export function page<T>(items: readonly T[], paging: Paging, reply: FastifyReply): T[] {
  const end = paging.offset + paging.limit;
  if (end < items.length) reply.header('x-continuation-point', String(end));
  return items.slice(paging.offset, end);
}

/** A whole number query parameter with bounds (`maxValues`). */
export function wholeParam(query: Record<string, unknown>, key: string, name: string, min: number, max: number): number | undefined {
  return whole(query[key], name, min, max);
}
