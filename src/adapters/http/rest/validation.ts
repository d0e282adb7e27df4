import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS with a default export that TypeScript sees through `.default` under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

const common: Options = { allErrors: true, strict: false, removeAdditional: false, useDefaults: true };

/**
 * Bodies are validated strictly (no type coercion: "12" is not a number, unknown fields are errors); query
 * strings and path parameters are text by nature and are coerced to the declared types.
 */
const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
const coercing = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));

/** Validation problems kept per request; the rest are only counted (see `omittedOf`). */
export const MAX_VALIDATION_ERRORS = 20;

const OMITTED = Symbol('omitted validation errors');

/** How many validation errors were dropped from a failed validation's list (0 when none). */
export function omittedOf(errors: unknown): number {
  return (errors as { [OMITTED]?: number } | undefined)?.[OMITTED] ?? 0;
}

/** Marks a cut list with the number of entries cut off it. */
export function withOmitted<T>(list: T[], omitted: number): T[] {
  return omitted > 0 ? Object.assign(list, { [OMITTED]: omitted }) : list;
}

/**
 * With `allErrors`, a 1 MB body of 90,000 unknown fields yields 90,000 errors, and fastify turns them into one
 * message and we into one problem entry each: megabytes of answer for a small request. The list is cut to its
 * first MAX_VALIDATION_ERRORS here, before fastify formats it; the number cut off travels with it.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  const validate = ajv.compile(schema as object);
  const bounded = ((data: unknown, ctx?: unknown) => {
    const ok = (validate as (d: unknown, c?: unknown) => boolean)(data, ctx);
    const errors = validate.errors;
    if (ok || !errors || errors.length <= MAX_VALIDATION_ERRORS) bounded.errors = errors;
    else bounded.errors = withOmitted(errors.slice(0, MAX_VALIDATION_ERRORS), errors.length - MAX_VALIDATION_ERRORS);
    return ok;
  }) as typeof validate;
  // fastify passes the parent object to validators that have a schemaEnv (so ajv can coerce a root value).
  (bounded as { schemaEnv?: unknown }).schemaEnv = validate.schemaEnv;
  return bounded as ReturnType<FastifySchemaCompiler<unknown>>;
};
