import type { AlarmEventType, AlarmState } from '../../../../domain/alarms/state-machine.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { AlarmEngine } from '../../../../runtime/alarm-engine.js';
import type { FastifyRequest } from 'fastify';
import type { TagValue } from '../../../../domain/tag-types.js';
import type { PermissionSet } from '../../../../domain/permissions.js';
import { encodeCursor, type ArchivePage, type ArchiveQuery as JournalQuery } from '../../../../storage/alarm-journal-repository.js';
import { requirePermission } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { archiveCsv } from './csv.js';
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

function time(field: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t))
    throw new TagwayError('VALIDATION_FAILED', `${field} is not a date-time`, {
      errors: [{ field: `querystring.${field}`, message: 'must be an ISO 8601 date-time' }],
    });
  return t;
}

/**
 * Alarm routes: a thin adapter over the AlarmEngine (current list, responses, definitions) and its journal
 * (archive). Reading needs `alarms:read`; acknowledging, resetting, enabling and shelving need `alarms:acknowledge`.
 */
export function alarmRoutes(engine: AlarmEngine): ApiPlugin {
  return async (app, { runtime }) => {
    const maxBulk = runtime.config.maxBulkItems;

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
        const p = requirePermission(request, 'alarms:read');
        const q = request.query as {
          class?: string;
          minPriority?: number;
          maxPriority?: number;
          tag?: string;
          alarm?: string;
          state?: AlarmState;
        };
        const visible = alarmVisibility(p.permissions);
        const items = engine.current(q);
        return { items: localize(engine, languageOf(request), visible ? items.filter((o) => visible(o.tag)) : items) };
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
        const p = requirePermission(request, 'alarms:read');
        const q = request.query as ArchiveQs;
        const query = {
          from: time('from', q.from),
          to: time('to', q.to),
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
        const visible = alarmVisibility(p.permissions);
        const raw = visible ? await scopedArchivePage(engine, query, visible) : await engine.archive.query(query);
        const page = { ...raw, items: localize(engine, languageOf(request), raw.items) };
        if (q.format === 'csv') {
          if (page.next) reply.header('x-next-cursor', page.next);
          return reply
            .type('text/csv; charset=utf-8')
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
          response: { 200: Occurrence, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const p = requirePermission(request, 'alarms:acknowledge');
        return engine.acknowledge((request.params as { id: number }).id, p.username);
      },
    );

    app.post(
      '/alarms/acknowledge',
      {
        schema: {
          summary: 'Acknowledge many alarm occurrences',
          description: 'Each id succeeds or fails alone (`NOT_FOUND`).',
          tags: ['alarms'],
          body: BulkAckBody,
          response: { 200: BulkAckReply, ...problems(400, 401, 403, 413) },
        },
      },
      async (request) => {
        const p = requirePermission(request, 'alarms:acknowledge');
        const ids = (request.body as { ids: number[] }).ids;
        if (ids.length > maxBulk) throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${maxBulk} ids per request; got ${ids.length}`);
        return { items: await engine.acknowledgeMany(ids, p.username) };
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
          response: { 200: Occurrence, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const p = requirePermission(request, 'alarms:acknowledge');
        return engine.reset((request.params as { id: number }).id, p.username);
      },
    );

    app.get(
      '/alarms/definitions',
      {
        schema: { summary: 'Alarm definitions', tags: ['alarms'], response: { 200: DefinitionsReply, ...problems(401, 403) } },
      },
      async (request) => {
        requirePermission(request, 'alarms:read');
        return { items: engine.definitions() };
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
        requirePermission(request, 'alarms:read');
        return engine.definition((request.params as { name: string }).name);
      },
    );

    app.get(
      '/alarms/classes',
      {
        schema: { summary: 'Alarm classes', tags: ['alarms'], response: { 200: ClassesReply, ...problems(401, 403) } },
      },
      async (request) => {
        requirePermission(request, 'alarms:read');
        return { items: engine.classList() };
      },
    );

    const nameOf = (params: unknown): string => (params as { name: string }).name;
    const action = { tags: ['alarms'], params: DefinitionParams, response: { 200: DefinitionView, ...problems(400, 401, 403, 404) } };

    app.post('/alarms/definitions/:name/enable', { schema: { summary: 'Enable an alarm', ...action } }, async (request) => {
      requirePermission(request, 'alarms:acknowledge');
      return engine.setEnabled(nameOf(request.params), true);
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
        requirePermission(request, 'alarms:acknowledge');
        return engine.setEnabled(nameOf(request.params), false);
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
        requirePermission(request, 'alarms:acknowledge');
        return engine.shelve(nameOf(request.params), (request.body as { durationMs: number }).durationMs);
      },
    );
    app.post('/alarms/definitions/:name/unshelve', { schema: { summary: 'Unshelve an alarm', ...action } }, async (request) => {
      requirePermission(request, 'alarms:acknowledge');
      return engine.unshelve(nameOf(request.params));
    });
  };
}

/**
 * `alarms:read` scoped by tag globs: a caller sees the alarms of the tags the grant covers (and alarms bound to
 * no tag, such as connection-lost). Undefined when the grant covers every tag, so the common case costs nothing.
 */
function alarmVisibility(permissions: PermissionSet): ((tag: string | null | undefined) => boolean) | undefined {
  if (permissions.unscoped('alarms:read')) return undefined;
  return (tag) => !tag || permissions.allows('alarms:read', tag);
}

/**
 * One archive page of visible events: reads journal pages until `limit` visible events are found (or the
 * journal ends), and answers a keyset cursor positioned after the last event returned.
 */
async function scopedArchivePage(
  engine: AlarmEngine,
  query: JournalQuery,
  visible: (tag: string | null | undefined) => boolean,
): Promise<ArchivePage> {
  const limit = query.limit ?? 100;
  const order = query.order ?? 'desc';
  const items: ArchivePage['items'] = [];
  let cursor = query.cursor;
  for (let round = 0; round < 1000; round++) {
    const page = await engine.archive.query({ ...query, cursor, limit: Math.max(limit, 500) });
    for (const e of page.items) {
      if (!visible(e.tag)) continue;
      items.push(e);
      if (items.length === limit) return { items, next: encodeCursor(e.eventId, order) };
    }
    if (!page.next) return { items, next: null };
    cursor = page.next;
  }
  const last = items[items.length - 1];
  return { items, next: last ? encodeCursor(last.eventId, order) : (cursor ?? null) };
}

/** The language asked for: `?lang=`, else the first tag of Accept-Language; undefined for the journal language. */
function languageOf(request: FastifyRequest): string | undefined {
  const q = (request.query as { lang?: string }).lang;
  if (q) return q.toLowerCase();
  const h = request.headers['accept-language'];
  if (typeof h !== 'string') return undefined;
  const first = h.split(',')[0]!.split(';')[0]!.trim().toLowerCase();
  return /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/.test(first) ? first : undefined;
}

/** Occurrences or archive events with `text` in the asked language, where the alarm has one. */
function localize<T extends { alarm: string; text: string; value: unknown }>(
  engine: AlarmEngine,
  lang: string | undefined,
  items: T[],
): T[] {
  if (!lang) return items;
  return items.map((i) => {
    const text = engine.textIn(i.alarm, lang, i.value as TagValue | null);
    return text === undefined ? i : { ...i, text };
  });
}
