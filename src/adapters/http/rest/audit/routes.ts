import Type from 'typebox';
import type { AuditRow } from '../../../../domain/audit/chain.js';
import { AUDIT_MAX_LIMIT } from '../../../../storage/audit-repository.js';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { CSV_TYPE, toCsv } from '../../shared/csv.js';
import { setNextPage } from '../../shared/paging.js';

export const AuditQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
    user: Type.Optional(Type.String({ maxLength: 128 })),
    action: Type.Optional(
      Type.String({ maxLength: 512, description: 'One action or a comma-separated list, e.g. auth.login,auth.login_failed' }),
    ),
    tag: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'Rows about this tag (exact, case-sensitive): writes to it, bulk writes listing it among their items, refused writes naming it. Scans the rows within from/to; give them for a long trail',
      }),
    ),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_MAX_LIMIT })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

export const AuditItem = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String(),
  user: Type.Union([Type.String(), Type.Null()]),
  clientAddress: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  result: Type.String(),
  hash: Type.String(),
});

const CSV_FIELDS = ['id', 'at', 'action', 'user', 'clientAddress', 'target', 'details', 'result', 'hash'] as const;

function item(r: AuditRow) {
  return {
    id: r.id,
    at: r.at,
    action: r.action,
    user: r.user,
    clientAddress: r.clientAddress,
    target: r.target,
    details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
    result: r.result,
    hash: r.hash,
  };
}

export const auditRoutes: ApiPlugin = async (app, { services }) => {
  const service = services.audit;
  app.get(
    '/audit',
    {
      schema: {
        summary: 'The audit trail',
        description:
          'Logins, failed logins, logouts, writes (old and new value), acknowledgements, user and permission changes. Newest first by default; keyset paging with `cursor`; `format=csv` downloads the same rows.',
        tags: ['audit'],
        querystring: AuditQuery,
        response: {
          200: Type.Object({ items: Type.Array(AuditItem), next: Type.Union([Type.String(), Type.Null()]) }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const q = request.query as {
        from?: string;
        to?: string;
        user?: string;
        action?: string;
        tag?: string;
        order?: 'asc' | 'desc';
        limit?: number;
        cursor?: string;
        format?: 'json' | 'csv';
      };
      const page = await service.query(actorOf(request), {
        from: q.from,
        to: q.to,
        user: q.user,
        tag: q.tag,
        order: q.order,
        limit: q.limit,
        cursor: q.cursor,
        actions: q.action
          ?.split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      });
      if (q.format === 'csv') {
        setNextPage(reply, request, page.next);
        reply.header('content-disposition', 'attachment; filename="audit.csv"');
        return reply
          .type(CSV_TYPE)
          .serializer(String)
          .send(
            toCsv(
              CSV_FIELDS,
              page.items.map((r) => CSV_FIELDS.map((f) => r[f])),
            ),
          );
      }
      return { items: page.items.map(item), next: page.next };
    },
  );
};
