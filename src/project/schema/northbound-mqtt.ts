import Type, { type Static } from 'typebox';

/**
 * `northbound.mqtt`: the MQTT / Sparkplug B publisher (src/northbound/mqtt/). The broker connection takes the same
 * keys as the MQTT driver's connection (url, username, password or passwordEnv, ca/cert/key …), checked by the same
 * reader; the rest says what is published and how. Semantic checks (URL form, cert with key, writeAs with writes)
 * are the publisher's validator (src/northbound/mqtt/settings.ts).
 */
export const NorthboundMqttSchema = Type.Object(
  {
    // The broker connection, as for an MQTT driver connection (src/drivers/mqtt/options.ts).
    url: Type.String({ minLength: 1 }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    passwordEnv: Type.Optional(Type.String({ minLength: 1 })),
    clientId: Type.Optional(Type.String({ minLength: 1 })),
    protocolVersion: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(5)])),
    ca: Type.Optional(Type.String({ minLength: 1 })),
    cert: Type.Optional(Type.String({ minLength: 1 })),
    key: Type.Optional(Type.String({ minLength: 1 })),
    rejectUnauthorized: Type.Optional(Type.Boolean()),
    keepalive: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    reconnectMinMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 3_600_000 })),
    reconnectMaxMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 3_600_000 })),
    // What is published.
    /** Glob of the tags to publish; default every tag. */
    tags: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('sparkplugB')])),
    /** json: the first topic levels; sparkplugB: the levels of the write-response topic. */
    topicPrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    groupId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    edgeNodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    retain: Type.Optional(Type.Boolean()),
    qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
    writes: Type.Optional(Type.Boolean()),
    /** The Tagway user MQTT writes act as (its permissions, its name in the audit trail). */
    writeAs: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Messages held while the broker is away (oldest dropped first, counted in /metrics). */
    queueSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);

export type NorthboundMqttEntry = Static<typeof NorthboundMqttSchema>;
