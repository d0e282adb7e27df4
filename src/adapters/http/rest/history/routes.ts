import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AggregateName } from '../../../../domain/history/aggregates.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { HistoryOptions } from '../../../../services/history-service.js';
import { actorOf } from '../authenticate.js';
import { ChunkedBody } from '../../shared/chunked-body.js';
import { CSV_TYPE, csvFileName } from '../../shared/csv.js';
import { setNextPage } from '../../shared/paging.js';
import { timeParam, type ParamPart } from '../../shared/time.js';
import type { ApiPlugin } from '../plugin.js';
import { problems, TagNameParams } from '../schemas.js';
import { CsvHistorySink, JsonHistorySink } from './encoders.js';
import { HistoryFormatQuery, HistoryManyReply, HistoryQueryBody, HistoryQueryString, HistoryReply, MAX_TAGS_PER_QUERY } from './schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';

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
    errors: err.errors.map((e) => ({ ...e, field: e.field.startsWith(`${part}.`) ? e.field : `${part}.${e.field}` })),
    headers: err.headers,
  });
}

function options(o: Options, part: ParamPart): HistoryOptions {
  return {
    from: timeParam(o.from, 'from', part),
    to: timeParam(o.to, 'to', part),
    limit: o.limit,
    order: o.order,
    interval: o.interval,
    aggregate: o.aggregate,
    boundingValues: o.boundingValues,
  };
}

/** Sends the streamed body with its content type and headers: the answer starts. */
type Start = (type: string, headers?: Record<string, string>) => void;

/**
 * Runs a streamed answer: the body starts when the service has checked everything (`start`, from the sink's
 * `begin`); a failure before that is an ordinary problem answer, one after it can only cut the connection.
 */
async function streamed(
  request: FastifyRequest,
  reply: FastifyReply,
  part: 'query' | 'body',
  run: (body: ChunkedBody, start: Start) => Promise<void>,
): Promise<FastifyReply> {
  const body = new ChunkedBody();
  let started = false;
  const start: Start = (type, headers = {}) => {
    started = true;
    reply.type(type).headers(headers).send(body);
  };
  // A client that hangs up ends the body, which makes the service's next write fail: it stops reading.
  reply.raw.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  try {
    await run(body, start);
    body.finish();
  } catch (err) {
    if (!started) throw located(err, part);
    if (body.destroyed) request.log.debug({ err }, 'history answer abandoned by the client');
    // Fastify logs the error and drops the connection: the client sees a truncated body, never a wrong one.
    else body.destroy(err as Error);
  }
  return reply;
}

/**
 * History routes: parsing and encoding around the HistoryService, which checks `history:read` per tag, bounds the
 * request and streams the answer here in chunks.
 */
export const historyRoutes: ApiPlugin = async (app, { services }) => {
  const service = services.history;
  {
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
            'at/after `to` (raw: as first/last items of the whole result; aggregated: in `boundingValues`). ' +
            'A request that could answer more samples than the server allows is refused with 413; a user has a bounded number of history ' +
            'queries in flight (429 beyond).',
          tags: ['history'],
          params: TagNameParams,
          querystring: HistoryQueryString,
          response: { 200: HistoryReply, ...problems(400, 401, 403, 404, 413, 429) },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const o = request.query as Options;
        const name = (request.params as { name: string }).name;
        const input = { ...options(o, 'query'), cursor: o.cursor };
        if (o.format === 'csv') {
          // The next page (X-Next-Cursor, Link) is a header, known only once the page is read: this one page (at
          // most `limit` rows of text) is gathered before it is sent.
          const parts: string[] = [];
          const sink = new CsvHistorySink(
            (t) => void parts.push(t),
            false,
            () => {},
          );
          try {
            await service.query(actor, name, input, sink);
          } catch (err) {
            throw located(err, 'query');
          }
          setNextPage(reply, request, sink.next);
          return reply
            .type(CSV_TYPE)
            .header('content-disposition', `attachment; filename="${csvFileName(name)}"`)
            .serializer(String)
            .send(parts.join(''));
        }
        return streamed(request, reply, 'query', async (body, start) => {
          const sink = new JsonHistorySink(
            (t) => body.write(t),
            false,
            () => start(JSON_TYPE),
          );
          await service.query(actor, name, input, sink);
        });
      },
    );

    app.post(
      '/history/query',
      {
        schema: {
          summary: 'History of many tags',
          description:
            `The options of GET /tags/{name}/history for up to ${MAX_TAGS_PER_QUERY} tags at once; each tag answers alone (its items, ` +
            'or its own error: TAG_NOT_FOUND, FORBIDDEN, NOT_FOUND when it logs no history), a tag named twice once. Raw pages continue ' +
            'with `cursors` {name: next}. With `?format=csv` one CSV with the tag name as first column; there a failing tag fails the ' +
            "request. The samples the query could answer (tags × `limit`, or tags × buckets) must fit the server's budget (413 otherwise); " +
            'the answer is streamed.',
          tags: ['history'],
          querystring: HistoryFormatQuery,
          body: HistoryQueryBody,
          response: { 200: HistoryManyReply, ...problems(400, 401, 403, 404, 413, 429) },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const body = request.body as Options & { tags: string[]; cursors?: Record<string, string> };
        const csv = (request.query as { format?: string }).format === 'csv';
        const input = { ...options(body, 'body'), tags: body.tags, cursors: body.cursors, failOnTagError: csv };
        return streamed(request, reply, 'body', async (out, start) => {
          const write = (t: string) => out.write(t);
          if (csv) {
            const sink = new CsvHistorySink(write, true, () =>
              start(CSV_TYPE, { 'content-disposition': 'attachment; filename="history.csv"' }),
            );
            await service.queryMany(actor, input, sink);
            return;
          }
          const sink = new JsonHistorySink(write, true, () => start(JSON_TYPE));
          await service.queryMany(actor, input, sink);
          await sink.finish();
        });
      },
    );
  }
};
