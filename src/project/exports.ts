import { existsSync } from 'node:fs';
import { Cron } from 'croner';
import { Compile } from 'typebox/compile';
import { NUMERIC_REPORT_AGGREGATES, type ReportAggregate } from '../domain/exports/aggregates.js';
import { calendarProblems, type ShiftCalendar } from '../domain/shifts/calendar.js';
import { isTimeZone } from '../domain/shifts/zone.js';
import { isNumericType, TAG_TYPES, type TagType } from '../domain/tag-types.js';
import { ExportsSectionSchema, type ExportsSection, type ReportEntry, type TargetEntry } from './schema/exports.js';
import type { ProjectFile } from './schema/project.js';
import { ShiftsSectionSchema, type ShiftsSection } from './schema/shifts.js';
import { allSchemaErrors, brokenEntries, summariseSchemaErrors, type PathMessage } from './schema-errors.js';
import type { Project } from './types.js';

/**
 * The `shifts:` and `exports:` sections. Like the alarm sections, the project schema leaves them open and this
 * module owns them (registered in validators.ts). Secrets in targets may be written `${ENV_VAR}`: they are read
 * from the environment when the project is loaded (a missing one is a project error) and kept only in memory:
 * the project file, its cache and the API carry the placeholder, never the value.
 */
const checkShifts = Compile(ShiftsSectionSchema);
const checkExports = Compile(ExportsSectionSchema);

export const DEFAULT_DELAY_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PENDING = 10_000;
export const DEFAULT_GIVE_UP_AFTER_MS = 7 * 86_400_000;

/** Placeholders every `map:` may use beside the report's field names. */
export const BUILT_IN_PLACEHOLDERS = ['report', 'shift', 'date', 'start', 'end', 'key'] as const;

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${VAR}`s from `env`; the names of missing variables go to `missing`. */
export function resolveEnv(s: string, env: Record<string, string | undefined>, missing: string[] = []): string {
  return s.replace(ENV_REF, (_, name: string) => {
    const v = env[name];
    if (v === undefined) {
      missing.push(name);
      return '';
    }
    return v;
  });
}

/** `{field}` placeholders of a map value. */
export function placeholders(v: unknown): string[] {
  return typeof v === 'string' ? [...v.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)(?::string)?\}/g)].map((m) => m[1]!) : [];
}

/** A cron trigger: 5 fields (minute precision), checked with croner. Undefined when fine, else the problem. */
export function cronProblem(expr: string, timeZone: string): string | undefined {
  if (expr.trim().split(/\s+/).length !== 5) return `trigger '${expr}' is neither 'shiftEnd' nor a 5-field cron expression`;
  try {
    new Cron(expr, { timezone: timeZone, paused: true });
    return undefined;
  } catch (err) {
    return `trigger '${expr}': ${(err as Error).message}`;
  }
}

const REQUIRED: Record<TargetEntry['kind'], (keyof TargetEntry)[]> = {
  webhook: ['secret'],
  'sap-odata': ['entitySet', 'username', 'password', 'map'],
  dynamics: ['entitySet', 'tokenUrl', 'clientId', 'clientSecret', 'scope', 'map'],
};
const SECRET_KEYS: (keyof TargetEntry)[] = ['url', 'secret', 'username', 'password', 'tokenUrl', 'clientId', 'clientSecret', 'scope', 'ca'];

export function validateExportSections(raw: ProjectFile, env: Record<string, string | undefined> = process.env): PathMessage[] {
  const out: PathMessage[] = [];
  let zone: string | undefined;

  if (raw.shifts !== undefined) {
    if (!checkShifts.Check(raw.shifts)) {
      for (const p of summariseSchemaErrors(allSchemaErrors(checkShifts, raw.shifts), undefined, {
        root: ShiftsSectionSchema,
        data: raw.shifts,
      }))
        out.push({ path: `/shifts${p.path}`, message: p.message });
    } else {
      const s = raw.shifts as ShiftsSection;
      if (!isTimeZone(s.timeZone))
        out.push({ path: '/shifts/timeZone', message: `'${s.timeZone}' is not an IANA time zone this runtime knows` });
      else zone = s.timeZone;
      for (const p of calendarProblems(s)) out.push({ path: `/shifts/shifts/${p.index ?? 0}`, message: p.message });
      s.holidays?.forEach((h, i) => {
        if (Number.isNaN(Date.parse(`${h}T00:00:00Z`))) out.push({ path: `/shifts/holidays/${i}`, message: `'${h}' is not a date` });
      });
    }
  }
  if (raw.exports === undefined) return out;
  let broken = { reports: new Set<number>(), targets: new Set<number>() };
  if (!checkExports.Check(raw.exports)) {
    const errors = allSchemaErrors(checkExports, raw.exports);
    for (const p of summariseSchemaErrors(errors, undefined, { root: ExportsSectionSchema, data: raw.exports }))
      out.push({ path: `/exports${p.path}`, message: p.message });
    const under = (key: string) =>
      brokenEntries(
        errors
          .filter((e) => e.instancePath.startsWith(`/${key}/`))
          .map((e) => ({ ...e, instancePath: e.instancePath.slice(key.length + 1) })),
      );
    broken = { reports: under('reports'), targets: under('targets') };
  }
  const ex = raw.exports as Partial<ExportsSection> | null;
  if (ex === null || typeof ex !== 'object') return out;
  const targets = Array.isArray(ex.targets) ? ex.targets : [];
  const reports = Array.isArray(ex.reports) ? ex.reports : [];
  const targetNames = new Map<string, TargetEntry>();
  targets.forEach((t, i) => {
    if (broken.targets.has(i) || !t) return;
    const base = `/exports/targets/${i}`;
    if (targetNames.has(t.name)) out.push({ path: `${base}/name`, message: `duplicate target name '${t.name}'` });
    targetNames.set(t.name, t);
    for (const k of REQUIRED[t.kind]) if (t[k] === undefined) out.push({ path: base, message: `a ${t.kind} target needs '${k}'` });
    for (const k of SECRET_KEYS) {
      const v = t[k];
      if (typeof v !== 'string') continue;
      const missing: string[] = [];
      const resolved = resolveEnv(v, env, missing);
      for (const name of missing) out.push({ path: `${base}/${k}`, message: `environment variable '${name}' is not set` });
      if (k === 'ca' && !missing.length && !existsSync(resolved))
        out.push({ path: `${base}/ca`, message: `CA file '${resolved}' does not exist` });
    }
    for (const [h, v] of Object.entries(t.headers ?? {})) {
      const missing: string[] = [];
      resolveEnv(v, env, missing);
      for (const name of missing) out.push({ path: `${base}/headers/${h}`, message: `environment variable '${name}' is not set` });
    }
  });
  const tags = new Map<string, { type: TagType; history: boolean }>();
  for (const t of Array.isArray(raw.tags) ? raw.tags : [])
    if (t && typeof t.name === 'string') tags.set(t.name, { type: t.type as TagType, history: t.history !== undefined });
  const reportNames = new Set<string>();
  reports.forEach((r, i) => {
    if (broken.reports.has(i) || !r) return;
    const base = `/exports/reports/${i}`;
    if (reportNames.has(r.name)) out.push({ path: `${base}/name`, message: `duplicate report name '${r.name}'` });
    reportNames.add(r.name);
    if (r.trigger === 'shiftEnd') {
      if (raw.shifts === undefined) out.push({ path: `${base}/trigger`, message: "trigger 'shiftEnd' needs a 'shifts:' section" });
    } else {
      const p = cronProblem(r.trigger, zone ?? 'UTC');
      if (p) out.push({ path: `${base}/trigger`, message: p });
    }
    const fieldNames = new Set<string>();
    r.fields.forEach((f, j) => out.push(...fieldProblems(f, `${base}/fields/${j}`, tags, fieldNames)));
    r.targets.forEach((name, j) => {
      const t = targetNames.get(name);
      if (!t) {
        if (!targets.some((x) => x?.name === name)) out.push({ path: `${base}/targets/${j}`, message: `unknown target '${name}'` });
        return;
      }
      for (const [key, v] of Object.entries(t.map ?? {}))
        for (const ph of placeholders(v))
          if (!fieldNames.has(ph) && !(BUILT_IN_PLACEHOLDERS as readonly string[]).includes(ph))
            out.push({
              path: `${base}/targets/${j}`,
              message: `target '${name}' maps ${key} from '{${ph}}', which is not a field of report '${r.name}' (nor one of ${BUILT_IN_PLACEHOLDERS.join(', ')})`,
            });
    });
  });
  return out;
}

function fieldProblems(
  f: ReportEntry['fields'][number],
  base: string,
  tags: Map<string, { type: TagType; history: boolean }>,
  names: Set<string>,
): PathMessage[] {
  const out: PathMessage[] = [];
  if (names.has(f.name)) out.push({ path: `${base}/name`, message: `duplicate field name '${f.name}'` });
  names.add(f.name);
  if (f.aggregate === 'alarmCount') {
    if (f.alarms === undefined) out.push({ path: base, message: "aggregate 'alarmCount' needs 'alarms' (an alarm name glob)" });
    if (f.tag !== undefined) out.push({ path: `${base}/tag`, message: "aggregate 'alarmCount' counts alarms: use 'alarms', not 'tag'" });
    return out;
  }
  if (f.tag === undefined) return [...out, { path: base, message: `aggregate '${f.aggregate}' needs 'tag'` }];
  if (f.alarms !== undefined) out.push({ path: `${base}/alarms`, message: "'alarms' is only for aggregate 'alarmCount'" });
  const tag = tags.get(f.tag);
  if (!tag) return [...out, { path: `${base}/tag`, message: `unknown tag '${f.tag}'` }];
  if (!tag.history) out.push({ path: `${base}/tag`, message: `tag '${f.tag}' logs no history (add 'history:' to the tag)` });
  if (NUMERIC_REPORT_AGGREGATES.has(f.aggregate as ReportAggregate) && (TAG_TYPES as readonly string[]).includes(tag.type)) {
    const ok = isNumericType(tag.type) || tag.type === 'Bool';
    if (!ok)
      out.push({ path: `${base}/aggregate`, message: `aggregate '${f.aggregate}' needs a numeric or Bool tag; '${f.tag}' is ${tag.type}` });
  }
  return out;
}

/** A target with its `${ENV}` secrets resolved. Never logged, never returned by the API. */
export interface ExportTargetConfig extends TargetEntry {
  timeoutMs: number;
  maxPending: number;
  giveUpAfterMs: number;
}

export interface ExportReportConfig extends ReportEntry {
  delayMs: number;
}

export interface ExportsConfig {
  calendar: ShiftCalendar | undefined;
  reports: ExportReportConfig[];
  targets: ExportTargetConfig[];
}

/** The validated sections of a loaded project, defaults filled in and secrets resolved from `env`. */
export function exportsOfProject(project: Project, env: Record<string, string | undefined> = process.env): ExportsConfig {
  const shifts = project.raw.shifts as ShiftsSection | undefined;
  const ex = (project.raw.exports ?? {}) as ExportsSection;
  // A project taken from the start-up cache skipped the validators: a variable unset since then is caught here.
  const missing: string[] = [];
  for (const t of ex.targets ?? []) {
    for (const k of SECRET_KEYS) if (typeof t[k] === 'string') resolveEnv(t[k], env, missing);
    for (const v of Object.values(t.headers ?? {})) resolveEnv(v, env, missing);
  }
  if (missing.length)
    throw new Error(
      `exports: environment variable${missing.length > 1 ? 's' : ''} ${[...new Set(missing)].map((m) => `'${m}'`).join(', ')} not set`,
    );
  return {
    calendar: shifts ? { timeZone: shifts.timeZone, shifts: shifts.shifts, holidays: shifts.holidays } : undefined,
    reports: (ex.reports ?? []).map((r) => ({ ...r, delayMs: r.delayMs ?? DEFAULT_DELAY_MS })),
    targets: (ex.targets ?? []).map((t) => {
      const resolved: Record<string, unknown> = { ...t };
      for (const k of SECRET_KEYS) if (typeof t[k] === 'string') resolved[k] = resolveEnv(t[k], env);
      if (t.headers) resolved.headers = Object.fromEntries(Object.entries(t.headers).map(([h, v]) => [h, resolveEnv(v, env)]));
      return {
        ...(resolved as TargetEntry),
        timeoutMs: t.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxPending: t.maxPending ?? DEFAULT_MAX_PENDING,
        giveUpAfterMs: t.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS,
      };
    }),
  };
}
