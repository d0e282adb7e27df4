import { avg } from './avg.js';
import { count } from './count.js';
import { delta } from './delta.js';
import { first } from './first.js';
import { last } from './last.js';
import { max } from './max.js';
import { min } from './min.js';
import type { AggregateFn } from './series.js';

/** The aggregates of the API, by the names used in `aggregate=`. */
export const AGGREGATES = { avg, min, max, first, last, count, delta } as const satisfies Record<string, AggregateFn>;

export type AggregateName = keyof typeof AGGREGATES;

export const AGGREGATE_NAMES = Object.keys(AGGREGATES) as AggregateName[];

export function isAggregateName(s: unknown): s is AggregateName {
  return typeof s === 'string' && Object.hasOwn(AGGREGATES, s);
}

/** Aggregates that need numbers; the others (first, last, count) also work for text tags. */
export const NUMERIC_AGGREGATES: ReadonlySet<AggregateName> = new Set(['avg', 'min', 'max', 'delta']);
