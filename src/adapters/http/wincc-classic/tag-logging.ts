import { parseInterval } from '../../../domain/history/interval.js';
import { TagwayError, type ItemError } from '../../../domain/problems.js';
import { timeParam } from '../../../domain/time-param.js';
import { DEFAULT_WINCC_ARCHIVE_NAME } from '../../../project/types.js';
import { DEFAULT_CYCLIC_INTERVAL_MS } from '../../../runtime/historian.js';
import type { RawItem } from '../../../runtime/history-query.js';
import { MAX_RAW_LIMIT } from '../../../runtime/history-query.js';
import type { TagState } from '../../../runtime/tag-engine.js';
import { CollectingSink, MAX_TAGS_PER_QUERY } from '../../../services/history-service.js';
import { field, names, requireObject } from './body.js';
import { DATA_TYPE } from './data-types.js';
import { invalid } from './errors.js';
import { normaliseName } from './names.js';
import { page, pagingOf } from './paging.js';
import type { Call, RouteDef } from './router.js';

/**
 * `tagLogging`: one archive (the project's `wincc.archiveName`, default `Tagway`) holding every history-logged tag
 * the caller may read the history of; timers are the historian's logging cycles. Values come from the history
 * service (its permission check, budgets and concurrency limit).
 */

export const DEFAULT_MAX_VALUES = 1000;
const HOUR_MS = 3_600_000;

function archiveName(c: Call): string {
  return c.runtime.project.wincc?.archiveName ?? DEFAULT_WINCC_ARCHIVE_NAME;
}

/** Archive names compare as WinCC's (Windows) names do: case-insensitively. */
function requireArchive(c: Call, name: string): string {
  const a = archiveName(c);
  if (a.toLowerCase() !== name.toLowerCase())
    throw new TagwayError('NOT_FOUND', `No tag logging archive named '${name}'; this server has '${a}'`);
  return a;
}

function cycleOf(tag: TagState): number {
  const h = tag.def.history;
  return !h || h.mode === 'onChange' ? 0 : (h.intervalMs ?? DEFAULT_CYCLIC_INTERVAL_MS);
}

/** `OnChange` for change-driven logging, else the cycle in words (`500 ms`, `1 s`, `5 min`, `1 h`). */
export function timerName(cycleMs: number): string {
  if (cycleMs === 0) return 'OnChange';
  if (cycleMs % HOUR_MS === 0) return `${cycleMs / HOUR_MS} h`;
  if (cycleMs % 60_000 === 0) return `${cycleMs / 60_000} min`;
  if (cycleMs % 1000 === 0) return `${cycleMs / 1000} s`;
  return `${cycleMs} ms`;
}

function variableItem(c: Call, tag: TagState): Record<string, unknown> {
  const h = tag.def.history!;
  const cycle = cycleOf(tag);
  return {
    variableName: tag.def.name,
    archiveName: archiveName(c),
    dataType: DATA_TYPE[tag.def.type],
    loggingMode: h.mode,
    timerName: timerName(cycle),
    cycleMs: cycle,
    ...(h.deadband !== undefined ? { deadband: h.deadband } : {}),
    ...(h.retentionDays !== undefined ? { retentionDays: h.retentionDays } : {}),
  };
}

function archiveItem(c: Call): Record<string, unknown> {
  return { archiveName: archiveName(c), archiveType: 'TagLogging', variableCount: c.services.history.loggedTags(c.actor).length };
}

/** The timers of the tags the caller sees: one per distinct logging cycle, `OnChange` first. */
function timers(c: Call): Array<{ timerName: string; cycleMs: number; variableCount: number }> {
  const byCycle = new Map<number, number>();
  for (const t of c.services.history.loggedTags(c.actor)) {
    const h = t.def.history!;
    if (h.mode !== 'cyclic') byCycle.set(0, (byCycle.get(0) ?? 0) + 1);
    if (h.mode !== 'onChange') {
      const cycle = cycleOf(t);
      byCycle.set(cycle, (byCycle.get(cycle) ?? 0) + 1);
    }
  }
  return [...byCycle.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([cycleMs, variableCount]) => ({ timerName: timerName(cycleMs), cycleMs, variableCount }));
}

/** `2025-06-01T10:00:00Z`, any ISO 8601 offset, or WinCC's `2025-06-01 10:00:00.000` (no zone: UTC). */
export function archiveTime(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string') throw invalid(`${name} must be an ISO 8601 time`);
  const local = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) throw invalid(`${name} must be an ISO 8601 time`);
  return timeParam(local ? `${v.replace(' ', 'T')}Z` : v, name, 'body');
}

/** `range`: seconds (a number) or a duration (`1h`, `PT15M`). */
function rangeMs(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.round(v * 1000);
  if (typeof v === 'string') return parseInterval(v);
  throw invalid('range must be seconds (a number > 0) or a duration such as PT1H');
}

function maxValuesOf(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_RAW_LIMIT)
    throw invalid(`maxValues must be a whole number 1…${MAX_RAW_LIMIT}`);
  return n;
}

interface ValuesRequest {
  archive: string;
  name: string;
  /** Epoch ms, both inclusive (WinCC's `timeTo` includes its own time). */
  from: number;
  to: number;
  maxValues: number;
  /** This item fails on its own (an unknown archive). */
  error?: ItemError;
}

/**
 * A window from `timeFrom`, `timeTo` and `range`: a range counts back from `timeTo` (or now), or forward from
 * `timeFrom`; without either time the last hour up to now.
 */
function window(spec: { timeFrom?: unknown; timeTo?: unknown; range?: unknown }, now: number): { from: number; to: number } {
  let from = archiveTime(spec.timeFrom, 'timeFrom');
  let to = archiveTime(spec.timeTo, 'timeTo');
  const range = rangeMs(spec.range);
  if (range !== undefined) {
    if (from !== undefined && to === undefined) to = from + range;
    else if (from === undefined) from = (to ?? now) - range;
  }
  to ??= now;
  from ??= to - HOUR_MS;
  if (from > to) throw invalid('timeFrom must not be after timeTo');
  return { from, to };
}

export interface ArchiveValues {
  archiveName: string;
  variableName: string;
  error: string;
  values: Array<{ value: unknown; timestamp: string; qualityCode: number }>;
}

/**
 * Values of many archive variables, each with its own window and `maxValues`, answered in request order. Items
 * with the same window share one history query. The history service bounds each query; the sum of one request's
 * `maxValues` is bounded here by the same setting (`--max-history-samples`).
 */
async function readValues(c: Call, requests: ValuesRequest[]): Promise<ArchiveValues[]> {
  if (requests.length > MAX_TAGS_PER_QUERY)
    throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${MAX_TAGS_PER_QUERY} variables per request; got ${requests.length}`);
  const total = requests.reduce((n, r) => n + r.maxValues, 0);
  if (total > c.runtime.config.maxHistorySamples)
    throw new TagwayError(
      'PAYLOAD_TOO_LARGE',
      `This request could answer ${total} values; at most ${c.runtime.config.maxHistorySamples}. Ask for fewer variables or a smaller maxValues.`,
    );
  const keyOf = (r: ValuesRequest) => `${r.from}|${r.to}|${r.maxValues}`;
  const groups = new Map<string, { from: number; to: number; limit: number; names: string[] }>();
  for (const r of requests) {
    if (r.error) continue;
    const key = keyOf(r);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { from: r.from, to: r.to, limit: r.maxValues, names: [] }));
    if (!g.names.includes(r.name)) g.names.push(r.name);
  }
  const answers = new Map<string, ArchiveValues['values'] | ItemError>();
  for (const [key, g] of groups) {
    const sink = new CollectingSink();
    // The service's `to` is exclusive.
    await c.services.history.queryMany(c.actor, { tags: g.names, from: g.from, to: g.to + 1, limit: g.limit, order: 'asc' }, sink);
    for (const t of sink.tags)
      answers.set(
        `${key}|${t.name}`,
        'error' in t
          ? t.error
          : (t.items as RawItem[]).map((i) => ({ value: i.value, timestamp: i.timestamp, qualityCode: i.qualityCode })),
      );
  }
  return requests.map((r) => {
    const a = r.error ?? answers.get(`${keyOf(r)}|${r.name}`) ?? { code: 'TAG_NOT_FOUND', message: `No tag named '${r.name}'` };
    if ('code' in a) return { archiveName: r.archive, variableName: r.name, error: a.message, values: [] };
    return { archiveName: r.archive, variableName: r.name, error: '', values: a };
  });
}

function simpleRequests(c: Call, archive: string, list: string[], maxValues: number): ValuesRequest[] {
  const { from, to } = window({ timeFrom: c.query.timefrom, timeTo: c.query.timeto, range: c.query.range }, c.runtime.clock.now());
  return list.map((name) => ({ archive, name, from, to, maxValues }));
}

/** `{"archives":[{"name","variables":[{"name","timeFrom","timeTo","range","maxValues"}]}]}` */
function archiveForm(c: Call, archives: unknown, defaultMax: number): ValuesRequest[] {
  if (!Array.isArray(archives)) throw invalid('"archives" must be an array');
  const out: ValuesRequest[] = [];
  const ours = archiveName(c);
  const now = c.runtime.clock.now();
  archives.forEach((a, i) => {
    const name = field(a, 'name');
    if (typeof name !== 'string') throw invalid(`archives[${i}] needs "name"`);
    const variables = field(a, 'variables');
    if (!Array.isArray(variables)) throw invalid(`archives[${i}] needs "variables": [...]`);
    const archive = normaliseName(name);
    const known = archive.toLowerCase() === ours.toLowerCase();
    variables.forEach((v, k) => {
      const vname = typeof v === 'string' ? v : field(v, 'name');
      if (typeof vname !== 'string') throw invalid(`archives[${i}].variables[${k}] needs "name"`);
      const spec = typeof v === 'string' ? {} : { timeFrom: field(v, 'timeFrom'), timeTo: field(v, 'timeTo'), range: field(v, 'range') };
      const { from, to } = window(spec, now);
      const maxValues = maxValuesOf(typeof v === 'string' ? undefined : field(v, 'maxValues'), defaultMax);
      out.push({
        archive: known ? ours : archive,
        name: normaliseName(vname),
        from,
        to,
        maxValues,
        ...(known ? {} : { error: { code: 'NOT_FOUND', message: `No tag logging archive named '${archive}'; this server has '${ours}'` } }),
      });
    });
  });
  return out;
}

export const tagLoggingRoutes: RouteDef[] = [
  { method: 'GET', path: 'tagLogging/Archives', handler: (c) => page([archiveItem(c)], pagingOf(c.query), c.reply) },
  {
    method: 'GET',
    path: 'tagLogging/Archive/:archive',
    handler: (c) => {
      requireArchive(c, c.params.archive!);
      return archiveItem(c);
    },
  },
  {
    method: 'GET',
    path: 'tagLogging/Archive/:archive/Variables',
    handler: (c) => {
      requireArchive(c, c.params.archive!);
      return page(
        c.services.history.loggedTags(c.actor).map((t) => variableItem(c, t)),
        pagingOf(c.query),
        c.reply,
      );
    },
  },
  {
    method: 'GET',
    path: 'tagLogging/Archive/:archive/Variable/:name',
    handler: (c) => {
      requireArchive(c, c.params.archive!);
      return variableItem(c, c.services.history.loggedTag(c.actor, c.params.name!));
    },
  },
  {
    method: 'GET',
    path: 'tagLogging/Archive/:archive/Value/:name',
    handler: async (c) => {
      const archive = requireArchive(c, c.params.archive!);
      const name = c.params.name!;
      // A single variable's failure is the request's (404, 403), as for a single tag read.
      c.services.history.loggedTag(c.actor, name);
      const [r] = await readValues(c, simpleRequests(c, archive, [name], maxValuesOf(c.query.maxvalues, DEFAULT_MAX_VALUES)));
      return r;
    },
  },
  {
    method: 'POST',
    path: 'tagLogging/Values',
    handler: async (c) => {
      const body = requireObject(c.body, 'with "variableNames" or "archives"');
      const archives = field(body, 'archives');
      const max = maxValuesOf(c.query.maxvalues, DEFAULT_MAX_VALUES);
      if (archives !== undefined) return readValues(c, archiveForm(c, archives, max));
      return readValues(c, simpleRequests(c, archiveName(c), names(body, 'variableNames'), max));
    },
  },
  {
    method: 'POST',
    path: 'tagLogging/Archive/:archive/values',
    handler: async (c) => {
      const archive = requireArchive(c, c.params.archive!);
      const max = maxValuesOf(c.query.maxvalues, DEFAULT_MAX_VALUES);
      return readValues(c, simpleRequests(c, archive, names(c.body, 'variableNames'), max));
    },
  },
  { method: 'GET', path: 'tagLogging/Timers', handler: (c) => page(timers(c), pagingOf(c.query), c.reply) },
  {
    method: 'GET',
    path: 'tagLogging/Timer/:name',
    handler: (c) => {
      const want = c.params.name!.toLowerCase().replace(/\s+/g, '');
      const t = timers(c).find((x) => x.timerName.toLowerCase().replace(/\s+/g, '') === want);
      if (!t) throw new TagwayError('NOT_FOUND', `No timer named '${c.params.name}'`);
      return t;
    },
  },
  {
    method: 'GET',
    path: 'tagLogging/Variables',
    handler: (c) =>
      page(
        c.services.history.loggedTags(c.actor).map((t) => variableItem(c, t)),
        pagingOf(c.query),
        c.reply,
      ),
  },
  {
    method: 'GET',
    path: 'tagLogging/Variable/:name',
    handler: (c) => variableItem(c, c.services.history.loggedTag(c.actor, c.params.name!)),
  },
];
