import { TagwayError, type ItemError } from '../../../domain/problems.js';
import type { TagState } from '../../../runtime/tag-engine.js';
import { isFailure } from '../../../services/tag-service.js';
import { field, names, requireObject } from './body.js';
import { DATA_TYPE, DATA_TYPE_NAME, NO_DATA_TYPE } from './data-types.js';
import { errorBody, errorcodeOf, invalid } from './errors.js';
import { normaliseName } from './names.js';
import { page, pagingOf } from './paging.js';
import { RawJson, type Call, type RouteDef } from './router.js';

/**
 * `tagManagement`: connections, tag groups, variables (tags), their values. Structure types do not exist in
 * Tagway: their lists are empty and a named one is not found (docs/wincc-classic.md).
 */

/** One value as classic WinCC answers it (bulk read items, single read). */
export interface ValueItem {
  variableName: string;
  dataType: number;
  value: unknown;
  timestamp: string | null;
  qualityCode: number;
  error: string;
}

export function valueItem(tag: TagState): ValueItem {
  return {
    variableName: tag.def.name,
    dataType: DATA_TYPE[tag.def.type],
    value: tag.value,
    timestamp: new Date(tag.timestamp).toISOString(),
    qualityCode: tag.quality,
    error: '',
  };
}

/**
 * A value item's JSON, kept per tag until its value, quality or time changes: reads vastly outnumber changes, and
 * a 1,000-name bulk read then joins cached strings instead of building and serialising 1,000 objects. Weakly
 * held: a tag removed by a reload takes its entry with it.
 */
const itemJson = new WeakMap<TagState, { value: unknown; quality: number; timestamp: number; json: string }>();

function valueItemJson(tag: TagState): string {
  const hit = itemJson.get(tag);
  if (hit && hit.value === tag.value && hit.quality === tag.quality && hit.timestamp === tag.timestamp) return hit.json;
  const json = JSON.stringify(valueItem(tag));
  itemJson.set(tag, { value: tag.value, quality: tag.quality, timestamp: tag.timestamp, json });
  return json;
}

function failedItem(name: string, error: ItemError): ValueItem {
  return { variableName: name, dataType: NO_DATA_TYPE, value: null, timestamp: null, qualityCode: 0, error: error.message };
}

export function variableItem(tag: TagState): Record<string, unknown> {
  const d = tag.def;
  const type = DATA_TYPE[d.type];
  return {
    variableName: d.name,
    dataType: type,
    dataTypeName: DATA_TYPE_NAME[type],
    tagwayType: d.type,
    connectionName: d.connection,
    groupName: d.group ?? '',
    unit: d.unit ?? '',
    description: d.description ?? '',
    access: d.access,
    ...(d.min !== undefined ? { min: d.min } : {}),
    ...(d.max !== undefined ? { max: d.max } : {}),
    ...(d.maxLength !== undefined ? { maxLength: d.maxLength } : {}),
  };
}

function connectionItem(c: {
  name: string;
  driver: string;
  description?: string | undefined;
  state: string;
  since: string;
  lastError: string | null;
  tagCount: number;
}) {
  return {
    connectionName: c.name,
    driver: c.driver,
    description: c.description ?? '',
    state: c.state,
    since: c.since,
    lastError: c.lastError ?? '',
    variableCount: c.tagCount,
  };
}

/** Tag groups of the tags the caller may read, in first-seen order, each with its count. */
function groups(call: Call): Map<string, { groupName: string; variableCount: number; connectionNames: string[] }> {
  const out = new Map<string, { groupName: string; variableCount: number; connectionNames: string[] }>();
  for (const t of call.services.tags.list(call.actor).tags) {
    const g = t.def.group;
    if (g === undefined) continue;
    let e = out.get(g);
    if (!e) out.set(g, (e = { groupName: g, variableCount: 0, connectionNames: [] }));
    e.variableCount++;
    if (!e.connectionNames.includes(t.def.connection)) e.connectionNames.push(t.def.connection);
  }
  return out;
}

function notFound(what: string, name: string): TagwayError {
  return new TagwayError('NOT_FOUND', `No ${what} named '${name}'`);
}

/** A single write's answer: HTTP 200 with `errorcode` 0, or the item's own errorcode (inferred from clients). */
function writeAnswer(name: string, error?: ItemError) {
  return error ? { variableName: name, ...errorBody(error) } : { variableName: name, errorcode: 0, code: 'OK', error: '' };
}

export const tagManagementRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: 'tagManagement/Connections',
    handler: (c) => page(c.services.connections.list(c.actor).map(connectionItem), pagingOf(c.query), c.reply),
  },
  {
    method: 'GET',
    path: 'tagManagement/Connection/:name',
    handler: (c) => connectionItem(c.services.connections.get(c.actor, c.params.name!)),
  },
  { method: 'GET', path: 'tagManagement/Groups', handler: (c) => page([...groups(c).values()], pagingOf(c.query), c.reply) },
  {
    method: 'GET',
    path: 'tagManagement/Group/:name',
    handler: (c) => {
      const g = groups(c).get(c.params.name!);
      if (!g) throw notFound('tag group', c.params.name!);
      return g;
    },
  },
  { method: 'GET', path: 'tagManagement/StructureTypes', handler: (c) => page([], pagingOf(c.query), c.reply) },
  {
    method: 'GET',
    path: 'tagManagement/StructureType/:name',
    handler: (c) => {
      throw notFound('structure type', c.params.name!);
    },
  },
  { method: 'GET', path: 'tagManagement/StructureVariables', handler: (c) => page([], pagingOf(c.query), c.reply) },
  {
    method: 'POST',
    path: 'tagManagement/StructureVariables',
    handler: (c) =>
      names(c.body, 'typeNames').map((typeName) => ({
        typeName,
        variables: [],
        ...errorBody({ code: 'NOT_FOUND', message: `No structure type named '${typeName}'` }),
      })),
  },
  {
    method: 'GET',
    path: 'tagManagement/StructureVariable/:type',
    handler: (c) => {
      throw notFound('structure type', c.params.type!);
    },
  },
  {
    method: 'GET',
    path: 'tagManagement/variables',
    handler: (c) => page(c.services.tags.list(c.actor).tags.map(variableItem), pagingOf(c.query), c.reply),
  },
  {
    method: 'GET',
    path: 'tagManagement/variable/:name',
    handler: (c) => variableItem(c.services.tags.read(c.actor, c.params.name!)),
  },
  {
    method: 'GET',
    path: 'tagManagement/Value/:name',
    handler: (c) => {
      const name = c.params.name!;
      try {
        return valueItem(c.services.tags.read(c.actor, name));
      } catch (err) {
        if (!(err instanceof TagwayError) || (err.code !== 'TAG_NOT_FOUND' && err.code !== 'FORBIDDEN')) throw err;
        // Both shapes: the value item a client reads, and the error model's fields.
        c.reply.code(err.status);
        return { ...failedItem(name, err), ...errorBody(err) };
      }
    },
  },
  {
    method: 'PUT',
    path: 'tagManagement/Value/:name',
    handler: async (c) => {
      const name = c.params.name!;
      const body = requireObject(c.body, 'with "value"');
      const value = field(body, 'value');
      if (value === undefined) throw invalid('The body needs "value"');
      try {
        await c.services.tags.write(c.actor, name, value);
        return writeAnswer(name);
      } catch (err) {
        if (!(err instanceof TagwayError) || errorcodeOf(err.code) === 99) throw err;
        return writeAnswer(name, err);
      }
    },
  },
  {
    method: 'POST',
    path: 'tagManagement/Values',
    handler: (c) => {
      const list = names(c.body, 'variableNames');
      const parts = c.services.tags
        .readMany(c.actor, list)
        .map((r, i) => (isFailure(r) ? JSON.stringify(failedItem(list[i]!, r.error)) : valueItemJson(r)));
      return new RawJson(`[${parts.join(',')}]`);
    },
  },
  {
    method: 'PUT',
    path: 'tagManagement/Values',
    handler: async (c) => {
      if (!Array.isArray(c.body)) throw invalid('The body must be a JSON array of {"variableName", "value"}');
      const items = c.body.map((item: unknown, i) => {
        const name = field(item, 'variableName');
        if (typeof name !== 'string') throw invalid(`item ${i} needs "variableName" (a string)`);
        return { name: normaliseName(name), value: field(item, 'value') };
      });
      // A missing value is that item's own failure, not the whole request's.
      const results = await c.services.tags.writeMany(c.actor, items, { perItem: true });
      return results.map((r) => writeAnswer(r.name, 'error' in r ? r.error : undefined));
    },
  },
];
