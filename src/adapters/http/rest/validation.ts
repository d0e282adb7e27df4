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

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};
