import Type from 'typebox';
import { LIMIT_TYPES, STATE_MACHINES } from '../../../../domain/alarms/definition.js';
import { ALARM_EVENTS, ALARM_STATES } from '../../../../domain/alarms/state-machine.js';
import { ItemError } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const AlarmValue = Type.Union([Type.Boolean(), Type.Number(), Type.String(), Type.Null()], {
  description: 'The tag value at the last change (Int64/UInt64 as decimal strings)',
});
export const Priority = Type.Integer({ minimum: 0, maximum: 16 });
export const Glob = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'Alarm name or glob (`*` within a segment, `**` across segments)',
});

export const AlarmStateSchema = Type.Enum([...ALARM_STATES]);
export const AlarmEventTypeSchema = Type.Enum([...ALARM_EVENTS]);

export const Occurrence = Type.Object({
  id: Type.Integer({ description: 'Unique occurrence (instance) id' }),
  alarm: Type.String(),
  number: Type.Integer(),
  class: Type.String(),
  priority: Priority,
  text: Type.String(),
  tag: Nullable(Type.String()),
  value: AlarmValue,
  state: AlarmStateSchema,
  status: Type.String({
    description:
      '`+` active unacknowledged, `+*` active acknowledged, `-` cleared unacknowledged, `-*` cleared acknowledged awaiting reset',
  }),
  active: Type.Boolean(),
  acknowledged: Type.Boolean(),
  raisedAt: Type.String({ format: 'date-time' }),
  clearedAt: Nullable(Type.String({ format: 'date-time' })),
  acknowledgedAt: Nullable(Type.String({ format: 'date-time' })),
  acknowledgedBy: Nullable(Type.String()),
  userResponse: Type.Enum(['NONE', 'ACKNOWLEDGEMENT', 'RESET']),
});

export const ArchiveEvent = Type.Object({
  eventId: Type.Integer({ description: 'Journal position; strictly increasing (also the SSE id)' }),
  id: Type.Integer(),
  alarm: Type.String(),
  number: Type.Integer(),
  class: Type.String(),
  priority: Priority,
  event: AlarmEventTypeSchema,
  at: Type.String({ format: 'date-time' }),
  state: AlarmStateSchema,
  text: Type.String(),
  tag: Nullable(Type.String()),
  value: AlarmValue,
  user: Nullable(Type.String()),
});

export const CurrentQuery = Type.Object(
  {
    class: Type.Optional(Type.String({ maxLength: 100 })),
    minPriority: Type.Optional(Priority),
    maxPriority: Type.Optional(Priority),
    tag: Type.Optional(Type.String({ maxLength: 1024 })),
    alarm: Type.Optional(Glob),
    state: Type.Optional(AlarmStateSchema),
    lang: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$',
        description: 'Language of `text` (default: Accept-Language, else the journal language)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CurrentReply = Type.Object({ items: Type.Array(Occurrence) });

export const ArchiveQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
    alarm: Type.Optional(Glob),
    tag: Type.Optional(Type.String({ maxLength: 1024 })),
    class: Type.Optional(Type.String({ maxLength: 100 })),
    minPriority: Type.Optional(Priority),
    maxPriority: Type.Optional(Priority),
    event: Type.Optional(
      Type.String({
        pattern: '^(RAISED|CLEARED|ACKNOWLEDGED|RESET)(,(RAISED|CLEARED|ACKNOWLEDGED|RESET))*$',
        description: 'One event type, or several separated by commas',
      }),
    ),
    text: Type.Optional(Type.String({ maxLength: 256, description: 'Case-insensitive substring of the text' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'], { default: 'desc' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 256, description: 'The `next` of the previous page' })),
    format: Type.Optional(Type.Enum(['json', 'csv'], { default: 'json' })),
    lang: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$',
        description: 'Language of `text` (default: Accept-Language, else the journal language)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ArchiveReply = Type.Object({
  items: Type.Array(ArchiveEvent),
  next: Nullable(Type.String({ description: 'Cursor of the next page; null on the last page' })),
});

export const OccurrenceParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const BulkAckBody = Type.Object(
  {
    ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, description: 'Occurrence ids; at most the configured bulk limit' }),
  },
  { additionalProperties: false },
);

export const BulkAckReply = Type.Object({
  items: Type.Array(
    Type.Union([Type.Object({ id: Type.Integer(), state: AlarmStateSchema }), Type.Object({ id: Type.Integer(), error: ItemError })]),
  ),
});

export const DefinitionView = Type.Object({
  name: Type.String(),
  number: Type.Integer(),
  class: Type.String(),
  priority: Priority,
  tag: Type.String(),
  kind: Type.Enum(['discrete', 'analog']),
  bit: Type.Optional(Type.Integer()),
  limit: Type.Optional(Type.Object({ type: Type.Enum([...LIMIT_TYPES]), value: Type.Number() })),
  hysteresis: Type.Optional(Type.Number()),
  onDelayMs: Type.Optional(Type.Integer()),
  offDelayMs: Type.Optional(Type.Integer()),
  text: Type.String(),
  texts: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'The text by language, when the project gives several' })),
  enabled: Type.Boolean(),
  shelvedUntil: Type.Optional(Type.String({ format: 'date-time' })),
});

export const DefinitionsReply = Type.Object({ items: Type.Array(DefinitionView) });
export const DefinitionParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256, description: 'Alarm name, percent-encoded' }),
});
export const ShelveBody = Type.Object(
  {
    durationMs: Type.Integer({ minimum: 1, maximum: 30 * 86_400_000, description: 'How long the alarm is shelved (at most 30 days)' }),
  },
  { additionalProperties: false },
);

export const ClassesReply = Type.Object({
  items: Type.Array(
    Type.Object({ name: Type.String(), stateMachine: Type.Enum([...STATE_MACHINES]), color: Type.Optional(Type.String()) }),
  ),
});
