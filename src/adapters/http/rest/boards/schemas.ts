import Type from 'typebox';
import { WIDGET_KINDS } from '../../../../services/board-service.js';

const TagName = Type.String({ minLength: 1, maxLength: 256 });

export const BoardWidget = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
    kind: Type.Enum(WIDGET_KINDS, { description: 'value card, gauge/bar, trend, setpoint input, alarm list, Bool indicator' }),
    title: Type.Optional(Type.String({ maxLength: 100 })),
    tags: Type.Array(TagName, { maxItems: 1000, description: 'Tag names shown; an alarm list without tags shows every alarm' }),
    options: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { description: 'Kind-specific settings' })),
  },
  { additionalProperties: false },
);

export const BoardBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    widgets: Type.Array(BoardWidget, { maxItems: 1000 }),
    sharedWith: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000, description: 'Groups that may view it' }),
    ),
  },
  { additionalProperties: false },
);

export const Board = Type.Object({
  id: Type.String(),
  owner: Type.String(),
  name: Type.String(),
  widgets: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      title: Type.Optional(Type.String()),
      tags: Type.Array(Type.String()),
      options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  ),
  sharedWith: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  mine: Type.Boolean({ description: 'The caller owns it (may change, share and delete it)' }),
  hiddenTags: Type.Integer({ description: 'Tags left out because the caller may not read them' }),
});

export const BoardList = Type.Object({ items: Type.Array(Board) });

export const BoardParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
