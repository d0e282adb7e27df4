import Type, { type Static } from 'typebox';
import { ConnectionSchema, TagSchema } from './tags.js';
import { ClientSchema, GroupSchema, UserSchema } from './security.js';
import { WinccSectionSchema } from './wincc.js';
import { NorthboundMqttSchema } from './northbound-mqtt.js';
import { NorthboundOpcuaSchema } from './northbound-opcua.js';

/**
 * The project file: the plant's connections and tags, alarms, and its users and groups.
 * Sections owned by other modules (alarms) are validated by those modules' schemas.
 */
export const ProjectSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String()),
    connections: Type.Array(ConnectionSchema),
    tags: Type.Array(TagSchema),
    alarmClasses: Type.Optional(Type.Array(Type.Unknown())),
    alarms: Type.Optional(Type.Array(Type.Unknown())),
    groups: Type.Optional(Type.Array(GroupSchema)),
    users: Type.Optional(Type.Array(UserSchema)),
    clients: Type.Optional(Type.Array(ClientSchema)),
    /** Owned by src/project/exports.ts (shift calendar, ERP reports and targets). */
    shifts: Type.Optional(Type.Unknown()),
    exports: Type.Optional(Type.Unknown()),
    /** Settings the WinCC compatibility profiles share (schema/wincc.ts). */
    wincc: Type.Optional(WinccSectionSchema),
    /** Front ends that publish or serve the tags to other systems (MQTT / Sparkplug B publisher, OPC UA server). */
    northbound: Type.Optional(
      Type.Object(
        { opcua: Type.Optional(NorthboundOpcuaSchema), mqtt: Type.Optional(NorthboundMqttSchema) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type ProjectFile = Static<typeof ProjectSchema>;
export type TagEntry = Static<typeof TagSchema>;
export type ConnectionEntry = Static<typeof ConnectionSchema>;
export type UserEntry = Static<typeof UserSchema>;
export type GroupEntry = Static<typeof GroupSchema>;
