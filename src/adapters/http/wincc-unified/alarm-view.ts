import type { AlarmClass } from '../../../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../../../domain/alarms/records.js';
import { unifiedQuality } from './quality.js';

/**
 * Tagway's alarm occurrences (current list) and journal events as Unified's ActiveAlarm and LoggedAlarm. The
 * multilingual attributes are lists with one entry per requested language; `texts` holds the event text of each
 * occurrence (or event) per language. Attributes Tagway does not have are null (or their neutral value).
 */

export const MULTILINGUAL = new Set([
  'eventtext',
  'infotext',
  'alarmtext1',
  'alarmtext2',
  'alarmtext3',
  'alarmtext4',
  'alarmtext5',
  'alarmtext6',
  'alarmtext7',
  'alarmtext8',
  'alarmtext9',
  'statetext',
  'alarmclasssymbol',
  'alarmtype',
]);

export interface AlarmContext {
  languages: readonly string[];
  /** The event text of an occurrence (or event) in a language. */
  text(id: number | string, lang: string): string;
  classes: ReadonlyMap<string, { id: number; cls: AlarmClass }>;
  shelved(alarm: string): boolean;
  hostName: string;
  now: number;
}

const GOOD = unifiedQuality(0xc0);

/** `#d32f2f` → `#D32F2FFF` (Unified's colours carry alpha). */
export function color(css: string | undefined): string | null {
  if (!css || !/^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(css)) return null;
  return (css.length === 7 ? `${css}FF` : css).toUpperCase();
}

function isoDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round((s % 60) * 1000) / 1000;
  return `PT${h}H${m}M${sec}S`;
}

function stateText(state: string): string {
  return state === 'RAISED'
    ? 'Raised'
    : state.includes('CLEARED') && state.includes('ACKNOWLEDGED')
      ? 'Cleared, acknowledged'
      : state.includes('CLEARED')
        ? 'Cleared'
        : 'Acknowledged';
}

function common(
  c: AlarmContext,
  a: { id: number; alarm: string; class: string; priority: number; tag: string | null; value: unknown; state: string },
  textKey: number | string,
) {
  const cls = c.classes.get(a.class);
  const langs = c.languages;
  const per = (f: (lang: string) => string): string[] => langs.map(f);
  return {
    name: a.alarm,
    instanceID: a.id,
    alarmGroupID: 0,
    state: a.state,
    textColor: color('#ffffff'),
    backColor: color(cls?.cls.color),
    languages: [...langs],
    alarmClassName: a.class,
    alarmClassSymbol: per(() => a.class),
    alarmClassID: cls?.id ?? 0,
    stateMachine: cls?.cls.stateMachine ?? null,
    priority: a.priority,
    alarmParameterValues: [a.value],
    alarmType: per(() => a.class),
    eventText: per((l) => c.text(textKey, l)),
    infoText: per(() => ''),
    alarmText1: per(() => ''),
    alarmText2: per(() => ''),
    alarmText3: per(() => ''),
    alarmText4: per(() => ''),
    alarmText5: per(() => ''),
    alarmText6: per(() => ''),
    alarmText7: per(() => ''),
    alarmText8: per(() => ''),
    alarmText9: per(() => ''),
    stateText: per(() => stateText(a.state)),
    origin: a.tag ?? '',
    area: '',
    valueLimit: null,
    sourceType: a.tag === null ? 'SYSTEM' : 'TAG',
    suppressionState: c.shelved(a.alarm) ? 'SHELVED' : 'UNSUPPRESSED',
    hostName: c.hostName,
    value: a.value,
    valueQuality: GOOD,
    quality: GOOD,
    invalidFlags: { invalidConfiguration: false, invalidTimestamp: false, invalidAlarmParameter: false, invalidEventText: false },
    producer: 'WINCC',
  };
}

const ms = (iso: string | null | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

export function activeAlarm(o: AlarmOccurrence, c: AlarmContext, connectionName: string | null) {
  const times = [ms(o.raisedAt), ms(o.clearedAt), ms(o.acknowledgedAt)].filter((t): t is number => t !== undefined);
  const modified = new Date(Math.max(...times)).toISOString();
  const raised = ms(o.raisedAt) ?? c.now;
  const cls = c.classes.get(o.class)?.cls;
  const needsAck = cls !== undefined && cls.stateMachine !== 'RAISE_CLEAR';
  return {
    ...common(c, o, o.id),
    raiseTime: o.raisedAt,
    acknowledgmentTime: o.acknowledgedAt,
    clearTime: o.clearedAt,
    resetTime: null,
    modificationTime: modified,
    flashing: needsAck && !o.acknowledged,
    changeReason: [],
    connectionName,
    userName: o.acknowledgedBy ?? '',
    deadBand: null,
    duration: Math.max(0, c.now - raised),
    durationIso: isoDuration(c.now - raised),
    sourceID: o.tag ?? '',
    systemSeverity: 0,
    loopInAlarm: '',
    loopInAlarmParameterValues: null,
    path: o.tag ?? '',
    userResponse: o.userResponse,
  };
}

const REASON: Record<string, string> = {
  RAISED: 'ALARM_STATE_CHANGED_RAISE_EVENT',
  CLEARED: 'ALARM_STATE_CHANGED_CLEAR_EVENT',
  ACKNOWLEDGED: 'ALARM_STATE_CHANGED_ACKNOWLEDGE_EVENT',
  RESET: 'ALARM_STATE_CHANGED_RESET_EVENT',
};

/** A journal event as a LoggedAlarm: the occurrence as this event left it. */
export function loggedAlarm(e: AlarmEventRecord, c: AlarmContext) {
  return {
    ...common(c, e, e.eventId),
    raiseTime: e.event === 'RAISED' ? e.at : null,
    acknowledgmentTime: e.event === 'ACKNOWLEDGED' ? e.at : null,
    clearTime: e.event === 'CLEARED' ? e.at : null,
    resetTime: e.event === 'RESET' ? e.at : null,
    modificationTime: e.at,
    changeReason: [REASON[e.event] ?? 'ALARM_EXTERNAL_UPDATE'],
    userName: e.user ?? '',
    deadband: null,
    duration: 0,
    durationIso: 'PT0H0M0S',
    hasComments: false,
  };
}

/** An attribute of a mapped alarm by its case-insensitive name; a multilingual one in the filter language (index 0). */
export function attributeGetter(known: ReadonlySet<string>) {
  return (row: Record<string, unknown>, attr: string): string | number | boolean | null | undefined => {
    const key = attr.toLowerCase();
    if (!known.has(key)) return undefined;
    const v = row[canonical.get(key) ?? attr];
    if (Array.isArray(v)) return MULTILINGUAL.has(key) ? (v[0] as string | undefined) : (v[0] as string | number | undefined);
    if (v === null || v === undefined) return v;
    if (typeof v === 'object') return undefined;
    return v as string | number | boolean;
  };
}

/** Lower-case attribute names → the field names of ActiveAlarm and LoggedAlarm. */
const canonical = new Map<string, string>();
export function registerAttributes(names: Iterable<string>): Set<string> {
  const set = new Set<string>();
  for (const n of names) {
    canonical.set(n.toLowerCase(), n);
    set.add(n.toLowerCase());
  }
  return set;
}
