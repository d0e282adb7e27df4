import { hostname } from 'node:os';
import type { Principal } from '../../../auth/principal.js';
import { canAcknowledge, requiresReset } from '../../../domain/alarms/state-machine.js';
import type { AlarmOccurrence } from '../../../domain/alarms/records.js';
import { TagwayError } from '../../../domain/problems.js';
import type { RawItem } from '../../../runtime/history-query.js';
import type { TagState } from '../../../runtime/tag-engine.js';
import type { Actor } from '../../../services/actor.js';
import { CollectingSink } from '../../../services/history-service.js';
import type { Services } from '../../../services/services.js';
import { isFailure } from '../../../services/tag-service.js';
import { attributesOf, compileFilter, parseFilter } from './alarm-filter.js';
import { activeAlarm, attributeGetter, loggedAlarm, registerAttributes, type AlarmContext } from './alarm-view.js';
import { browse, DATA_TYPES, type BrowseObject } from './browse.js';
import { itemError, requestError, UnifiedCode, type UnifiedErrorObject } from './errors.js';
import { LOGGING_TAG_SUFFIX, type UnifiedNames, type SystemTag } from './names.js';
import { qualityByte, unifiedQuality } from './quality.js';
import { UNIFIED_FIELDS } from './schema.js';

/** What every resolver receives: the request's caller (if its Authorization named a live session) and where from. */
export interface UnifiedContext {
  principal: Principal | undefined;
  /** Why the Authorization header did not authenticate (an expired token), for the error message. */
  authError: string | undefined;
  /** The bearer token as sent (the `session` query shows the caller its own). */
  token: string | undefined;
  clientAddress: string;
  requestId: string;
  /** Body size in bytes as received (bulk budget). */
  sizeBytes: number | undefined;
}

export interface ResolverDeps {
  services: Services;
  names: UnifiedNames;
  now(): number;
  /** The session idle timeout in seconds (User.autoLogoffSec). */
  idleTimeoutSec: number;
  /** Redundancy state of this server: a single server is ACTIVE. */
  reduState(): 'ACTIVE' | 'PASSIVE';
  /** The configured default shelving time (shelveTimeout 0). */
  defaultShelveMs: number;
}

export const OK: UnifiedErrorObject = { code: UnifiedCode.OK, description: 'Success' };
/** Languages per request (each is one pass over the current list for its texts). */
export const MAX_LANGUAGES = 8;
/** Logged alarms answered at most per request. */
export const MAX_LOGGED_ALARMS = 10_000;
/** Logged values per logging tag answered at most when the client gives no maxNumberOfValues. */
export const DEFAULT_LOGGED_VALUES = 10_000;
const EPOCH = '1970-01-01T00:00:00.000Z';
const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;
const HOST = hostname();

const ACTIVE_ATTRIBUTES = registerAttributes(UNIFIED_FIELDS.ActiveAlarm);
const LOGGED_ATTRIBUTES = registerAttributes(UNIFIED_FIELDS.LoggedAlarm);

export function actorOf(ctx: UnifiedContext): Actor {
  if (!ctx.principal)
    throw requestError(
      'UNAUTHENTICATED',
      ctx.authError ?? 'Log in first (mutation login) and send the token as Authorization: Bearer <token>',
    );
  return { principal: ctx.principal, clientAddress: ctx.clientAddress, requestId: ctx.requestId, via: 'graphql' };
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** A Timestamp argument as epoch ms; the Unix epoch means "not given", as in Unified. */
function timeArg(v: unknown, name: string): number | undefined {
  if (v === null || v === undefined || v === EPOCH) return undefined;
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw requestError(UnifiedCode.ARGUMENT, `${name}: not a timestamp (ISO 8601, e.g. 2026-01-31T12:00:00.000Z)`);
  return t === 0 ? undefined : t;
}

/** An explicit null for a list argument is refused (Unified rejects it); null entries too. */
function listArg<T>(v: unknown, name: string): T[] {
  if (!Array.isArray(v)) throw requestError(UnifiedCode.ARGUMENT, `${name} must be a list (explicit null is not accepted)`);
  if (v.some((x) => x === null)) throw requestError(UnifiedCode.ARGUMENT, `${name} must not hold null entries`);
  return v as T[];
}

function languagesArg(v: unknown, filterLanguage: unknown): { languages: string[]; filterLanguage: string } {
  const languages = listArg<string>(v, 'languages');
  if (languages.length > MAX_LANGUAGES || languages.some((l) => !LANGUAGE.test(l)))
    throw requestError(UnifiedCode.LANGUAGES, `languages: at most ${MAX_LANGUAGES} language codes such as "en-US"`);
  if (typeof filterLanguage !== 'string' || !LANGUAGE.test(filterLanguage))
    throw requestError(UnifiedCode.FILTER_LANGUAGE, 'filterLanguage: a language code such as "en-US"');
  return { languages, filterLanguage };
}

function valueOf(tag: TagState) {
  return { value: tag.value, timestamp: isoOf(tag.timestamp), quality: unifiedQuality(tag.quality) };
}

function userOf(p: Principal, idleTimeoutSec: number) {
  return {
    id: p.username,
    name: p.username,
    groups: p.groups.map((g) => ({ id: g, name: g })),
    fullName: p.displayName,
    language: 'en-US',
    autoLogoffSec: idleTimeoutSec,
  };
}

/** Runs a tag read or write under the caller's bulk budget (large requests only, as the REST API). */
function withBulk<T>(d: ResolverDeps, actor: Actor, ctx: UnifiedContext, fn: () => T | Promise<T>): Promise<T> {
  const release = d.services.tags.admitBulk(actor, ctx.sizeBytes);
  return Promise.resolve().then(fn).finally(release);
}

export function systemTagValue(d: ResolverDeps, t: SystemTag): string {
  switch (t) {
    case '@ServerMachineName':
      return HOST;
    case '@SystemName':
      return d.names.system;
    default:
      return d.reduState();
  }
}

/** Reads tags by Unified names: each answers its value or its error, in request order. */
export function readTags(d: ResolverDeps, actor: Actor, names: readonly string[]) {
  const locals = names.map((n) => (d.names.systemTag(n) ? undefined : d.names.local(n)));
  const wanted = locals.filter((l): l is string => l !== undefined);
  const read = d.services.tags.readMany(actor, wanted);
  let k = 0;
  const now = isoOf(d.now());
  return names.map((name, i) => {
    const sys = d.names.systemTag(name);
    if (sys) return { name, value: { value: systemTagValue(d, sys), timestamp: now, quality: unifiedQuality(0xc0) }, error: OK };
    if (locals[i] === undefined)
      return { name, value: null, error: { code: UnifiedCode.UNKNOWN_NAME, description: `No tag named '${name}'` } };
    const r = read[k++]!;
    // The error repeats the name as the client wrote it.
    if (isFailure(r))
      return {
        name,
        value: null,
        error: itemError({ code: r.error.code, message: r.error.message.replace(`'${locals[i]}'`, `'${name}'`) }),
      };
    return { name, value: valueOf(r), error: OK };
  });
}

function browseObjects(d: ResolverDeps, actor: Actor): BrowseObject[] {
  const { names } = d;
  const out: BrowseObject[] = [];
  const quiet = <T>(f: () => T[]): T[] => {
    try {
      return f();
    } catch (err) {
      if (err instanceof TagwayError && err.code === 'FORBIDDEN') return [];
      throw err;
    }
  };
  for (const t of quiet(() => d.services.tags.list(actor).tags))
    out.push({
      name: names.prefixed(t.def.name),
      local: t.def.name,
      displayName: t.def.description ?? t.def.name,
      objectType: 'SIMPLETAG',
      dataType: DATA_TYPES[t.def.type] ?? t.def.type,
    });
  for (const t of d.services.history.loggedTagsVisible(actor)) {
    const local = t.def.name + LOGGING_TAG_SUFFIX;
    out.push({
      name: names.prefixed(local),
      local,
      displayName: local,
      objectType: 'LOGGINGTAG',
      dataType: DATA_TYPES[t.def.type] ?? null,
    });
  }
  for (const a of quiet(() => d.services.alarms.definitions(actor)))
    out.push({ name: names.prefixed(a.name), local: a.name, displayName: a.text, objectType: 'ALARM', dataType: null });
  for (const c of quiet(() => d.services.alarms.classes(actor)))
    out.push({ name: names.prefixed(c.name), local: c.name, displayName: c.name, objectType: 'ALARMCLASS', dataType: null });
  return out;
}

/** The alarm context (classes, shelving, texts per language) for mapping occurrences or events. */
async function alarmContext(
  d: ResolverDeps,
  actor: Actor,
  languages: readonly string[],
  textsOf: (lang: string) => Promise<Map<number | string, string>>,
): Promise<AlarmContext> {
  const classes = new Map(d.services.alarms.classes(actor).map((cls, i) => [cls.name, { id: i + 1, cls }]));
  const shelved = new Set(
    d.services.alarms
      .definitions(actor)
      .filter((a) => a.shelvedUntil !== undefined && Date.parse(a.shelvedUntil) > d.now())
      .map((a) => a.name),
  );
  const texts = new Map<string, Map<number | string, string>>();
  for (const l of new Set(languages)) texts.set(l, await textsOf(l));
  return {
    languages,
    text: (id, lang) => texts.get(lang)?.get(id) ?? '',
    classes,
    shelved: (a) => shelved.has(a),
    hostName: HOST,
    now: d.now(),
  };
}

type Row = Record<string, unknown>;

function compileAlarmFilter(text: unknown, known: ReadonlySet<string>): (row: Row) => boolean {
  if (typeof text !== 'string') throw requestError(UnifiedCode.ARGUMENT, 'filterString must be a string');
  const ast = parseFilter(text);
  const unknown = attributesOf(ast).filter((a) => !known.has(a.toLowerCase()));
  if (unknown.length > 0)
    throw requestError(UnifiedCode.FILTER_SYNTAX, `Syntax error in the filter string: unknown attribute '${unknown[0]}'`);
  return compileFilter(ast, attributeGetter(known));
}

function systemSelected(d: ResolverDeps, systemNames: unknown): boolean {
  const list = listArg<string>(systemNames, 'systemNames');
  return list.length === 0 || list.includes(d.names.system);
}

/** The current list as ActiveAlarms: filtered in the filter language, answered in the requested languages. */
export async function activeAlarms(d: ResolverDeps, actor: Actor, args: Record<string, unknown>): Promise<Row[]> {
  const { languages, filterLanguage } = languagesArg(args.languages, args.filterLanguage);
  const match = compileAlarmFilter(args.filterString, ACTIVE_ATTRIBUTES);
  if (!systemSelected(d, args.systemNames)) return [];
  const occurrences = await d.services.alarms.current(actor);
  const textsOf = async (lang: string) =>
    new Map<number | string, string>((await d.services.alarms.current(actor, {}, lang)).map((o) => [o.id, o.text]));
  const ctx = await alarmContext(d, actor, [filterLanguage, ...languages], textsOf);
  return mapActive(d, actor, occurrences, ctx, languages, filterLanguage, match);
}

export function mapActive(
  d: ResolverDeps,
  actor: Actor,
  occurrences: readonly AlarmOccurrence[],
  ctx: AlarmContext,
  languages: readonly string[],
  filterLanguage: string,
  match: (row: Row) => boolean,
): Row[] {
  const filterCtx = { ...ctx, languages: [filterLanguage] };
  const outCtx = { ...ctx, languages };
  const out: Row[] = [];
  for (const o of occurrences) {
    const connection = connectionOf(d, actor, o.tag);
    if (!match(activeAlarm(o, filterCtx, connection))) continue;
    out.push(activeAlarm(o, outCtx, connection));
  }
  return out;
}

function connectionOf(d: ResolverDeps, actor: Actor, tag: string | null): string | null {
  if (tag === null) return null;
  try {
    return d.services.tags.read(actor, tag).def.connection;
  } catch {
    return null;
  }
}

export function compileActiveFilter(args: Record<string, unknown>) {
  const { languages, filterLanguage } = languagesArg(args.languages, args.filterLanguage);
  return { languages, filterLanguage, match: compileAlarmFilter(args.filterString, ACTIVE_ATTRIBUTES) };
}

export { alarmContext };

async function loggedAlarms(d: ResolverDeps, actor: Actor, args: Record<string, unknown>): Promise<Row[]> {
  const { languages, filterLanguage } = languagesArg(args.languages, args.filterLanguage);
  const match = compileAlarmFilter(args.filterString, LOGGED_ATTRIBUTES);
  if (!systemSelected(d, args.systemNames)) return [];
  const from = timeArg(args.startTime, 'startTime');
  const to = timeArg(args.endTime, 'endTime');
  const max = args.maxNumberOfResults;
  if (typeof max !== 'number' || max < 0) throw requestError(UnifiedCode.ARGUMENT, 'maxNumberOfResults must be 0 or more');
  const limit = max === 0 ? MAX_LOGGED_ALARMS : Math.min(max, MAX_LOGGED_ALARMS);
  // Journal events in time order, read page by page until enough match; each page once per language for its texts.
  const langs = [...new Set([filterLanguage, ...languages])];
  const base = await alarmContext(d, actor, [], async () => new Map());
  let cursor: string | undefined;
  let scanned = 0;
  const rows: Row[] = [];
  do {
    const query = { from: from === undefined ? undefined : from + 1, to, order: 'asc' as const, limit: 1000, cursor };
    const page = await d.services.alarms.archive(actor, query);
    const texts = new Map<string, Map<number, string>>();
    for (const l of langs) texts.set(l, new Map((await d.services.alarms.archive(actor, query, l)).items.map((e) => [e.eventId, e.text])));
    const text = (id: number | string, lang: string) => texts.get(lang)?.get(id as number) ?? '';
    const filterCtx = { ...base, languages: [filterLanguage], text };
    const outCtx = { ...base, languages, text };
    for (const e of page.items) {
      if (rows.length >= limit) break;
      if (match(loggedAlarm(e, filterCtx))) rows.push(loggedAlarm(e, outCtx));
    }
    scanned += page.items.length;
    cursor = page.next ?? undefined;
  } while (cursor !== undefined && rows.length < limit && scanned < MAX_LOGGED_ALARMS * 10);
  return rows;
}

/** History of logging tags with Unified's start/end/max/sorting/bounding rules (docs/wincc-unified.md). */
async function loggedTagValues(d: ResolverDeps, actor: Actor, args: Record<string, unknown>) {
  const names = listArg<string>(args.names, 'names');
  const start = timeArg(args.startTime, 'startTime');
  const end = timeArg(args.endTime, 'endTime');
  const max = args.maxNumberOfValues as number;
  const sorting = args.sortingMode as 'TIME_ASC' | 'TIME_DESC';
  const bounding = args.boundingValuesMode as string;
  if (typeof max !== 'number' || max < 0) throw requestError(UnifiedCode.ARGUMENT, 'maxNumberOfValues must be 0 or more');
  if (start === undefined && end === undefined) throw requestError(UnifiedCode.ARGUMENT, 'Give startTime, endTime or both');
  if ((start === undefined || end === undefined) && max === 0)
    throw requestError(UnifiedCode.ARGUMENT, 'With only one of startTime and endTime, give maxNumberOfValues too');
  if (end === undefined && sorting !== 'TIME_ASC')
    throw requestError(UnifiedCode.ARGUMENT, 'With only startTime, sortingMode must be TIME_ASC');
  if (start === undefined && sorting !== 'TIME_DESC')
    throw requestError(UnifiedCode.ARGUMENT, 'With only endTime, sortingMode must be TIME_DESC');
  if (start !== undefined && end !== undefined && end < start) throw requestError(UnifiedCode.ARGUMENT, 'endTime is before startTime');
  const from = start ?? 0;
  const to = end !== undefined ? end + 1 : d.now() + 1;
  const limit = max === 0 ? DEFAULT_LOGGED_VALUES : Math.min(max, DEFAULT_LOGGED_VALUES);
  const order = sorting === 'TIME_DESC' ? 'desc' : 'asc';
  const out = [];
  for (const loggingTagName of names) {
    const tag = d.names.loggedTag(loggingTagName);
    if (tag === undefined) {
      out.push({
        loggingTagName,
        error: { code: UnifiedCode.UNKNOWN_NAME, description: `No logging tag named '${loggingTagName}'` },
        values: [],
      });
      continue;
    }
    try {
      const values = await rawValues(d, actor, tag, { from, to, limit, order });
      const left = bounding === 'LEFT_BOUNDING_VALUES' || bounding === 'LEFTRIGHT_BOUNDING_VALUES';
      const right = bounding === 'RIGHT_BOUNDING_VALUES' || bounding === 'LEFTRIGHT_BOUNDING_VALUES';
      const before = left && from > 0 ? await rawValues(d, actor, tag, { from: 0, to: from, limit: 1, order: 'desc' }) : [];
      const after = right ? await rawValues(d, actor, tag, { from: to, to: d.now() + 1, limit: 1, order: 'asc' }) : [];
      const logged = (r: RawItem, flags: string[]) => ({
        value: { value: r.value, timestamp: r.timestamp, quality: unifiedQuality(r.qualityCode) },
        flags,
      });
      const first = before.map((r) => logged(r, ['BOUNDING']));
      const last = after.map((r) => logged(r, ['BOUNDING']));
      const mid = values.map((r) => logged(r, []));
      out.push({
        loggingTagName,
        error: OK,
        values: order === 'asc' ? [...first, ...mid, ...last] : [...last, ...mid, ...first],
      });
    } catch (err) {
      if (!(err instanceof TagwayError) || err.code === 'PAYLOAD_TOO_LARGE' || err.code === 'TOO_MANY_REQUESTS') throw err;
      // A tag the caller may not read answers like one that does not exist, as on every other route.
      const code =
        err.code === 'FORBIDDEN' || err.code === 'NOT_FOUND' || err.code === 'TAG_NOT_FOUND'
          ? UnifiedCode.UNKNOWN_NAME
          : UnifiedCode.ARGUMENT;
      out.push({ loggingTagName, error: { code, description: err.message }, values: [] });
    }
  }
  return out;
}

async function rawValues(
  d: ResolverDeps,
  actor: Actor,
  tag: string,
  q: { from: number; to: number; limit: number; order: 'asc' | 'desc' },
): Promise<RawItem[]> {
  const sink = new CollectingSink();
  await d.services.history.query(actor, tag, q, sink);
  const r = sink.tags[0];
  if (!r || 'error' in r) return [];
  return r.items as RawItem[];
}

type AlarmInput = { name: string; instanceID?: number | null };

/** Acknowledge or reset: each identifier answers per occurrence (instanceID 0: every open one of the alarm). */
async function respond(d: ResolverDeps, actor: Actor, input: unknown, what: 'acknowledge' | 'reset') {
  const items = listArg<AlarmInput>(input, 'input');
  const current = await d.services.alarms.current(actor);
  const classes = new Map(d.services.alarms.classes(actor).map((c) => [c.name, c]));
  const out: Array<{ alarmName: string; alarmInstanceID: number; error: UnifiedErrorObject }> = [];
  const ids: Array<{ alarmName: string; id: number }> = [];
  for (const { name, instanceID } of items) {
    const alarm = d.names.local(name);
    const instance = instanceID ?? 0;
    const occ = current.filter((o) => o.alarm === alarm && (instance === 0 || o.id === instance));
    if (occ.length === 0) {
      const known = alarm !== undefined && d.services.alarms.definitions(actor).some((a) => a.name === alarm);
      out.push({
        alarmName: name,
        alarmInstanceID: instance,
        error: known
          ? { code: UnifiedCode.WRONG_STATE, description: `Alarm '${name}' has no open occurrence${instance ? ` ${instance}` : ''}` }
          : { code: UnifiedCode.UNKNOWN_NAME, description: `No alarm named '${name}'` },
      });
      continue;
    }
    for (const o of occ) {
      const sm = classes.get(o.class)?.stateMachine;
      const possible = sm === undefined ? true : what === 'acknowledge' ? canAcknowledge(sm) : requiresReset(sm);
      if (!possible) {
        out.push({
          alarmName: name,
          alarmInstanceID: o.id,
          error: {
            code: UnifiedCode.INVALID_STATE,
            description: `Alarms of class '${o.class}' take no ${what === 'acknowledge' ? 'acknowledgement' : 'reset'}`,
          },
        });
        continue;
      }
      ids.push({ alarmName: name, id: o.id });
    }
  }
  if (what === 'acknowledge' && ids.length > 0) {
    const done = await d.services.alarms.acknowledgeMany(
      actor,
      ids.map((i) => i.id),
    );
    done.forEach((r, k) =>
      out.push({ alarmName: ids[k]!.alarmName, alarmInstanceID: r.id, error: 'error' in r ? itemError(r.error) : OK }),
    );
  } else {
    for (const i of ids) {
      try {
        await d.services.alarms.reset(actor, i.id);
        out.push({ alarmName: i.alarmName, alarmInstanceID: i.id, error: OK });
      } catch (err) {
        if (!(err instanceof TagwayError)) throw err;
        out.push({ alarmName: i.alarmName, alarmInstanceID: i.id, error: itemError(err) });
      }
    }
  }
  return out;
}

/** Enable, disable, shelve, unshelve: per name its result. */
async function perAlarm(d: ResolverDeps, actor: Actor, names: unknown, op: (alarm: string) => Promise<unknown>) {
  const list = listArg<string>(names, 'names');
  const out: Array<{ alarmName: string; error: UnifiedErrorObject }> = [];
  for (const name of list) {
    const alarm = d.names.local(name);
    if (alarm === undefined) {
      out.push({ alarmName: name, error: { code: UnifiedCode.UNKNOWN_NAME, description: `No alarm named '${name}'` } });
      continue;
    }
    try {
      await op(alarm);
      out.push({ alarmName: name, error: OK });
    } catch (err) {
      if (!(err instanceof TagwayError) || err.code === 'TOO_MANY_REQUESTS') throw err;
      out.push({ alarmName: name, error: itemError(err) });
    }
  }
  return out;
}

const NO_UMC = 'Tagway has no UMC single sign-on: log in with the login mutation (user name and password)';

export function buildResolvers(d: ResolverDeps) {
  const session = (p: Principal, token: string | null, expiresAt: number | undefined) => ({
    user: userOf(p, d.idleTimeoutSec),
    token,
    expires: expiresAt === undefined ? null : isoOf(expiresAt),
    error: OK,
  });
  return {
    Query: {
      session: (_: unknown, args: { allSessions?: boolean | null }, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        return d.services.auth
          .sessions(actor, args.allSessions === true)
          .map((s) => session(actor.principal, s.current ? (ctx.token ?? null) : null, s.expiresAt));
      },
      nonce: () => {
        throw requestError(UnifiedCode.UMC, NO_UMC);
      },
      identityProviderURL: () => {
        throw requestError(UnifiedCode.UMC, NO_UMC);
      },
      tagValues: (_: unknown, args: { names: string[]; directRead?: boolean }, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        // directRead: served from the live cache, which the drivers keep current (docs/wincc-unified.md).
        return withBulk(d, actor, ctx, () => readTags(d, actor, args.names));
      },
      browse: (_: unknown, args: Record<string, unknown>, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        const nameFilters = listArg<string>(args.nameFilters, 'nameFilters');
        const objectTypeFilters = listArg<string>(args.objectTypeFilters, 'objectTypeFilters');
        const baseTypeFilters = listArg<string>(args.baseTypeFilters, 'baseTypeFilters');
        if (args.language === null) throw requestError(UnifiedCode.ARGUMENT, 'language must not be null');
        return browse(browseObjects(d, actor), { nameFilters, objectTypeFilters, baseTypeFilters }, d.names.system).map((o) => ({
          name: o.name,
          displayName: o.displayName,
          objectType: o.objectType,
          dataType: o.dataType,
        }));
      },
      loggedTagValues: (_: unknown, args: Record<string, unknown>, ctx: UnifiedContext) => loggedTagValues(d, actorOf(ctx), args),
      activeAlarms: (_: unknown, args: Record<string, unknown>, ctx: UnifiedContext) => activeAlarms(d, actorOf(ctx), args),
      loggedAlarms: (_: unknown, args: Record<string, unknown>, ctx: UnifiedContext) => loggedAlarms(d, actorOf(ctx), args),
    },
    Mutation: {
      login: async (_: unknown, args: { username: string; password: string }, ctx: UnifiedContext) => {
        try {
          const s = await d.services.auth.login({ clientAddress: ctx.clientAddress }, args.username, args.password);
          return session(s.principal, s.token, s.expiresAt);
        } catch (err) {
          if (!(err instanceof TagwayError)) throw err;
          if (err.code === 'UNAUTHENTICATED' || err.code === 'VALIDATION_FAILED')
            return {
              user: null,
              token: null,
              expires: null,
              error: { code: UnifiedCode.BAD_CREDENTIALS, description: 'Incorrect credentials provided' },
            };
          if (err.code === 'TOO_MANY_REQUESTS')
            return { user: null, token: null, expires: null, error: { code: UnifiedCode.THROTTLED, description: err.message } };
          throw err;
        }
      },
      loginSWAC: () => ({ user: null, token: null, expires: null, error: { code: UnifiedCode.UMC, description: NO_UMC } }),
      extendSession: (_: unknown, _args: unknown, ctx: UnifiedContext) => {
        // Authenticating this very request slid the session's idle timeout: the token stays the same (Unified
        // clients keep using theirs), and the answer shows the new expiry.
        const actor = actorOf(ctx);
        if (actor.principal.authMethod !== 'session') throw requestError('INVALID_STATE', 'Only session tokens can be extended');
        return session(actor.principal, ctx.token ?? null, actor.principal.sessionExpiresAt);
      },
      logout: async (_: unknown, args: { allSessions?: boolean | null }, ctx: UnifiedContext) => {
        await d.services.auth.logout(actorOf(ctx), { allSessions: args.allSessions === true });
        return true;
      },
      writeTagValues: (_: unknown, args: Record<string, unknown>, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        return withBulk(d, actor, ctx, () => writeTags(d, actor, args));
      },
      acknowledgeAlarms: (_: unknown, args: { input: unknown }, ctx: UnifiedContext) => respond(d, actorOf(ctx), args.input, 'acknowledge'),
      resetAlarms: (_: unknown, args: { input: unknown }, ctx: UnifiedContext) => respond(d, actorOf(ctx), args.input, 'reset'),
      disableAlarms: (_: unknown, args: { names: unknown }, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        return perAlarm(d, actor, args.names, (a) => d.services.alarms.setEnabled(actor, a, false));
      },
      enableAlarms: (_: unknown, args: { names: unknown }, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        return perAlarm(d, actor, args.names, (a) => d.services.alarms.setEnabled(actor, a, true));
      },
      shelveAlarms: (_: unknown, args: { names: unknown; shelveTimeout?: unknown }, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        const t = args.shelveTimeout ?? 0;
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
          throw requestError(UnifiedCode.ARGUMENT, 'shelveTimeout: milliseconds, 0 or more');
        const ms = t === 0 ? d.defaultShelveMs : t;
        return perAlarm(d, actor, args.names, (a) => d.services.alarms.shelve(actor, a, ms));
      },
      unshelveAlarms: (_: unknown, args: { names: unknown }, ctx: UnifiedContext) => {
        const actor = actorOf(ctx);
        return perAlarm(d, actor, args.names, (a) => d.services.alarms.unshelve(actor, a));
      },
    },
  };
}

type WriteInput = { name: string; value: unknown; timestamp?: unknown; quality?: { quality: string; subStatus?: string | null } | null };

async function writeTags(d: ResolverDeps, actor: Actor, args: Record<string, unknown>) {
  const input = args.input as (WriteInput | null)[];
  if (args.timestamp !== undefined && args.timestamp !== null) timeArg(args.timestamp, 'timestamp');
  const fallbackQuality = args.quality as WriteInput['quality'];
  if (fallbackQuality && qualityByte(fallbackQuality) === undefined)
    throw requestError(UnifiedCode.ARGUMENT, 'quality: that subStatus does not exist under that quality');
  const results: Array<{ name: string | null; error: UnifiedErrorObject }> = new Array(input.length);
  const items: Array<{ name: string; value: unknown; timestamp?: number; quality?: number }> = [];
  const fallbackTime = typeof args.timestamp === 'string' ? Date.parse(args.timestamp) : undefined;
  const at: number[] = [];
  input.forEach((it, i) => {
    if (it === null) {
      results[i] = { name: null, error: { code: UnifiedCode.ARGUMENT, description: 'A null item' } };
      return;
    }
    const local = d.names.systemTag(it.name) ? undefined : d.names.local(it.name);
    if (local === undefined) {
      results[i] = { name: it.name, error: { code: UnifiedCode.UNKNOWN_NAME, description: `No writable tag named '${it.name}'` } };
      return;
    }
    if (
      it.timestamp !== undefined &&
      it.timestamp !== null &&
      !Number.isFinite(typeof it.timestamp === 'string' ? Date.parse(it.timestamp) : Number.NaN)
    ) {
      results[i] = { name: it.name, error: { code: UnifiedCode.ARGUMENT, description: 'timestamp: not an ISO 8601 time' } };
      return;
    }
    if (it.quality && qualityByte(it.quality) === undefined) {
      results[i] = {
        name: it.name,
        error: { code: UnifiedCode.ARGUMENT, description: 'quality: that subStatus does not exist under that quality' },
      };
      return;
    }
    // The item's own time and quality, else the request's: the engine applies them to internal tags.
    const time = typeof it.timestamp === 'string' ? Date.parse(it.timestamp) : fallbackTime;
    const q = it.quality ?? fallbackQuality;
    items.push({
      name: local,
      value: it.value,
      ...(time === undefined ? {} : { timestamp: time }),
      ...(q ? { quality: qualityByte(q)! } : {}),
    });
    at.push(i);
  });
  const written = await d.services.tags.writeMany(actor, items, { perItem: true });
  written.forEach((r, k) => {
    const i = at[k]!;
    results[i] = { name: input[i]!.name, error: 'error' in r ? itemError(r.error) : OK };
  });
  return results;
}
