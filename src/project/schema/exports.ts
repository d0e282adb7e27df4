import Type, { type Static } from 'typebox';
import { REPORT_AGGREGATES } from '../../domain/exports/aggregates.js';
import { IDENTIFIER_PATTERN } from './common.js';

/**
 * The `exports:` section: report definitions computed from history and the alarm journal, and the ERP targets
 * they are delivered to. Per-kind requirements of a target (a webhook needs no entity set, SAP needs a user) are
 * checked by validateExportSections, whose messages name the missing key.
 */
export const MAX_REPORT_FIELDS = 200;

const Name = Type.String({ pattern: IDENTIFIER_PATTERN });

export const ReportFieldSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', description: 'JSON key in the report values' }),
    tag: Type.Optional(Type.String({ minLength: 1 })),
    alarms: Type.Optional(Type.String({ minLength: 1, description: 'Alarm name glob, for alarmCount' })),
    aggregate: Type.Enum([...REPORT_AGGREGATES]),
    maxGapMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000, description: 'Samples further apart are flagged gap' })),
  },
  { additionalProperties: false },
);

export const ReportSchema = Type.Object(
  {
    name: Name,
    trigger: Type.String({ minLength: 1, maxLength: 100, description: "'shiftEnd' or a 5-field cron expression in the calendar's zone" }),
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    fields: Type.Array(ReportFieldSchema, { minItems: 1, maxItems: MAX_REPORT_FIELDS }),
    targets: Type.Array(Name, { minItems: 1, maxItems: 10, uniqueItems: true }),
  },
  { additionalProperties: false },
);

export const TARGET_KINDS = ['webhook', 'sap-odata', 'dynamics'] as const;

export const TargetSchema = Type.Object(
  {
    name: Name,
    kind: Type.Enum([...TARGET_KINDS]),
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    /** Webhook: HMAC-SHA256 key of X-Tagway-Signature. */
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 4096 }))),
    entitySet: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' })),
    map: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_@.]{0,127}$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    tokenUrl: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2048 })),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** PEM file of the CA(s) that sign the target's certificate, for private CAs. */
    ca: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
    /**
     * Requests sent before the previous one answered (HTTP/1.1 pipelining on one connection, in period order).
     * Default 1: the receiver never sees a later period before an earlier one succeeded. See docs/exports.md.
     */
    inFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    /** Entries waiting for this target at most; a report beyond is refused with a clear error. */
    maxPending: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** First retry after about this long (doubling up to retryMaxMs, with jitter). Default 1 s. */
    retryBaseMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 3_600_000 })),
    /** Retries at most this far apart. Default 5 min. */
    retryMaxMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400_000 })),
    /** After this long without success an entry is given up (dead). Default 7 days. */
    giveUpAfterMs: Type.Optional(Type.Integer({ minimum: 60_000, maximum: 90 * 86_400_000 })),
  },
  { additionalProperties: false },
);

export const ExportsSectionSchema = Type.Object(
  {
    reports: Type.Optional(Type.Array(ReportSchema, { maxItems: 100 })),
    targets: Type.Optional(Type.Array(TargetSchema, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

export type ExportsSection = Static<typeof ExportsSectionSchema>;
export type ReportEntry = Static<typeof ReportSchema>;
export type TargetEntry = Static<typeof TargetSchema>;
