import Type from 'typebox';
import { ScalarValue, TagName, TagTypeSchema, Identifier } from './common.js';

export const SimulationSchema = Type.Object(
  {
    kind: Type.Enum(['sine', 'ramp', 'randomWalk', 'square', 'counter', 'constant', 'random', 'clock', 'text'], {
      description:
        'sine/square/ramp: periodic between min and max; randomWalk: steps of at most `step`; counter: +step per cycle, wrapping to min after max; random: uniform; clock: the current time; text: cycles through `values`; constant: the initial value',
    }),
    cycleMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'Update cycle in ms (default 1000)' })),
    periodMs: Type.Optional(Type.Integer({ minimum: 100, description: 'Period of sine/square/ramp in ms (default 60000)' })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    step: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    values: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const HistorySchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('onChange'), Type.Literal('cyclic'), Type.Literal('both')]),
    deadband: Type.Optional(Type.Number({ minimum: 0, description: 'Absolute deadband in the tag unit (onChange)' })),
    intervalMs: Type.Optional(Type.Integer({ minimum: 100, description: 'Cycle of cyclic logging in ms' })),
    retentionDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const ScalingSchema = Type.Object(
  {
    rawMin: Type.Number(),
    rawMax: Type.Number(),
    engMin: Type.Number(),
    engMax: Type.Number(),
  },
  { additionalProperties: false },
);

export const TagSchema = Type.Object(
  {
    name: TagName,
    type: TagTypeSchema,
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    group: Type.Optional(Type.String({ maxLength: 128 })),
    access: Type.Optional(
      Type.Union([Type.Literal('read'), Type.Literal('readwrite')], {
        description: 'Default: readwrite for internal tags, read otherwise',
      }),
    ),
    min: Type.Optional(Type.Union([Type.Number(), Type.String()])),
    max: Type.Optional(Type.Union([Type.Number(), Type.String()])),
    maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_048_576 })),
    initial: Type.Optional(ScalarValue),
    connection: Identifier,
    address: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    scaling: Type.Optional(ScalingSchema),
    simulation: Type.Optional(SimulationSchema),
    history: Type.Optional(HistorySchema),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const ConnectionSchema = Type.Object(
  {
    name: Identifier,
    driver: Type.String({ description: 'simulator, internal, modbus-tcp, opcua, s7, mqtt' }),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: true, description: 'Driver-specific options beside name/driver are checked by the driver' },
);
