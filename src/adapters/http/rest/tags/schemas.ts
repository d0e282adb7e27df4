import Type from 'typebox';
import { ItemError, TagTypeSchema, ValueObject } from '../schemas.js';

/** Any JSON value: its fit to the tag's type is judged per tag (TYPE_MISMATCH / OUT_OF_RANGE), not by the schema. */
const AnyValue = Type.Unknown({ description: "The new value in the tag type's wire form (see the value object)" });

export const TagInfo = Type.Object({
  name: Type.String(),
  type: TagTypeSchema,
  unit: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  access: Type.Union([Type.Literal('read'), Type.Literal('readwrite')]),
  group: Type.Optional(Type.String()),
  connection: Type.String(),
  min: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  max: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  history: Type.Optional(Type.Boolean()),
  links: Type.Object({ value: Type.String() }),
});

export const ListTagsQuery = Type.Object(
  {
    filter: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'Glob on the name: `*` within a segment, `**` across segments' }),
    ),
    group: Type.Optional(Type.String({ maxLength: 128 })),
    type: Type.Optional(TagTypeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const ListTagsReply = Type.Object({
  items: Type.Array(TagInfo),
  total: Type.Integer({ description: 'Tags matching the filters that the caller may read' }),
  next: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export const WriteValueBody = Type.Object({ value: AnyValue }, { additionalProperties: false });

export const ReadManyBody = Type.Object(
  {
    names: Type.Array(Type.String(), { description: 'Tag names; at most the configured bulk limit (default 10,000)' }),
  },
  { additionalProperties: false },
);

export const ReadManyReply = Type.Object({
  items: Type.Array(Type.Union([ValueObject, Type.Object({ name: Type.String(), error: ItemError })])),
});

export const WriteManyBody = Type.Object(
  {
    items: Type.Array(Type.Object({ name: Type.String(), value: AnyValue }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const WriteManyReply = Type.Object({
  items: Type.Array(
    Type.Union([Type.Object({ name: Type.String(), status: Type.Literal('OK') }), Type.Object({ name: Type.String(), error: ItemError })]),
  ),
});
