import { TagwayError, type ItemError } from '../../../../domain/problems.js';
import type { TagType } from '../../../../domain/tag-types.js';
import { isFailure } from '../../../../services/tag-service.js';
import { actorOf } from '../authenticate.js';
import { bulkAdmission } from '../../shared/bulk-admission.js';
import type { ApiPlugin } from '../plugin.js';
import { problems, TagNameParams, ValueObject } from '../schemas.js';
import { ListTagsQuery, ListTagsReply, ReadManyBody, ReadManyReply, WriteManyBody, WriteManyReply, WriteValueBody } from './schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const ITEMS_OPEN = Buffer.from('{"items":[');
const ITEMS_CLOSE = Buffer.from(']}');
const bufferAsIs = (b: unknown) => b as string;

function itemError(name: string, error: ItemError): string {
  return `{"name":${JSON.stringify(name)},"error":{"code":"${error.code}","message":${JSON.stringify(error.message)}}}`;
}

function encodeCursor(index: number): string {
  return Buffer.from(`t${index}`).toString('base64url');
}
function decodeCursor(cursor: string): number {
  const s = Buffer.from(cursor, 'base64url').toString();
  if (!/^t\d{1,9}$/.test(s))
    throw new TagwayError('VALIDATION_FAILED', 'The cursor is not one this server gave out', {
      errors: [{ field: 'query.cursor', message: 'is invalid' }],
    });
  return Number(s.slice(1));
}

/**
 * The tag endpoints: parsing, the TagService, encoding. Value objects are served from the engine's cached JSON,
 * so a read costs a lookup, a permission check and a string copy; bulk answers are joined from the same cached bytes.
 */
export const tagRoutes: ApiPlugin = async (app, { runtime, services, answerJson }) => {
  const engine = runtime.tags;
  const tags = services.tags;
  const base = runtime.config.basePath === '/' ? '' : runtime.config.basePath;

  // A bulk request holds one of its principal's bulk slots from before its body is read until its answer has left.
  const admitBulk = bulkAdmission(tags, (request) => actorOf(request));

  app.get(
    '/tags',
    {
      schema: {
        summary: 'List tags',
        description: 'All tags the caller may read, in project order; filter by name glob, group or type; page with limit + cursor.',
        tags: ['tags'],
        querystring: ListTagsQuery,
        response: { 200: ListTagsReply, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query as { filter?: string; group?: string; type?: TagType; limit?: number; cursor?: string };
      const page = tags.list(actorOf(request), { ...q, after: q.cursor ? decodeCursor(q.cursor) : undefined });
      const items = page.tags.map(({ def: d }) => ({
        name: d.name,
        type: d.type,
        unit: d.unit,
        description: d.description,
        access: d.access,
        group: d.group,
        connection: d.connection,
        min: d.min,
        max: d.max,
        history: d.history ? true : undefined,
        links: { value: `${base}/tags/${encodeURIComponent(d.name)}/value` },
      }));
      if (page.next === undefined) return { items, total: page.total };
      return { items, total: page.total, next: page.next === null ? null : encodeCursor(page.next) };
    },
  );

  // The hottest read: answered directly (direct-answer.ts) and synchronously (no promise per request); a thrown
  // error takes fastify's error path as from any handler.
  app.get(
    '/tags/:name/value',
    {
      config: { directAnswer: true },
      schema: {
        summary: 'Read one tag',
        tags: ['tags'],
        params: TagNameParams,
        response: { 200: ValueObject, ...problems(401, 403, 404) },
      },
    },
    (request, reply) => {
      const tag = tags.read(actorOf(request), (request.params as { name: string }).name);
      answerJson(reply, engine.valueJson(tag));
    },
  );

  app.put(
    '/tags/:name/value',
    {
      // Answered like the single read (direct-answer.ts): a single write is the other hot path of HMIs.
      config: { directAnswer: true },
      schema: {
        summary: 'Write one tag',
        description:
          'Checked strictly against the tag type and its min/max. Answers once the device (or storage, for internal tags) accepted the value.',
        tags: ['tags'],
        params: TagNameParams,
        body: WriteValueBody,
        response: { 200: ValueObject, ...problems(400, 401, 403, 404, 409, 413, 422, 503, 504) },
      },
    },
    async (request, reply) => {
      const tag = await tags.write(actorOf(request), (request.params as { name: string }).name, (request.body as { value: unknown }).value);
      answerJson(reply, engine.valueJson(tag));
    },
  );

  app.post(
    '/tags/values',
    {
      preParsing: admitBulk,
      schema: {
        summary: 'Read many tags',
        description: 'Answers in request order; each unknown name, and each name the caller may not read, gets its own TAG_NOT_FOUND item.',
        tags: ['tags'],
        body: ReadManyBody,
        response: { 200: ReadManyReply, ...problems(400, 401, 403, 413, 429) },
      },
    },
    async (request, reply) => {
      const names = (request.body as { names: string[] }).names;
      const results = tags.readMany(actorOf(request), names);
      // Assembled by copying each tag's cached JSON bytes into one buffer: for 10,000 names this is several times
      // faster than joining strings (which V8 must then flatten and encode again).
      const parts = new Array<Buffer>(results.length);
      let size = ITEMS_OPEN.length + ITEMS_CLOSE.length + Math.max(0, results.length - 1);
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        const b = isFailure(r) ? Buffer.from(itemError(r.name, r.error)) : engine.valueBytes(r);
        parts[i] = b;
        size += b.length;
      }
      const out = Buffer.allocUnsafe(size);
      out.set(ITEMS_OPEN, 0);
      let at = ITEMS_OPEN.length;
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) out[at++] = 0x2c; // ','
        out.set(parts[i]!, at);
        at += parts[i]!.length;
      }
      out.set(ITEMS_CLOSE, at);
      return reply.type(JSON_TYPE).serializer(bufferAsIs).send(out);
    },
  );

  app.put(
    '/tags/values',
    {
      preParsing: admitBulk,
      schema: {
        summary: 'Write many tags',
        description:
          'Each item succeeds or fails alone (status OK or its own error); an invalid body as a whole is refused and nothing is written.',
        tags: ['tags'],
        body: WriteManyBody,
        response: { 200: WriteManyReply, ...problems(400, 401, 403, 413, 429) },
      },
    },
    async (request, reply) => {
      const items = (request.body as { items: Array<{ name: string; value: unknown }> }).items;
      const results = await tags.writeMany(actorOf(request), items);
      return reply
        .type(JSON_TYPE)
        .serializer(String)
        .send(JSON.stringify({ items: results }));
    },
  );
};
