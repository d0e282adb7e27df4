import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AggregateName } from '../../../../domain/history/aggregates.js';
import { parseInterval } from '../../../../domain/history/interval.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { Clock } from '../../../../domain/clock.js';
import {
  checkQuery,
  DEFAULT_RAW_LIMIT,
  type HistoryQueries,
  type HistoryQuery,
  type HistoryResult,
} from '../../../../runtime/history-query.js';
import type { TagState } from '../../../../runtime/tag-engine.js';
import { principalOf, requirePermission } from '../authenticate.js';
import { CSV_TYPE, toCsv } from '../csv.js';
import type { ApiPlugin } from '../plugin.js';
import { problems, TagNameParams } from '../schemas.js';
import { HistoryFormatQuery, HistoryManyReply, HistoryQueryBody, HistoryQueryString, HistoryReply, MAX_TAGS_PER_QUERY } from './schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_SPAN_MS = 3_600_000;

interface Options {
  from?: string;
  to?: string;
  limit?: number;
  order?: 'asc' | 'desc';
  interval?: string;
  aggregate?: AggregateName;
  boundingValues?: boolean;
  cursor?: string;
  format?: 'json' | 'csv';
}

/** Field names in problems say where they came from (`query.interval`, `body.interval`), as validation does. */
function located(err: unknown, part: 'query' | 'body'): unknown {
  if (!(err instanceof TagwayError) || !err.errors) return err;
  return new TagwayError(err.code, err.message, {
    errors: err.errors.map((e) => ({ ...e, field: `${part}.${e.field}` })),
    headers: err.headers,
  });
}

function toQuery(o: Options, now: number, part: 'query' | 'body'): HistoryQuery {
  try {
    const to = o.to !== undefined ? Date.parse(o.to) : now;
    const from = o.from !== undefined ? Date.parse(o.from) : to - DEFAULT_SPAN_MS;
    const q: HistoryQuery = {
      from,
      to,
      limit: o.limit ?? DEFAULT_RAW_LIMIT,
      order: o.order ?? 'asc',
      cursor: o.cursor,
      intervalMs: o.interval !== undefined ? parseInterval(o.interval) : undefined,
      aggregate: o.aggregate,
      boundingValues: o.boundingValues ?? false,
    };
    checkQuery(q);
    return q;
  } catch (err) {
    throw located(err, part);
  }
}

const RAW_FIELDS = ['timestamp', 'value', 'quality', 'qualityCode'] as const;
const BUCKET_FIELDS = ['timestamp', 'value', 'count'] as const;

function csvRows(r: HistoryResult, name?: string): unknown[][] {
  const prefix = name === undefined ? [] : [name];
  return r.kind === 'raw'
    ? r.items.map((i) => [...prefix, i.timestamp, i.value, i.quality, i.qualityCode])
    : r.items.map((i) => [...prefix, i.timestamp, i.value, i.count]);
}

function csvHeader(aggregated: boolean, withName: boolean): string[] {
  return [...(withName ? ['name'] : []), ...(aggregated ? BUCKET_FIELDS : RAW_FIELDS)];
}

function resultJson(r: HistoryResult): Record<string, unknown> {
  return r.kind === 'raw'
    ? { items: r.items, next: r.next }
    : r.boundingValues
      ? { items: r.items, boundingValues: r.boundingValues }
      : { items: r.items };
}

/**
 * History routes over the runtime's HistoryQueries. `history:read` is tag-scoped: the caller needs it for
 * each tag asked for (globally for the route to make sense at all).
 */
export function historyRoutes(queries: HistoryQueries, clock: Clock): ApiPlugin {
  return async (app) => {
    const tagFor = (request: FastifyRequest, name: string): TagState => {
      const tag = queries.requireTag(name);
      if (!principalOf(request).permissions.allows('history:read', name))
        throw new TagwayError('FORBIDDEN', `You may not read the history of tag '${name}'`);
      queries.requireLogged(tag);
      return tag;
    };

    app.get(
      '/tags/:name/history',
      {
        schema: {
          summary: 'History of one tag',
          description:
            'Raw samples (`from` inclusive, `to` exclusive, paged with `limit` + `cursor`), or with `interval` + `aggregate` one value per ' +
            'bucket aligned to multiples of the interval since the Unix epoch, labelled by its start; an empty bucket is `{value: null, count: 0}`. ' +
            '`avg` is time-weighted with step interpolation, starting from the last sample before each bucket; BAD samples take no part in ' +
            'values (their time is left out of averages) but are counted. `boundingValues=true` adds the last sample before `from` and the first ' +
            'at/after `to` (raw: as first/last items of the whole result; aggregated: in `boundingValues`).',
          tags: ['history'],
          params: TagNameParams,
          querystring: HistoryQueryString,
          response: { 200: HistoryReply, ...problems(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        requirePermission(request, 'history:read');
        const o = request.query as Options;
        const tag = tagFor(request, (request.params as { name: string }).name);
        const q = toQuery(o, clock.now(), 'query');
        let r: HistoryResult;
        try {
          r = await queries.query(tag, q);
        } catch (err) {
          throw located(err, 'query');
        }
        if (o.format === 'csv') {
          // The next page as the alarm archive gives it (X-Next-Cursor) and as a ready link (RFC 8288).
          if (r.kind === 'raw' && r.next !== null)
            reply.header('x-next-cursor', r.next).header('link', `<${nextUrl(request, r.next)}>; rel="next"`);
          return sendCsv(reply, toCsv(csvHeader(r.kind === 'aggregate', false), csvRows(r)), tag.def.name);
        }
        return reply
          .type(JSON_TYPE)
          .serializer(String)
          .send(JSON.stringify(resultJson(r)));
      },
    );

    app.post(
      '/history/query',
      {
        schema: {
          summary: 'History of many tags',
          description:
            `The options of GET /tags/{name}/history for up to ${MAX_TAGS_PER_QUERY} tags at once; each tag answers alone (its items, ` +
            'or its own error: TAG_NOT_FOUND, FORBIDDEN, NOT_FOUND when it logs no history). Raw pages continue with `cursors` {name: next}. ' +
            'With `?format=csv` one CSV with the tag name as first column; there a failing tag fails the request.',
          tags: ['history'],
          querystring: HistoryFormatQuery,
          body: HistoryQueryBody,
          response: { 200: HistoryManyReply, ...problems(400, 401, 403, 404, 413) },
        },
      },
      async (request, reply) => {
        requirePermission(request, 'history:read');
        const body = request.body as Options & { tags: string[]; cursors?: Record<string, string> };
        if (body.tags.length > MAX_TAGS_PER_QUERY)
          throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${MAX_TAGS_PER_QUERY} tags per query; got ${body.tags.length}`);
        const base = toQuery(body, clock.now(), 'body');
        const csv = (request.query as { format?: string }).format === 'csv';
        const items: Record<string, unknown>[] = [];
        const rows: unknown[][] = [];
        for (const name of body.tags) {
          try {
            const tag = tagFor(request, name);
            const r = await queries.query(tag, { ...base, cursor: body.cursors?.[name] });

            if (csv) rows.push(...csvRows(r, name));
            else items.push({ name, ...resultJson(r) });
          } catch (err) {
            if (csv || !(err instanceof TagwayError)) throw located(err, 'body');
            items.push({ name, error: { code: err.code, message: err.message } });
          }
        }
        if (csv)
          return sendCsv(reply, toCsv(csvHeader(base.aggregate !== undefined || base.intervalMs !== undefined, true), rows), 'history');
        return reply.type(JSON_TYPE).serializer(String).send(JSON.stringify({ items }));
      },
    );
  };
}

function nextUrl(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, 'http://x');
  url.searchParams.set('cursor', cursor);
  return url.pathname + url.search;
}

function sendCsv(reply: FastifyReply, text: string, name: string): FastifyReply {
  const file = name.replace(/[^A-Za-z0-9._-]+/g, '_') + '.csv';
  return reply.type(CSV_TYPE).header('content-disposition', `attachment; filename="${file}"`).serializer(String).send(text);
}
