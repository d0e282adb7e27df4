import type { FastifyRequest } from 'fastify';
import { compileGlob } from '../../../../domain/glob.js';
import { TagwayError, type ProblemCode } from '../../../../domain/problems.js';
import type { TagState } from '../../../../runtime/tag-engine.js';
import { writeItems } from '../../../../runtime/write-items.js';
import { principalOf, requirePermission } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems, TagNameParams, ValueObject } from '../schemas.js';
import { ListTagsQuery, ListTagsReply, ReadManyBody, ReadManyReply, WriteManyBody, WriteManyReply, WriteValueBody } from './schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const ITEMS_OPEN = Buffer.from('{"items":[');
const ITEMS_CLOSE = Buffer.from(']}');
const bufferAsIs = (b: unknown) => b as string;

function itemError(name: string, code: ProblemCode, message: string): string {
  return `{"name":${JSON.stringify(name)},"error":{"code":"${code}","message":${JSON.stringify(message)}}}`;
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
 * The seed's tag endpoints. Value objects are served from the engine's cached JSON, so a read costs a lookup,
 * a permission check and a string copy; bulk answers are joined from the same cached strings.
 */
export const tagRoutes: ApiPlugin = async (app, { runtime }) => {
  const engine = runtime.tags;
  const maxBulk = runtime.config.maxBulkItems;
  const base = runtime.config.basePath === '/' ? '' : runtime.config.basePath;

  const readable = (request: FastifyRequest, tag: TagState): void => {
    if (!principalOf(request).permissions.allows('tags:read', tag.def.name))
      throw new TagwayError('FORBIDDEN', `You may not read tag '${tag.def.name}'`);
  };
  // A refused write never reaches the engine (whose write observer audits the others), so it is audited here.
  const auditDenied = (user: string, clientAddress: string, tag: string, newValue: unknown): void => {
    runtime.security.audit.record({
      action: 'tag.write',
      user,
      clientAddress,
      target: tag,
      details: { newValue: newValue ?? null },
      result: 'FORBIDDEN',
    });
  };
  const writable = (request: FastifyRequest, tag: TagState, newValue: unknown): void => {
    const p = principalOf(request);
    if (!p.permissions.allows('tags:write', tag.def.name)) {
      auditDenied(p.username, request.ip, tag.def.name, newValue);
      throw new TagwayError('FORBIDDEN', `You may not write tag '${tag.def.name}'`);
    }
  };

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
      const principal = requirePermission(request, 'tags:read');
      const q = request.query as { filter?: string; group?: string; type?: string; limit?: number; cursor?: string };
      const match = q.filter ? compileGlob(q.filter) : undefined;
      const start = q.cursor ? decodeCursor(q.cursor) + 1 : 0;
      const items: unknown[] = [];
      let total = 0;
      let last = -1;
      for (const tag of engine.tags) {
        const d = tag.def;
        if (match && !match(d.name)) continue;
        if (q.group !== undefined && d.group !== q.group) continue;
        if (q.type !== undefined && d.type !== q.type) continue;
        if (!principal.permissions.allows('tags:read', d.name)) continue;
        total++;
        if (tag.index < start || (q.limit !== undefined && items.length >= q.limit)) continue;
        last = tag.index;
        items.push({
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
        });
      }
      const more =
        q.limit !== undefined &&
        items.length === q.limit &&
        engine.tags
          .slice(last + 1)
          .some(
            (t) =>
              (!match || match(t.def.name)) &&
              (q.group === undefined || t.def.group === q.group) &&
              (q.type === undefined || t.def.type === q.type) &&
              principal.permissions.allows('tags:read', t.def.name),
          );
      return q.limit !== undefined ? { items, total, next: more ? encodeCursor(last) : null } : { items, total };
    },
  );

  app.get(
    '/tags/:name/value',
    {
      schema: {
        summary: 'Read one tag',
        tags: ['tags'],
        params: TagNameParams,
        response: { 200: ValueObject, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const tag = engine.require((request.params as { name: string }).name);
      readable(request, tag);
      return reply.type(JSON_TYPE).serializer(String).send(engine.valueJson(tag));
    },
  );

  app.put(
    '/tags/:name/value',
    {
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
      const tag = engine.require((request.params as { name: string }).name);
      writable(request, tag, (request.body as { value: unknown }).value);
      await engine.write(tag, (request.body as { value: unknown }).value, { user: request.principal?.username, clientAddress: request.ip });
      return reply.type(JSON_TYPE).serializer(String).send(engine.valueJson(tag));
    },
  );

  app.post(
    '/tags/values',
    {
      schema: {
        summary: 'Read many tags',
        description: 'Answers in request order; each unknown or forbidden name gets its own error item.',
        tags: ['tags'],
        body: ReadManyBody,
        response: { 200: ReadManyReply, ...problems(400, 401, 403, 413) },
      },
    },
    async (request, reply) => {
      const principal = requirePermission(request, 'tags:read');
      const names = (request.body as { names: string[] }).names;
      if (names.length > maxBulk) throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${maxBulk} names per request; got ${names.length}`);
      // Assembled by copying each tag's cached JSON bytes into one buffer: for 10,000 names this is several times
      // faster than joining strings (which V8 must then flatten and encode again).
      const parts = new Array<Buffer>(names.length);
      let size = ITEMS_OPEN.length + ITEMS_CLOSE.length + Math.max(0, names.length - 1);
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const tag = engine.get(name);
        let b: Buffer;
        if (!tag) b = Buffer.from(itemError(name, 'TAG_NOT_FOUND', `No tag named '${name}'`));
        else if (!principal.permissions.allows('tags:read', name))
          b = Buffer.from(itemError(name, 'FORBIDDEN', `You may not read tag '${name}'`));
        else b = engine.valueBytes(tag);
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
      schema: {
        summary: 'Write many tags',
        description:
          'Each item succeeds or fails alone (status OK or its own error); an invalid body as a whole is refused and nothing is written.',
        tags: ['tags'],
        body: WriteManyBody,
        response: { 200: WriteManyReply, ...problems(400, 401, 403, 413) },
      },
    },
    async (request, reply) => {
      const principal = requirePermission(request, 'tags:write');
      const items = (request.body as { items: Array<{ name: string; value: unknown }> }).items;
      if (items.length > maxBulk) throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${maxBulk} items per request; got ${items.length}`);
      const results = await writeItems(
        engine,
        principal.permissions,
        items,
        { user: principal.username, clientAddress: request.ip },
        (name, value) => auditDenied(principal.username, request.ip, name, value),
      );
      return reply
        .type(JSON_TYPE)
        .serializer(String)
        .send(JSON.stringify({ items: results }));
    },
  );
};
