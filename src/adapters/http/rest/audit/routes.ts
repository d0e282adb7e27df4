import Type from 'typebox';
import type { AuditRow } from '../../../../domain/audit/chain.js';
import { TagwayError } from '../../../../domain/problems.js';
import { AUDIT_MAX_LIMIT } from '../../../../storage/audit-repository.js';
import { requirePermission } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

const AuditQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
    user: Type.Optional(Type.String({ maxLength: 128 })),
    action: Type.Optional(
      Type.String({ maxLength: 512, description: 'One action or a comma-separated list, e.g. auth.login,auth.login_failed' }),
    ),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_MAX_LIMIT })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

const AuditItem = Type.Object({
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

/** RFC 4180 field; also defuses spreadsheet formulas (a cell starting with = + - @ runs as a formula in Excel). */
function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

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

export const auditRoutes: ApiPlugin = async (app, { runtime }) => {
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
      requirePermission(request, 'audit:read');
      const q = request.query as {
        from?: string;
        to?: string;
        user?: string;
        action?: string;
        order?: 'asc' | 'desc';
        limit?: number;
        cursor?: string;
        format?: 'json' | 'csv';
      };
      // Stored times are ISO strings with milliseconds; normalise the bounds so string comparison is time comparison.
      const norm = (s: string | undefined, field: string) => {
        if (s === undefined) return undefined;
        const t = Date.parse(s);
        if (Number.isNaN(t))
          throw new TagwayError('VALIDATION_FAILED', `${field} is not a date-time`, {
            errors: [{ field: `querystring.${field}`, message: 'is not a date-time' }],
          });
        return new Date(t).toISOString();
      };
      let page;
      try {
        page = await runtime.security.auditLog.query({
          from: norm(q.from, 'from'),
          to: norm(q.to, 'to'),
          user: q.user,
          order: q.order,
          limit: q.limit,
          cursor: q.cursor,
          action: q.action
            ?.split(',')
            .map((a) => a.trim())
            .filter(Boolean),
        });
      } catch (err) {
        if (err instanceof RangeError)
          throw new TagwayError('VALIDATION_FAILED', 'cursor is not valid', {
            errors: [{ field: 'querystring.cursor', message: 'is not valid' }],
          });
        throw err;
      }
      if (q.format === 'csv') {
        const lines = [CSV_FIELDS.join(',')];
        for (const r of page.items) lines.push(CSV_FIELDS.map((f) => csvField(r[f])).join(','));
        if (page.next) reply.header('link', `<?cursor=${encodeURIComponent(page.next)}>; rel="next"`);
        reply.header('content-disposition', 'attachment; filename="audit.csv"');
        return reply
          .type('text/csv; charset=utf-8')
          .serializer(String)
          .send(lines.join('\r\n') + '\r\n');
      }
      return { items: page.items.map(item), next: page.next };
    },
  );
};
