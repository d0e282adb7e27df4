import Type from 'typebox';
import { OUTBOX_STATES, type OutboxState } from '../../../../services/export-service.js';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Flags = Type.Array(Type.Union([Type.Literal('noData'), Type.Literal('partial'), Type.Literal('bad'), Type.Literal('gap')]));

export const ShiftPeriod = Type.Object({
  name: Type.String(),
  date: Type.String({ description: 'Local date the shift starts on' }),
  start: Type.String({ format: 'date-time', description: 'UTC' }),
  end: Type.String({ format: 'date-time', description: 'UTC, exclusive' }),
  startLocal: Type.String({ description: 'The start in the calendar zone with its offset' }),
  endLocal: Type.String(),
  durationMs: Type.Integer({ description: '7 h or 9 h for an 8 h night shift across a DST change' }),
});

export const ReportDocument = Type.Object({
  report: Type.String(),
  period: Type.Object({
    start: Type.String({ format: 'date-time' }),
    end: Type.String({ format: 'date-time' }),
    shift: Nullable(Type.String()),
  }),
  values: Type.Record(Type.String(), Nullable(Type.Union([Type.Number(), Type.String()]))),
  flags: Type.Record(Type.String(), Flags),
  generatedAt: Type.String({ format: 'date-time' }),
});

export const OutboxItem = Type.Object({
  id: Type.Integer(),
  state: Type.Union(OUTBOX_STATES.map((s) => Type.Literal(s))),
  report: Type.String(),
  target: Type.String(),
  key: Type.String({ description: 'Idempotency-Key sent with every attempt' }),
  periodStart: Type.String({ format: 'date-time' }),
  attempts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  deliveredAt: Nullable(Type.String({ format: 'date-time' })),
  lastError: Nullable(Type.String()),
});

export const OutboxDetail = Type.Intersect([
  OutboxItem,
  Type.Object({
    payload: Type.Unknown({ description: 'The request body as sent to the target' }),
    attemptLog: Type.Array(
      Type.Object({
        at: Type.String({ format: 'date-time' }),
        status: Nullable(Type.Integer()),
        answer: Type.String({ description: 'First 1 KB of the answer, or the network error' }),
      }),
    ),
  }),
]);

export const ReportsReply = Type.Object({
  reports: Type.Array(
    Type.Object({
      name: Type.String(),
      trigger: Type.String(),
      delayMs: Type.Integer(),
      fields: Type.Array(
        Type.Object({
          name: Type.String(),
          tag: Type.Optional(Type.String()),
          alarms: Type.Optional(Type.String()),
          aggregate: Type.String(),
          maxGapMs: Type.Optional(Type.Integer()),
        }),
      ),
      targets: Type.Array(Type.String()),
    }),
  ),
  targets: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), url: Type.String() })),
});

export const RunBody = Type.Union([
  Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
  Type.Object(
    { shift: Type.String({ minLength: 1, maxLength: 64 }), date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }) },
    { additionalProperties: false },
  ),
]);

export const RunReply = Type.Object({
  report: ReportDocument,
  entries: Type.Array(Type.Object({ target: Type.String(), id: Type.Integer(), key: Type.String() })),
});

export const OutboxQuery = Type.Object(
  {
    state: Type.Optional(Type.Union(OUTBOX_STATES.map((s) => Type.Literal(s)))),
    report: Type.Optional(Type.String({ maxLength: 64 })),
    target: Type.Optional(Type.String({ maxLength: 64 })),
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const OutboxPage = Type.Object({ items: Type.Array(OutboxItem), next: Nullable(Type.Integer()) });

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

/** Shift calendar, ERP export reports and their outbox (`exports:read`; running and outbox actions `exports:run`). */
export const exportRoutes: ApiPlugin = async (app, { services }) => {
  const service = services.exports;
  app.get(
    '/shifts',
    {
      schema: {
        summary: 'Concrete shift periods',
        description:
          "The project's shift calendar between `from` and `to` (default: a day either side of now), DST-correct. Needs `exports:read`.",
        tags: ['exports'],
        querystring: Type.Object(
          { from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ timeZone: Type.String(), items: Type.Array(ShiftPeriod) }), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const q = request.query as { from?: string; to?: string };
      return service.shifts(actorOf(request), q.from, q.to);
    },
  );

  app.get(
    '/exports/reports',
    {
      schema: {
        summary: 'Export report definitions and targets',
        description: 'As in the project file; targets show name, kind and URL only (never credentials). Needs `exports:read`.',
        tags: ['exports'],
        response: {
          200: ReportsReply,
          ...problems(401, 403),
        },
      },
    },
    async (request) => service.reports(actorOf(request)),
  );

  app.post(
    '/exports/reports/:name/run',
    {
      schema: {
        summary: 'Compute a report now and enqueue it',
        description:
          'For a time range (`from`, `to`) or one shift (`shift`, `date`: the local date it starts). A period already enqueued for a target is not enqueued twice (its entry id is answered). Needs `exports:run`; audited.',
        tags: ['exports'],
        params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
        body: RunBody,
        response: {
          200: RunReply,
          ...problems(400, 401, 403, 404, 413, 503),
        },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      return service.run(actorOf(request), name, request.body as { from: string; to: string } | { shift: string; date: string });
    },
  );

  app.get(
    '/exports/outbox',
    {
      schema: {
        summary: 'Export outbox entries',
        description: 'Ascending by id; keyset paging: pass `next` as `after`. Needs `exports:read`.',
        tags: ['exports'],
        querystring: OutboxQuery,
        response: { 200: OutboxPage, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query as { state?: OutboxState; report?: string; target?: string; after?: number; limit?: number };
      return service.outbox(actorOf(request), q);
    },
  );

  app.get(
    '/exports/outbox/:id',
    {
      schema: {
        summary: 'One outbox entry with its payload and attempts',
        tags: ['exports'],
        params: IdParams,
        response: { 200: OutboxDetail, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => service.entry(actorOf(request), (request.params as { id: number }).id),
  );

  for (const [action, summary] of [
    ['retry', 'Retry a dead entry now (in its place in the target order)'],
    ['discard', 'Give up a pending or retrying entry'],
  ] as const)
    app.post(
      `/exports/outbox/:id/${action}`,
      {
        schema: {
          summary,
          description: 'Needs `exports:run`; audited. 409 INVALID_STATE when the entry is not in a state this applies to.',
          tags: ['exports'],
          params: IdParams,
          response: { 200: OutboxDetail, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const id = (request.params as { id: number }).id;
        return action === 'retry' ? service.retry(actorOf(request), id) : service.discard(actorOf(request), id);
      },
    );
};
