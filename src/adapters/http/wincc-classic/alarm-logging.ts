import { LIMIT_TYPES } from '../../../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../../../domain/alarms/records.js';
import { compileGlob } from '../../../domain/glob.js';
import { TagwayError } from '../../../domain/problems.js';
import type { WinccAlarmFilter } from '../../../project/schema/wincc.js';
import type { AlarmDefinitionView } from '../../../runtime/alarms/engine.js';
import { ARCHIVE_MAX_LIMIT } from '../../../storage/alarm-journal-repository.js';
import { acceptLanguage } from '../shared/language.js';
import { invalid } from './errors.js';
import { page, pagingOf, wholeParam } from './paging.js';
import type { Call, RouteDef } from './router.js';
import { archiveTime } from './tag-logging.js';

/**
 * `alarmLogging` (WinCC V8) over the alarm service: message classes ↔ alarm classes, messages ↔ alarm
 * definitions, runtime lists ↔ the current list and the operators' overrides (disabled = locked, shelved =
 * hidden), archives ↔ the one alarm journal. Every list takes a REST filter: the project's
 * `wincc.restFilters` (in the native archive filter terms) or the built-in `All`.
 */

export const DEFAULT_MAX_VALUES = 1000;
const ALL: WinccAlarmFilter = {};

/** Message types: how an alarm is judged (discrete, or analog by its limit type). Inferred mapping. */
const MESSAGE_TYPES = ['Discrete', ...LIMIT_TYPES].map((typeName, i) => ({ typeNumber: i + 1, typeName }));

/** Message blocks: the fields every message of these lists carries (system blocks), in WinCC's terms. Inferred. */
const MESSAGE_BLOCKS = [
  ['Date/Time', 'timestamp'],
  ['Number', 'messageNumber'],
  ['Class', 'className'],
  ['Type', 'typeName'],
  ['State', 'state'],
  ['Priority', 'priority'],
  ['Message text', 'text'],
  ['Point of error', 'name'],
  ['Tag', 'variableName'],
  ['Process value', 'value'],
  ['User', 'user'],
  ['Acknowledgment time', 'ackTime'],
].map(([blockName, field], i) => ({ blockNumber: i + 1, blockName, field, kind: 'system' }));

/** The language of texts: the first of Accept-Language (`de-DE`), or the alarm's journal language. */
function languageOf(c: Call): string | undefined {
  return acceptLanguage(c.request.headers['accept-language']);
}

function filterOf(c: Call, name: string): WinccAlarmFilter {
  const want = name.toLowerCase();
  const own = c.runtime.project.wincc?.restFilters?.find((f) => f.name.toLowerCase() === want);
  if (own) return own.filter;
  if (want === 'all') return ALL;
  throw new TagwayError('NOT_FOUND', `No REST filter named '${name}'`);
}

function filters(c: Call): Array<{ filterName: string; filter: WinccAlarmFilter }> {
  const own = (c.runtime.project.wincc?.restFilters ?? []).map((f) => ({ filterName: f.name, filter: f.filter }));
  return own.some((f) => f.filterName.toLowerCase() === 'all') ? own : [{ filterName: 'All', filter: ALL }, ...own];
}

function textIn(d: AlarmDefinitionView, lang: string | undefined): string {
  if (!lang || !d.texts) return d.text;
  return d.texts[lang] ?? d.texts[lang.split('-')[0]!] ?? d.text;
}

function typeName(d: AlarmDefinitionView): string {
  return d.kind === 'discrete' ? 'Discrete' : (d.limit?.type ?? 'Analog');
}

function messageItem(d: AlarmDefinitionView, lang: string | undefined): Record<string, unknown> {
  return {
    messageNumber: d.number,
    name: d.name,
    className: d.class,
    typeName: typeName(d),
    priority: d.priority,
    variableName: d.tag,
    text: textIn(d, lang),
    texts: d.texts ?? {},
    locked: !d.enabled,
    hidden: d.shelvedUntil !== undefined,
    ...(d.shelvedUntil !== undefined ? { hiddenUntil: d.shelvedUntil } : {}),
    ...(d.limit ? { limitType: d.limit.type, limitValue: d.limit.value } : {}),
    ...(d.bit !== undefined ? { bit: d.bit } : {}),
  };
}

/** What an occurrence of the current list and an event of the journal have in common, in WinCC's words. */
function messageOf(m: AlarmOccurrence | AlarmEventRecord): Record<string, unknown> {
  return { instanceId: m.id, messageNumber: m.number, name: m.alarm, className: m.class, priority: m.priority };
}

function occurrenceItem(o: AlarmOccurrence): Record<string, unknown> {
  return {
    ...messageOf(o),
    state: o.state,
    active: o.active,
    acknowledged: o.acknowledged,
    text: o.text,
    variableName: o.tag ?? '',
    value: o.value,
    timestamp: o.raisedAt,
    comeTime: o.raisedAt,
    goTime: o.clearedAt,
    ackTime: o.acknowledgedAt,
    ackUser: o.acknowledgedBy ?? '',
  };
}

function eventItem(e: AlarmEventRecord): Record<string, unknown> {
  return {
    eventId: e.eventId,
    ...messageOf(e),
    event: e.event,
    state: e.state,
    timestamp: e.at,
    text: e.text,
    variableName: e.tag ?? '',
    value: e.value,
    user: e.user ?? '',
  };
}

/** The filter's terms that an alarm definition has (everything but events, which only archives have). */
function admitsDefinition(f: WinccAlarmFilter, d: AlarmDefinitionView, lang: string | undefined): boolean {
  return (
    (f.alarm === undefined || compileGlob(f.alarm)(d.name)) &&
    (f.tag === undefined || f.tag === d.tag) &&
    (f.class === undefined || f.class === d.class) &&
    (f.minPriority === undefined || d.priority >= f.minPriority) &&
    (f.maxPriority === undefined || d.priority <= f.maxPriority) &&
    (f.text === undefined || textIn(d, lang).toLowerCase().includes(f.text.toLowerCase()))
  );
}

function maxValues(c: Call): number {
  return wholeParam(c.query, 'maxvalues', 'maxValues', 1, ARCHIVE_MAX_LIMIT) ?? DEFAULT_MAX_VALUES;
}

/** The current list through a filter (its event terms do not apply: an occurrence is not an event). */
async function current(c: Call, f: WinccAlarmFilter): Promise<AlarmOccurrence[]> {
  const lang = languageOf(c);
  const items = await c.services.alarms.current(
    c.actor,
    { class: f.class, minPriority: f.minPriority, maxPriority: f.maxPriority, tag: f.tag, alarm: f.alarm },
    lang,
  );
  const text = f.text?.toLowerCase();
  return text === undefined ? items : items.filter((o) => o.text.toLowerCase().includes(text));
}

function definitions(c: Call, f: WinccAlarmFilter, which: (d: AlarmDefinitionView) => boolean): AlarmDefinitionView[] {
  const lang = languageOf(c);
  return c.services.alarms.definitions(c.actor).filter((d) => which(d) && admitsDefinition(f, d, lang));
}

/** Newest first, at most `maxValues`, optionally within `timeFrom`…`timeTo` (both inclusive). */
async function archive(c: Call, f: WinccAlarmFilter, limit: number, onlyRaised = false): Promise<AlarmEventRecord[]> {
  const from = archiveTime(c.query.timefrom, 'timeFrom');
  const to = archiveTime(c.query.timeto, 'timeTo');
  const pageOf = await c.services.alarms.archive(
    c.actor,
    {
      from,
      to: to === undefined ? undefined : to + 1,
      alarm: f.alarm,
      tag: f.tag,
      class: f.class,
      minPriority: f.minPriority,
      maxPriority: f.maxPriority,
      text: f.text,
      event: onlyRaised ? ['RAISED'] : f.event,
      order: 'desc',
      limit,
    },
    languageOf(c),
  );
  return pageOf.items;
}

function classItem(k: { name: string; stateMachine: string; color?: string | undefined }) {
  return {
    className: k.name,
    stateMachine: k.stateMachine,
    acknowledgmentRequired: k.stateMachine.includes('REQUIRES_ACKNOWLEDGMENT'),
    resetRequired: k.stateMachine.includes('RESET'),
    color: k.color ?? '',
  };
}

const list =
  <T>(items: (c: Call) => T[] | Promise<T[]>) =>
  async (c: Call) =>
    page(await items(c), pagingOf(c.query), c.reply);

const filtered = (path: string, items: (c: Call, f: WinccAlarmFilter) => Promise<unknown[]> | unknown[]): RouteDef[] => [
  { method: 'GET', path: `alarmLogging/${path}/:filter`, handler: list((c) => items(c, filterOf(c, c.params.filter!))) },
  // Without a filter: `All`.
  { method: 'GET', path: `alarmLogging/${path}`, handler: list((c) => items(c, ALL)) },
];

export const alarmLoggingRoutes: RouteDef[] = [
  { method: 'GET', path: 'alarmLogging/MessageClasses', handler: list((c) => c.services.alarms.classes(c.actor).map(classItem)) },
  {
    method: 'GET',
    path: 'alarmLogging/MessageClass/:name',
    handler: (c) => {
      const want = c.params.name!.toLowerCase();
      const k = c.services.alarms.classes(c.actor).find((x) => x.name.toLowerCase() === want);
      if (!k) throw new TagwayError('NOT_FOUND', `No message class named '${c.params.name}'`);
      return classItem(k);
    },
  },
  {
    method: 'GET',
    path: 'alarmLogging/MessageTypes',
    handler: list((c) => {
      c.services.alarms.classes(c.actor);
      return MESSAGE_TYPES;
    }),
  },
  {
    method: 'GET',
    path: 'alarmLogging/MessageBlocks',
    handler: list((c) => {
      c.services.alarms.classes(c.actor);
      return MESSAGE_BLOCKS;
    }),
  },
  {
    method: 'GET',
    path: 'alarmLogging/Messages',
    handler: list((c) => {
      const lang = languageOf(c);
      return c.services.alarms
        .definitions(c.actor)
        .sort((a, b) => a.number - b.number)
        .map((d) => messageItem(d, lang));
    }),
  },
  {
    method: 'GET',
    path: 'alarmLogging/Message/:number',
    handler: (c) => {
      const n = c.params.number!;
      if (!/^\d{1,10}$/.test(n)) throw invalid('The message number must be a whole number');
      const d = c.services.alarms.definitions(c.actor).find((x) => x.number === Number(n));
      if (!d) throw new TagwayError('NOT_FOUND', `No message number ${n}`);
      return messageItem(d, languageOf(c));
    },
  },
  {
    method: 'GET',
    path: 'alarmLogging/LimitValues',
    handler: list((c) =>
      c.services.alarms
        .definitions(c.actor)
        .filter((d) => d.limit !== undefined)
        .map((d) => ({
          variableName: d.tag,
          messageNumber: d.number,
          name: d.name,
          limitType: d.limit!.type,
          limitValue: d.limit!.value,
          hysteresis: d.hysteresis ?? 0,
        })),
    ),
  },
  {
    method: 'GET',
    path: 'alarmLogging/LimitValue/:tag',
    handler: (c) => {
      const tag = c.params.tag!;
      const limits = c.services.alarms
        .definitions(c.actor)
        .filter((d) => d.limit !== undefined && d.tag === tag)
        .map((d) => ({
          messageNumber: d.number,
          name: d.name,
          limitType: d.limit!.type,
          limitValue: d.limit!.value,
          hysteresis: d.hysteresis ?? 0,
        }));
      if (limits.length === 0) throw new TagwayError('NOT_FOUND', `No limit values on variable '${tag}'`);
      return { variableName: tag, limits };
    },
  },
  {
    method: 'GET',
    path: 'alarmLogging/MessageGroups',
    handler: list((c) => {
      // Message groups ↔ the tag groups of the alarms' tags (inferred).
      const groups = new Map<string, number[]>();
      for (const d of c.services.alarms.definitions(c.actor)) {
        const g = c.runtime.tags.get(d.tag)?.def.group;
        if (g === undefined) continue;
        const list = groups.get(g) ?? [];
        list.push(d.number);
        groups.set(g, list);
      }
      return [...groups].map(([groupName, messageNumbers]) => ({ groupName, messageNumbers: messageNumbers.sort((a, b) => a - b) }));
    }),
  },
  {
    method: 'GET',
    path: 'alarmLogging/RestFilters',
    handler: list((c) => {
      c.services.alarms.classes(c.actor);
      return filters(c);
    }),
  },
  {
    method: 'GET',
    path: 'alarmLogging/RestFilter/:name',
    handler: (c) => {
      c.services.alarms.classes(c.actor);
      const f = filterOf(c, c.params.name!);
      return filters(c).find((x) => x.filter === f) ?? { filterName: c.params.name, filter: f };
    },
  },
  ...filtered('MessageList', async (c, f) => (await current(c, f)).slice(0, maxValues(c)).map(occurrenceItem)),
  ...filtered('LockList', (c, f) =>
    definitions(c, f, (d) => !d.enabled)
      .slice(0, maxValues(c))
      .map((d) => messageItem(d, languageOf(c))),
  ),
  ...filtered('Hidelist', (c, f) =>
    definitions(c, f, (d) => d.shelvedUntil !== undefined)
      .slice(0, maxValues(c))
      .map((d) => messageItem(d, languageOf(c))),
  ),
  ...filtered('HiddenMessageList', async (c, f) => {
    const hidden = new Set(definitions(c, ALL, (d) => d.shelvedUntil !== undefined).map((d) => d.name));
    return (await current(c, f))
      .filter((o) => hidden.has(o.alarm))
      .slice(0, maxValues(c))
      .map(occurrenceItem);
  }),
  ...filtered('ShortTermArchive', async (c, f) => (await archive(c, f, maxValues(c))).map(eventItem)),
  ...filtered('LongTermArchive', async (c, f) => (await archive(c, f, maxValues(c))).map(eventItem)),
  ...filtered('HitList', async (c, f) => {
    // How often each message came, over the newest `maxValues` comings the filter admits.
    const hits = new Map<
      string,
      { messageNumber: number; name: string; className: string; priority: number; text: string; count: number; lastTime: string }
    >();
    for (const e of await archive(c, f, maxValues(c), true)) {
      const h = hits.get(e.alarm);
      if (h) h.count++;
      else
        hits.set(e.alarm, {
          messageNumber: e.number,
          name: e.alarm,
          className: e.class,
          priority: e.priority,
          text: e.text,
          count: 1,
          lastTime: e.at,
        });
    }
    return [...hits.values()].sort((a, b) => b.count - a.count || a.messageNumber - b.messageNumber);
  }),
];
