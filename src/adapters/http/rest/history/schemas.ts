import Type from 'typebox';
import { AGGREGATE_NAMES } from '../../../../domain/history/aggregates.js';
import { MAX_RAW_LIMIT } from '../../../../runtime/history-query.js';
import { MAX_TAGS_PER_QUERY } from '../../../../services/history-service.js';
import { ItemError, TagValueSchema } from '../schemas.js';

const Quality = Type.Union([Type.Literal('GOOD'), Type.Literal('UNCERTAIN'), Type.Literal('BAD')]);

export const RawItem = Type.Object(
  {
    timestamp: Type.String({ format: 'date-time' }),
    value: Type.Union([TagValueSchema, Type.Null()]),
    quality: Quality,
    qualityCode: Type.Integer({ minimum: 0, maximum: 255 }),
  },
  { description: 'One logged sample' },
);

export const BucketItem = Type.Object(
  {
    timestamp: Type.String({ format: 'date-time', description: 'Start of the bucket (a multiple of the interval since the epoch)' }),
    value: Type.Union([TagValueSchema, Type.Null()], { description: 'null for an empty bucket or one without usable (non-BAD) samples' }),
    count: Type.Integer({ minimum: 0, description: 'Raw samples in the bucket, any quality' }),
  },
  { description: 'One aggregation bucket' },
);

const BoundingValues = Type.Object({
  before: Type.Union([RawItem, Type.Null()], { description: 'The last sample before `from`' }),
  after: Type.Union([RawItem, Type.Null()], { description: 'The first sample at or after `to`' }),
});

/** Options shared by the one-tag and many-tag queries. */
const options = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive; default: one hour before `to`' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive; default: now' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RAW_LIMIT, description: 'Raw samples per page (per tag); default 1000' })),
  order: Type.Optional(
    Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'Raw samples: ascending (default) or descending by time' }),
  ),
  interval: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'Aggregation interval: 500ms, 10s, 1m, 1h, 1d, 1w, or an ISO 8601 duration (PT1M); with `aggregate`',
    }),
  ),
  aggregate: Type.Optional(
    Type.Union(
      AGGREGATE_NAMES.map((a) => Type.Literal(a)),
      {
        description:
          'avg (time-weighted, step interpolation), min, max, first, last, count, delta (counter increase; a decrease counts as a reset to zero)',
      },
    ),
  ),
  boundingValues: Type.Optional(Type.Boolean({ description: 'Add the last sample before `from` and the first at/after `to`' })),
};

export const HistoryQueryString = Type.Object(
  {
    ...options,
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'The `next` of the previous page' })),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv')], {
        description:
          'csv: RFC 4180 with a header row of the JSON field names; the cursor of the next page is in the X-Next-Cursor header (and a Link rel=next)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const HistoryReply = Type.Object({
  items: Type.Array(Type.Union([RawItem, BucketItem])),
  next: Type.Optional(
    Type.Union([Type.String(), Type.Null()], { description: 'Raw queries: the cursor of the next page, null on the last' }),
  ),
  boundingValues: Type.Optional(BoundingValues),
});

export { MAX_TAGS_PER_QUERY };

export const HistoryQueryBody = Type.Object(
  {
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      minItems: 1,
      description: `Tag names, at most ${MAX_TAGS_PER_QUERY}`,
    }),
    ...options,
    cursors: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 64 }), { description: 'Raw queries: per tag, the `next` of its previous page' }),
    ),
  },
  { additionalProperties: false },
);

export const HistoryFormatQuery = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv')], {
        description: 'csv: one row per sample or bucket with the tag name first; a tag that fails fails the request',
      }),
    ),
  },
  { additionalProperties: false },
);

export const HistoryManyReply = Type.Object({
  items: Type.Array(
    Type.Union([
      Type.Object({
        name: Type.String(),
        items: Type.Array(Type.Union([RawItem, BucketItem])),
        next: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        boundingValues: Type.Optional(BoundingValues),
      }),
      Type.Object({ name: Type.String(), error: ItemError }),
    ]),
    { description: 'In request order' },
  ),
});
