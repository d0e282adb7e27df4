import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { arch, platform } from 'node:os';
import { TagwayError, type ItemError } from '../../../domain/problems.js';
import { DEFAULT_WINCC_SYSTEM_NAME } from '../../../project/types.js';
import type { RawItem } from '../../../runtime/history-query.js';
import type { Runtime } from '../../../runtime/runtime.js';
import type { TagState } from '../../../runtime/tag-engine.js';
import type { Actor } from '../../../services/actor.js';
import { CollectingSink } from '../../../services/history-service.js';
import { isFailure } from '../../../services/tag-service.js';
import type { Services } from '../../../services/services.js';
import { actorOf } from '../shared/actor.js';
import { tagwayVersion } from '../../../server/version.js';

/**
 * WinCC OA's REST Reporting API (`/reporting/DpNames`, `/Dp`, `/GetVersion`, `/Dps`) over the service layer: this
 * file only maps data point names to tag names and back, parses WinCC OA's query syntax and encodes its answers.
 * Every permission and budget is the services' (tags.read/readMany/list, history.queryMany). Authentication is
 * the app's onRoute hook (Bearer, cookie, JWT, Basic with its HTTPS-or-loopback rule and throttling).
 */

export interface WinccOaOptions {
  runtime: Runtime;
  services: Services;
}

/** The API version we implement (WinCC OA 3.19-P002 and later answer the same). */
const API_MAJOR = 2;
const API_MINOR = 0;
const NOT_EXISTING = 'data point does not exist';
const PARAMETERS = new Set(['api-version', 'jsonCompact', 'from', 'to', 'count', 'verifyDpExistence']);

/** A failure answered in WinCC OA's own error object, `{"errorText": …}`, with an HTTP status. */
class ReportingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Parsed {
  names: string[];
  params: Map<string, string>;
}

/** Query keys in order: keys without `=` (or not a known parameter) are data point names, as WinCC OA reads them. */
export function parseQuery(url: string): Parsed {
  const q = url.indexOf('?');
  const names: string[] = [];
  const params = new Map<string, string>();
  if (q < 0) return { names, params };
  for (const part of url.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? undefined : decode(part.slice(eq + 1));
    if (value !== undefined && PARAMETERS.has(key)) params.set(key, value);
    else if (value === undefined || value === '') names.push(key);
    // Any other key=value pair is not WinCC OA's syntax: ignored, as unknown URL parameters are.
  }
  return { names, params };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new ReportingError(400, 'malformed percent-encoding in the query');
  }
}

/**
 * `System1:Tank1.Level.` → `Tank1.Level`. A name without our system prefix is taken as a tag name as it is (tag
 * names may hold `:`), so another system's data point is simply unknown.
 */
export function tagNameOf(dp: string, system: string): string | undefined {
  let name = dp.startsWith(`${system}:`) ? dp.slice(system.length + 1) : dp;
  // The data point element of a tag is `<name>.`; the trailing dot may be left out (WinCC OA corrects it).
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? undefined : name;
}

/** The data point element name a tag answers as: `<system>:<tag name>.` */
export function dpeName(tag: string, system: string): string {
  return `${system}:${tag}.`;
}

/**
 * A 64-character status bit string, most significant bit first, as WinCC OA's `_online.._status64` prints it.
 * Inferred mapping (docs/wincc-oa.md): bit 0 `_active` always set; bit 8 set for BAD (`_invalid`), bit 9 for
 * UNCERTAIN; bits 56…63 carry our 8-bit quality code.
 */
export function statusBits(quality: 'GOOD' | 'UNCERTAIN' | 'BAD', qualityCode: number): string {
  let bits = 1n;
  if (quality === 'BAD') bits |= 1n << 8n;
  if (quality === 'UNCERTAIN') bits |= 1n << 9n;
  bits |= BigInt(qualityCode & 0xff) << 56n;
  return bits.toString(2).padStart(64, '0');
}

function qualityName(code: number): 'GOOD' | 'UNCERTAIN' | 'BAD' {
  const top = code & 0xc0;
  return top === 0xc0 ? 'GOOD' : top === 0x40 ? 'UNCERTAIN' : 'BAD';
}

type Row = [value: unknown, time: string, status: string, user: string];

function onlineRow(tag: TagState): Row {
  return [tag.value, new Date(tag.timestamp).toISOString(), statusBits(qualityName(tag.quality), tag.quality), tag.def.connection];
}

function historyRow(item: RawItem, user: string): Row {
  return [item.value, item.timestamp, statusBits(item.quality, item.qualityCode), user];
}

function flag(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.toLowerCase();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false' || s === '') return false;
  throw new ReportingError(400, `${name} must be 0, 1, TRUE or FALSE`);
}

function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || !Number.isFinite(t)) throw new ReportingError(400, `${name} must be an ISO 8601 time`);
  return t;
}

/** `api-version` as major version: 2 by default; 1.0 and 1.1 select the flat 1.x formats. */
function apiMajor(v: string | undefined): 1 | 2 {
  if (v === undefined || v === '2' || v === '2.0') return 2;
  if (v === '1' || v === '1.0' || v === '1.1') return 1;
  throw new ReportingError(400, `api-version ${v} is not supported (1.0, 1.1, 2.0)`);
}

function send(reply: FastifyReply, params: Map<string, string>, body: unknown, status = 200): FastifyReply {
  const compact = flag(params.get('jsonCompact'), 'jsonCompact') ?? false;
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(compact ? JSON.stringify(body) : JSON.stringify(body, null, 2));
}

function envelope(dps: unknown[]): object {
  return {
    generatedBy: `Tagway ${tagwayVersion()} @ ${platform()} ${arch()}`,
    formatVersionMajor: API_MAJOR,
    formatVersionMinor: API_MINOR,
    dps,
  };
}

type DpResult = { dp: string; rows: Row[] } | { dp: string; error: string };

export function winccOaReporting(): FastifyPluginAsync<WinccOaOptions> {
  return async (app, { runtime, services }) => {
    const system = () => runtime.project.wincc?.systemName ?? DEFAULT_WINCC_SYSTEM_NAME;
    const actor = (request: FastifyRequest): Actor => actorOf(request, 'wincc-oa');
    const route = { schema: { hide: true } };

    app.setErrorHandler((err, request, reply) => {
      const e = err as { statusCode?: number; message?: string };
      let status = err instanceof ReportingError ? err.status : err instanceof TagwayError ? err.status : (e.statusCode ?? 500);
      if (status < 400 || status > 599) status = 500;
      if (status >= 500) request.log.error({ err }, 'WinCC OA reporting request failed');
      const text = status >= 500 && !(err instanceof TagwayError) ? 'internal error' : String(e.message ?? 'error');
      if (status === 401) reply.header('WWW-Authenticate', 'Basic realm="Tagway", charset="UTF-8"');
      if (err instanceof TagwayError && err.headers) reply.headers(err.headers);
      return reply
        .code(status)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ errorText: text }));
    });

    /** Online values or history of data points, in request order; unknown or unreadable ones carry an error. */
    const query = async (request: FastifyRequest, dps: string[], params: Map<string, string>): Promise<DpResult[]> => {
      const who = actor(request);
      const sys = system();
      const names = dps.map((dp) => tagNameOf(dp, sys));
      // The live read decides what exists for this caller: a tag it may not read is answered like an unknown one.
      const known = names.filter((n): n is string => n !== undefined);
      const live = new Map<string, TagState>();
      if (known.length > 0) for (const r of services.tags.readMany(who, known)) if (!isFailure(r)) live.set(r.def.name, r);
      const from = time(params.get('from'), 'from');
      let to = time(params.get('to'), 'to');
      if (from === undefined && to !== undefined) throw new ReportingError(400, 'to needs from');
      const answerName = (dp: string, n: string | undefined) => (n === undefined ? dp : dpeName(n, sys));
      if (from === undefined)
        return dps.map((dp, i) => {
          const tag = live.get(names[i] ?? '');
          return tag ? { dp: answerName(dp, names[i]), rows: [onlineRow(tag)] } : { dp, error: NOT_EXISTING };
        });

      to ??= runtime.clock.now();
      const countText = params.get('count');
      const count = countText === undefined ? 0 : Number(countText);
      if (!Number.isInteger(count) || count < 0) throw new ReportingError(400, 'count must be a whole number ≥ 0');
      const readable = [...new Set(known.filter((n) => live.has(n)))];
      const rows = new Map<string, Row[]>();
      const failed = new Map<string, ItemError>();
      if (readable.length > 0) {
        const user = (n: string) => live.get(n)!.def.connection;
        const collect = async (
          opts: { from: number; to: number; limit: number; order: 'asc' | 'desc' },
          where: 'before' | 'in' | 'after',
        ) => {
          const sink = new CollectingSink();
          await services.history.queryMany(who, { tags: readable, ...opts }, sink);
          for (const t of sink.tags) {
            if ('error' in t) {
              failed.set(t.name, t.error);
              continue;
            }
            if (where === 'in' && t.tail?.next)
              throw new ReportingError(413, `more values than one answer holds for ${t.name}; ask for a shorter range`);
            const got = t.items.map((i) => historyRow(i as RawItem, user(t.name)));
            if (where === 'before') got.reverse();
            const list = rows.get(t.name) ?? [];
            rows.set(t.name, where === 'before' ? [...got, ...list] : [...list, ...got]);
          }
        };
        // As many values per tag as the history budget allows for this many tags (the service enforces it).
        const perTag = Math.max(1, Math.min(100_000, Math.floor(runtime.config.maxHistorySamples / readable.length)));
        // WinCC OA's period includes `to`; ours is exclusive.
        if (count > 0 && from > 0) await collect({ from: 0, to: from, limit: count, order: 'desc' }, 'before');
        await collect({ from, to: to + 1, limit: perTag, order: 'asc' }, 'in');
        const now = runtime.clock.now();
        if (count > 0 && to + 1 < now) await collect({ from: to + 1, to: now + 1, limit: count, order: 'asc' }, 'after');
      }
      return dps.map((dp, i) => {
        const n = names[i];
        if (n === undefined || !live.has(n)) return { dp, error: NOT_EXISTING };
        const f = failed.get(n);
        if (f) return { dp: answerName(dp, n), error: f.code === 'FORBIDDEN' || f.code === 'TAG_NOT_FOUND' ? NOT_EXISTING : f.message };
        return { dp: answerName(dp, n), rows: rows.get(n) ?? [] };
      });
    };

    app.get('/DpNames', route, async (request, reply) => {
      const { params } = parseQuery(request.url);
      const major = apiMajor(params.get('api-version'));
      const sys = system();
      const names = services.tags.list(actor(request)).tags.map((t) => `${sys}:${t.def.name}`);
      return send(reply, params, major === 1 ? names : envelope(names.map((DP) => ({ DP }))));
    });

    app.get('/GetVersion', route, async (request, reply) => {
      actor(request);
      const { params } = parseQuery(request.url);
      if (apiMajor(params.get('api-version')) === 1) return send(reply, params, { major: 1, minor: 1 });
      return send(reply, params, {
        major: API_MAJOR,
        minor: API_MINOR,
        versionHistory: [
          {
            version: '2.0',
            oaVersion: '3.19-P002',
            supportedEndpoints: [
              { name: 'Dps', formatInfo: 'Online values or history of several data points, as one structured object' },
              { name: 'DpNames', formatInfo: 'Data point names as a structured object' },
            ],
          },
          { version: '1.1', oaVersion: '3.19-P001', supportedEndpoints: [{ name: 'GetVersion', formatInfo: 'API version' }] },
          {
            version: '1.0',
            oaVersion: '3.19',
            supportedEndpoints: [
              { name: 'DpNames', formatInfo: 'Data point names as a flat array' },
              { name: 'Dp', formatInfo: 'Online value or history of one data point: [value, time, status bits, user]' },
            ],
          },
        ],
      });
    });

    app.get('/Dp', route, async (request, reply) => {
      const { names, params } = parseQuery(request.url);
      if (names.length !== 1) throw new ReportingError(400, 'name exactly one data point');
      // WinCC OA documents Dp's count as fixed at 1: one value before `from` and one after `to`.
      const [r] = await query(request, names, new Map([...params, ['count', '1']]));
      if (!r || 'error' in r) return send(reply, params, { errorText: r?.error ?? NOT_EXISTING }, 404);
      return send(reply, params, params.has('from') ? r.rows : r.rows[0]);
    });

    app.get('/Dps', route, async (request, reply) => {
      const { names, params } = parseQuery(request.url);
      const major = apiMajor(params.get('api-version'));
      if (names.length === 0) throw new ReportingError(400, 'name at least one data point');
      const verify = flag(params.get('verifyDpExistence'), 'verifyDpExistence') ?? false;
      const results = await query(request, names, params);
      const history = params.has('from');
      const unknown = results.find((r) => 'error' in r && r.error === NOT_EXISTING);
      if (verify && unknown) return send(reply, params, { errorText: `${NOT_EXISTING}: ${unknown.dp}` }, 404);
      // 1.x (inferred): a flat array, one Dp-shaped answer per data point, `{"errorText"}` for a failed one.
      if (major === 1)
        return send(
          reply,
          params,
          results.map((r) => ('error' in r ? { errorText: r.error } : history ? r.rows : r.rows[0])),
        );
      const items = results.map((r) => ('error' in r ? { DP: r.dp, errorText: r.error } : { DP: r.dp, values: r.rows }));
      return send(reply, params, envelope(items));
    });
  };
}
