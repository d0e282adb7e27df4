import { TagwayError } from './problems.js';

/** Where a parameter came from, as problem `errors[].field` names it (`querystring.from`, `body.to`). */
export type ParamPart = 'querystring' | 'query' | 'body';

/**
 * An ISO 8601 date-time parameter as epoch ms; undefined when absent. The schemas check the format already
 * (`format: 'date-time'`); this is the one place that turns it into a time and refuses what Date cannot read,
 * with VALIDATION_FAILED naming the field.
 */
export function timeParam(value: string | undefined, field: string, part: ParamPart = 'querystring'): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new TagwayError('VALIDATION_FAILED', `${field} is not a date-time`, {
      errors: [{ field: `${part}.${field}`, message: 'must be an ISO 8601 date-time' }],
    });
  return t;
}

/** The same, as a normalised ISO string (millisecond precision, UTC) for stores that compare times as text. */
export function isoTimeParam(value: string | undefined, field: string, part: ParamPart = 'querystring'): string | undefined {
  const t = timeParam(value, field, part);
  return t === undefined ? undefined : new Date(t).toISOString();
}
