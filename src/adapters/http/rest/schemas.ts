import Type from 'typebox';
import { PROBLEMS } from '../../../domain/problems.js';
import { TAG_TYPES } from '../../../domain/tag-types.js';

/** Schemas shared by several resources. Each resource keeps its own beside its routes. */
export const Problem = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Enum(Object.keys(PROBLEMS)),
    instance: Type.Optional(Type.String()),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const ProblemRef = Type.Ref('Problem');

/** Problem responses by status, for OpenAPI. */
export function problems(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of statuses)
    out[s] = {
      ...Problem,
      $id: undefined,
      description: `Problem (${Object.entries(PROBLEMS)
        .filter(([, p]) => p.status === s)
        .map(([c]) => c)
        .join(', ')})`,
    };
  return out;
}

export const TagValueSchema = Type.Union([Type.Boolean(), Type.Number(), Type.String()], {
  description:
    'Bool → boolean; integers up to 32 bits and floats → number; Int64/UInt64 → decimal string; DateTime → ISO 8601 UTC string; String → string',
});

export const ValueObject = Type.Object({
  name: Type.String(),
  value: TagValueSchema,
  quality: Type.Union([Type.Literal('GOOD'), Type.Literal('UNCERTAIN'), Type.Literal('BAD')]),
  qualityCode: Type.Integer({ minimum: 0, maximum: 255, description: 'Quality byte QQSSSSLL (Siemens/OPC)' }),
  subStatus: Type.String({ description: 'WinCC Unified sub-status name, e.g. NON_SPECIFIC, NOT_CONNECTED, INITIAL_VALUE' }),
  timestamp: Type.String({ format: 'date-time' }),
});

export const ItemError = Type.Object({ code: Type.String(), message: Type.String() });

export const TagTypeSchema = Type.Enum(TAG_TYPES);

export const TagNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256, description: "Tag name, percent-encoded ('/' as %2F, space as %20, '#' as %23)" }),
});
