import Type, { type Static } from 'typebox';
import { ALARM_EVENTS } from '../../domain/alarms/state-machine.js';

/**
 * The `wincc:` section: settings the WinCC compatibility profiles share. Each profile adds its keys here (WinCC
 * OA and Unified: `systemName`; classic WinCC's `/WinCCRestService`: `archiveName`, `restFilters`), so that the
 * section stays one object with one schema.
 */

/** A named alarm filter in the native archive filter terms (`GET /alarms/archive` query parameters). */
export const WinccAlarmFilterSchema = Type.Object(
  {
    alarm: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Alarm name or glob' })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    class: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    minPriority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    maxPriority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    event: Type.Optional(Type.Array(Type.Enum([...ALARM_EVENTS]), { minItems: 1, maxItems: 4 })),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Case-insensitive substring of the text' })),
  },
  { additionalProperties: false },
);
export type WinccAlarmFilter = Static<typeof WinccAlarmFilterSchema>;

export const WinccSectionSchema = Type.Object(
  {
    /** The system name data point names carry (`<systemName>:<tag name>.`); default `Tagway`. */
    systemName: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_]+$' })),
    /** The one tag logging archive classic WinCC clients see (every history-logged tag); default `Tagway`. */
    archiveName: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^/\\\\?#%]+$' })),
    /** Named alarm filters for classic WinCC's `alarmLogging/…/{filter}` lists (`All` is built in). */
    restFilters: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^/\\\\?#%]+$' }),
            filter: WinccAlarmFilterSchema,
          },
          { additionalProperties: false },
        ),
        { maxItems: 1000 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type WinccSection = Static<typeof WinccSectionSchema>;
