import Type, { type Static } from 'typebox';
import { WEEKDAYS } from '../../domain/shifts/calendar.js';

/** The `shifts:` section: the plant's shift calendar in its local time zone. */
export const ShiftsSectionSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone, e.g. 'Europe/Berlin'" }),
    shifts: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_. -]+$' }),
          start: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'Local start time HH:MM' }),
          days: Type.Optional(Type.Array(Type.Enum([...WEEKDAYS]), { maxItems: 7, uniqueItems: true })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 24 },
    ),
    holidays: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

export type ShiftsSection = Static<typeof ShiftsSectionSchema>;
