import type { AlarmEventType, AlarmState } from '../../../../domain/alarms/state-machine.js';
import type { FastifyRequest } from 'fastify';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { archiveCsv } from './csv.js';
import { CSV_TYPE } from '../../shared/csv.js';
import { acceptLanguage } from '../../shared/language.js';
import { setNextPage } from '../../shared/paging.js';
import { timeParam } from '../../shared/time.js';
import {
  ArchiveQuery,
  ArchiveReply,
  BulkAckBody,
  BulkAckReply,
  ClassesReply,
  CurrentQuery,
  CurrentReply,
  DefinitionParams,
  DefinitionsReply,
  DefinitionView,
  Occurrence,
  OccurrenceParams,
  ShelveBody,
} from './schemas.js';

interface ArchiveQs {
  from?: string;
  to?: string;
  alarm?: string;
  tag?: string;
  class?: string;
  minPriority?: number;
  maxPriority?: number;
  event?: string;
  text?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
  format?: 'json' | 'csv';
}

/**
 * Alarm routes: parsing and encoding over the AlarmService, which checks permissions (with their tag scopes),
 * validates and audits.
 */
export const alarmRoutes: ApiPlugin = async (app, { services }) => {
  const service = services.alarms;
  {
    app.get(
      '/alarms/current',
      {
        schema: {
          summary: 'Current alarms',
          description: 'Every occurrence still active or still waiting for acknowledgement (or reset), newest first.',
          tags: ['alarms'],
          querystring: CurrentQuery,
          response: { 200: CurrentReply, ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const q = request.query as {
          class?: string;
          minPriority?: number;
          maxPriority?: number;
          tag?: string;
          alarm?: string;
          state?: AlarmState;
        };
        return { items: await service.current(actorOf(request), q, languageOf(request)) };
      },
    );

    app.get(
      '/alarms/archive',
      {
        schema: {
          summary: 'Alarm archive',
          description:
            'The journal of every state change, newest first by default. `from` inclusive, `to` exclusive; page with `limit` and the opaque `cursor` from `next` (stable while new events arrive). `format=csv` returns the same rows as RFC 4180 CSV (next cursor in the `X-Next-Cursor` header).',
          tags: ['alarms'],
          querystring: ArchiveQuery,
          response: { 200: ArchiveReply, ...problems(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const q = request.query as ArchiveQs;
        const query = {
          from: timeParam(q.from, 'from'),
          to: timeParam(q.to, 'to'),
          alarm: q.alarm,
          tag: q.tag,
          class: q.class,
          minPriority: q.minPriority,
          maxPriority: q.maxPriority,
          text: q.text,
          order: q.order,
          limit: q.limit,
          cursor: q.cursor,
          event: q.event === undefined ? undefined : (q.event.split(',') as AlarmEventType[]),
        };
        const page = await service.archive(actorOf(request), query, languageOf(request));
        if (q.format === 'csv') {
          setNextPage(reply, request, page.next);
          return reply
            .type(CSV_TYPE)
            .header('content-disposition', 'attachment; filename="alarm-archive.csv"')
            .serializer(String)
            .send(archiveCsv(page.items));
        }
        return page;
      },
    );

    app.post(
      '/alarms/:id/acknowledge',
      {
        schema: {
          summary: 'Acknowledge an alarm occurrence',
          description: 'Recorded with the user. Acknowledging one that needs none, or twice, answers its current state and writes nothing.',
          tags: ['alarms'],
          params: OccurrenceParams,
          response: { 200: Occurrence, ...problems(400, 401, 403, 404, 503, 504) },
        },
      },
      async (request) => {
        return service.acknowledge(actorOf(request), (request.params as { id: number }).id);
      },
    );

    app.post(
      '/alarms/acknowledge',
      {
        schema: {
          summary: 'Acknowledge many alarm occurrences',
          description:
            "Each id succeeds or fails alone (`NOT_FOUND`, or `FORBIDDEN` for an alarm outside the caller's `alarms:acknowledge` scope).",
          tags: ['alarms'],
          body: BulkAckBody,
          response: { 200: BulkAckReply, ...problems(400, 401, 403, 413, 503, 504) },
        },
      },
      async (request) => {
        return { items: await service.acknowledgeMany(actorOf(request), (request.body as { ids: number[] }).ids) };
      },
    );

    app.post(
      '/alarms/:id/reset',
      {
        schema: {
          summary: 'Reset an alarm occurrence',
          description: 'For classes that need a reset, once cleared and acknowledged; otherwise 409 INVALID_STATE.',
          tags: ['alarms'],
          params: OccurrenceParams,
          response: { 200: Occurrence, ...problems(400, 401, 403, 404, 409, 503, 504) },
        },
      },
      async (request) => {
        return service.reset(actorOf(request), (request.params as { id: number }).id);
      },
    );

    app.get(
      '/alarms/definitions',
      {
        schema: { summary: 'Alarm definitions', tags: ['alarms'], response: { 200: DefinitionsReply, ...problems(401, 403) } },
      },
      async (request) => {
        return { items: service.definitions(actorOf(request)) };
      },
    );

    app.get(
      '/alarms/definitions/:name',
      {
        schema: {
          summary: 'One alarm definition',
          tags: ['alarms'],
          params: DefinitionParams,
          response: { 200: DefinitionView, ...problems(401, 403, 404) },
        },
      },
      async (request) => {
        return service.definition(actorOf(request), (request.params as { name: string }).name);
      },
    );

    app.get(
      '/alarms/classes',
      {
        schema: { summary: 'Alarm classes', tags: ['alarms'], response: { 200: ClassesReply, ...problems(401, 403) } },
      },
      async (request) => {
        return { items: service.classes(actorOf(request)) };
      },
    );

    const nameOf = (params: unknown): string => (params as { name: string }).name;
    const action = {
      tags: ['alarms'],
      params: DefinitionParams,
      response: { 200: DefinitionView, ...problems(400, 401, 403, 404, 503, 504) },
    };

    app.post('/alarms/definitions/:name/enable', { schema: { summary: 'Enable an alarm', ...action } }, async (request) => {
      return service.setEnabled(actorOf(request), nameOf(request.params), true);
    });
    app.post(
      '/alarms/definitions/:name/disable',
      {
        schema: {
          summary: 'Disable an alarm',
          description: 'Its condition is ignored until enabled; an active occurrence clears at once.',
          ...action,
        },
      },
      async (request) => {
        return service.setEnabled(actorOf(request), nameOf(request.params), false);
      },
    );
    app.post(
      '/alarms/definitions/:name/shelve',
      {
        schema: {
          summary: 'Shelve an alarm for a while',
          description: 'Treated as disabled until `shelvedUntil`, then judged again.',
          ...action,
          body: ShelveBody,
        },
      },
      async (request) => {
        return service.shelve(actorOf(request), nameOf(request.params), (request.body as { durationMs: number }).durationMs);
      },
    );
    app.post('/alarms/definitions/:name/unshelve', { schema: { summary: 'Unshelve an alarm', ...action } }, async (request) => {
      return service.unshelve(actorOf(request), nameOf(request.params));
    });
  }
};

/** The language asked for: `?lang=`, else the first tag of Accept-Language; undefined for the journal language. */
function languageOf(request: FastifyRequest): string | undefined {
  const q = (request.query as { lang?: string }).lang;
  if (q) return q.toLowerCase();
  return acceptLanguage(request.headers['accept-language']);
}
