import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Compile } from 'typebox/compile';
import { Settings } from 'typebox/system';
import jsyaml from 'js-yaml';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter } from 'yaml';

// The position-keeping parser is only needed when a file has problems; loading it lazily keeps start-up lean.
const requireCjs = createRequire(import.meta.url);
let yamlLib: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  return (yamlLib ??= requireCjs('yaml') as typeof Yaml);
}
import { coerceValue } from '../domain/coerce.js';
import { compileGlob } from '../domain/glob.js';
import { grantScopeProblem, PERMISSIONS, type Group } from '../domain/permissions.js';
import { BIG_INTEGER_RANGES, INTEGER_RANGES, isIntegerType, isNumericType, isBigIntegerType } from '../domain/tag-types.js';
import type { ConnectionDefinition } from '../drivers/driver.js';
import { driverModule, driverNames } from '../drivers/registry.js';
import type { TagDefinition } from '../domain/tag-definition.js';
import { readCachedProject, writeCachedProject } from './cache.js';
import { ProjectError, type ProjectProblem } from './problems.js';
import { PATTERN_MESSAGES } from './schema/common.js';
import { ProjectSchema, type ProjectFile, type UserEntry } from './schema/project.js';
import { summariseSchemaErrors, type PathMessage, type SchemaError } from './schema-errors.js';

/** A validated project, ready for the runtime. */
export interface Project {
  name: string;
  description?: string | undefined;
  file: string;
  connections: ConnectionDefinition[];
  tags: TagDefinition[];
  groups: Group[];
  users: UserEntry[];
  /** The validated file as written, for modules that own a section (alarms). */
  raw: ProjectFile;
}

export const DEMO_PROJECT_FILE = fileURLToPath(new URL('../../projects/demo.yaml', import.meta.url));

/** Cross-checks a module adds on top of the schema (e.g. alarm definitions against tags). */
export type ProjectValidator = (project: ProjectFile) => PathMessage[];
const validators: ProjectValidator[] = [];
export function registerProjectValidator(v: ProjectValidator): void {
  validators.push(v);
}

const checkSchema = Compile(ProjectSchema);

/** Groups every project has unless it defines its own with the same name (api.md "Authorisation"). */
export const BUILT_IN_GROUPS: Group[] = [
  { name: 'admins', description: 'Everything', permissions: PERMISSIONS.map((permission) => ({ permission })) },
];

/** Reads and validates a project file; with `cacheDir`, an unchanged file is taken from the last start's cache. */
export function loadProjectFile(file: string, opts: { cacheDir?: string | undefined } = {}): Project {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProjectError([{ file, line: 1, column: 1, path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  if (opts.cacheDir) {
    const cached = readCachedProject(opts.cacheDir, text, file, validators.length);
    if (cached) return cached;
  }
  const project = parseProject(text, file);
  const cacheDir = opts.cacheDir;
  // Written a little later, so that a first start does not wait for it.
  if (cacheDir) setTimeout(() => writeCachedProject(cacheDir, text, project, validators.length), 2000).unref();
  return project;
}

/**
 * Parses and validates a project. Valid files take the fast path (js-yaml, YAML 1.2 core schema); only when
 * something is wrong is the file parsed again with a position-keeping parser to give each problem its line
 * and column. A 100,000-tag project would otherwise cost seconds of start-up for positions nobody needs.
 */
export function parseProject(text: string, file = '<project>'): Project {
  let data: unknown;
  try {
    data = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, filename: file });
  } catch (err) {
    throw new ProjectError(locateAll(text, file, [], err));
  }
  const problems: PathMessage[] = [];
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const what = data === null || data === undefined ? 'is empty' : `is ${Array.isArray(data) ? 'a list' : `a single ${typeof data}`}`;
    throw new ProjectError(
      locateAll(text, file, [
        { path: '', message: `the project file ${what}; it must be a mapping with the keys name, connections and tags` },
      ]),
    );
  }
  if (!checkSchema.Check(data)) {
    problems.push(...summariseSchemaErrors(allSchemaErrors(data), PATTERN_MESSAGES));
    throw new ProjectError(locateAll(text, file, problems));
  }
  const raw = data as ProjectFile;
  problems.push(...crossCheck(raw));
  for (const v of validators) problems.push(...v(raw));
  if (problems.length) throw new ProjectError(locateAll(text, file, problems));
  return normalise(raw, file);
}

/**
 * Every schema error, not just the first few: TypeBox buffers at most `maxErrors` (default 8, a guard for
 * untrusted API bodies), which would hide most problems of a project file. The file is trusted local input,
 * so the cap is lifted for this one synchronous call and restored at once.
 */
function allSchemaErrors(data: unknown): SchemaError[] {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 100_000 });
  try {
    return checkSchema.Errors(data) as SchemaError[];
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

/**
 * Gives problems (or the YAML syntax errors) their line and column. `yamlError` is the fast parser's exception:
 * when the position-keeping parser accepts what js-yaml refused (an unknown `!tag`, an alias without anchor),
 * the problem is still reported, at the best position either parser knows.
 */
function locateAll(text: string, file: string, problems: PathMessage[], yamlError?: unknown): ProjectProblem[] {
  const lineCounter = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: ProjectProblem[] = [];
  const at = (offset: number, message: string) => {
    const pos = lineCounter.linePos(offset);
    out.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML: ${message}` });
  };
  for (const e of doc.errors) at(e.pos[0], yamlMessage(doc, e.code, e.message, e.pos[0]));
  if (yamlError !== undefined && out.length === 0) {
    for (const w of doc.warnings)
      if (w.code === 'TAG_RESOLVE_FAILED') at(w.pos[0], `unknown tag: ${w.message.replace(/^Unresolved tag:\s*/, '')}`);
    yaml().visit(doc, {
      Alias(_, node) {
        if (!node.resolve(doc) && node.range)
          at(node.range[0], `alias '*${node.source}' refers to no anchor '&${node.source}' defined before it`);
      },
    });
  }
  if (yamlError !== undefined && out.length === 0) {
    // js-yaml's mark is 0-based and sits just after the offending token.
    const e = yamlError as { reason?: string; message?: string; mark?: { line: number; column: number } };
    const reason = e.reason ?? e.message ?? 'the file could not be read as YAML';
    out.push({ file, line: (e.mark?.line ?? 0) + 1, column: (e.mark?.column ?? 0) + 1, path: '', message: `YAML: ${reason}` });
  }
  for (const p of problems) out.push({ file, ...position(doc, lineCounter, p.path), path: p.path, message: p.message });
  return sortProblems(out);
}

/** The YAML parser's message in the project file's words. */
function yamlMessage(doc: Document, code: string, message: string, offset: number): string {
  if (code === 'MULTIPLE_DOCS') return 'a project file holds one YAML document, but a second one starts here (---)';
  if (code === 'DUPLICATE_KEY') {
    let key: unknown;
    yaml().visit(doc, {
      Pair(_, pair) {
        if (yaml().isScalar(pair.key) && pair.key.range?.[0] === offset) {
          key = pair.key.value;
          return yaml().visit.BREAK;
        }
        return undefined;
      },
    });
    return key === undefined ? 'duplicate key' : `duplicate key '${String(key)}'`;
  }
  return message.split('\n')[0] ?? message;
}

function sortProblems(p: ProjectProblem[]): ProjectProblem[] {
  return p.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Line and column of the node at a JSON pointer, or of its nearest existing parent. A mapping entry is located
 * at its key (an unknown key, a wrong value and a missing sub-key all point at the entry's name), a list item at
 * its start.
 */
function position(doc: Document, lc: LineCounter, pointer: string): { line: number; column: number } {
  const segments =
    pointer === ''
      ? []
      : pointer
          .split('/')
          .slice(1)
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of segments) {
    if (yaml().isAlias(node)) node = node.resolve(doc);
    if (yaml().isSeq(node)) {
      const item = /^\d+$/.test(seg) ? node.items[Number(seg)] : undefined;
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else if (yaml().isMap(node)) {
      const pair = node.items.find((p) => yaml().isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else break;
  }
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
}

const INTERNAL_DRIVERS = new Set(['simulator', 'internal']);

function crossCheck(p: ProjectFile): PathMessage[] {
  const out: PathMessage[] = [];
  const connections = new Map<string, string>();
  p.connections.forEach((c, i) => {
    if (connections.has(c.name)) out.push({ path: `/connections/${i}/name`, message: `duplicate connection name '${c.name}'` });
    connections.set(c.name, c.driver);
    const mod = driverModule(c.driver);
    if (!mod) {
      out.push({ path: `/connections/${i}/driver`, message: `unknown driver '${c.driver}'; known drivers: ${driverNames().join(', ')}` });
      return;
    }
    const { name: _n, driver: _d, description: _desc, ...options } = c;
    for (const [path, message] of mod.validateConnection?.(options) ?? []) out.push({ path: `/connections/${i}${path}`, message });
  });
  const names = new Set<string>();
  p.tags.forEach((t, i) => {
    const at = (k: string) => `/tags/${i}/${k}`;
    if (names.has(t.name)) out.push({ path: at('name'), message: `duplicate tag name '${t.name}'` });
    names.add(t.name);
    const driver = connections.get(t.connection);
    if (driver === undefined) out.push({ path: at('connection'), message: `no connection named '${t.connection}'` });
    if (t.simulation && driver !== undefined && driver !== 'simulator')
      out.push({
        path: at('simulation'),
        message: `'simulation' needs a connection with driver 'simulator', '${t.connection}' uses '${driver}'`,
      });
    if (driver === 'simulator' && !t.simulation)
      out.push({ path: `/tags/${i}`, message: `a tag of a simulator connection needs 'simulation'` });
    if (driver !== undefined && !INTERNAL_DRIVERS.has(driver) && t.address === undefined)
      out.push({ path: `/tags/${i}`, message: `a tag of a '${driver}' connection needs 'address'` });
    if (driver !== undefined) {
      const problem = driverModule(driver)?.validateTag?.(t);
      if (problem) out.push({ path: t.address !== undefined ? at('address') : `/tags/${i}`, message: problem });
    }
    const numeric = isNumericType(t.type);
    for (const k of ['min', 'max'] as const) {
      const v = t[k];
      if (v === undefined) continue;
      if (!numeric) {
        out.push({ path: at(k), message: `'${k}' applies to numeric tags only, not ${t.type}` });
        continue;
      }
      if (typeof v === 'string' && !(isBigIntegerType(t.type) && /^-?(0|[1-9][0-9]*)$/.test(v)))
        out.push({ path: at(k), message: `'${k}' must be a number${isBigIntegerType(t.type) ? ' or a decimal integer string' : ''}` });
      else if (isIntegerType(t.type) && typeof v === 'number' && !Number.isInteger(v))
        out.push({ path: at(k), message: `'${k}' must be an integer for ${t.type}` });
      else {
        const r = coerceValue(t.type, typeof v === 'number' && isBigIntegerType(t.type) ? String(v) : v);
        if (!r.ok) out.push({ path: at(k), message: `'${k}': ${r.message}` });
      }
    }
    if (t.min !== undefined && t.max !== undefined && numeric) {
      const lo = isBigIntegerType(t.type) ? safeBig(t.min) : Number(t.min);
      const hi = isBigIntegerType(t.type) ? safeBig(t.max) : Number(t.max);
      if (lo !== undefined && hi !== undefined && lo > hi)
        out.push({ path: at('max'), message: `'max' (${t.max}) is below 'min' (${t.min})` });
    }
    if (t.maxLength !== undefined && t.type !== 'String')
      out.push({ path: at('maxLength'), message: `'maxLength' applies to String tags only` });
    if (t.initial !== undefined) {
      const r = coerceValue(t.type, t.initial, t);
      if (!r.ok) out.push({ path: at('initial'), message: `initial value: ${r.message}` });
    }
    if (t.history && !numeric && t.type !== 'Bool' && t.history.deadband !== undefined)
      out.push({ path: at('history/deadband'), message: `a deadband applies to numeric tags only` });
    if (t.history && (t.history.mode === 'cyclic' || t.history.mode === 'both') && t.history.intervalMs === undefined)
      out.push({ path: at('history'), message: `history mode '${t.history.mode}' needs 'intervalMs'` });
    const s = t.simulation;
    if (s) {
      if (s.min !== undefined && s.max !== undefined && s.min > s.max)
        out.push({ path: at('simulation/max'), message: `simulation 'max' is below 'min'` });
      // A counter whose bounds the type cannot hold would stick at the type's limit instead of wrapping.
      for (const k of ['min', 'max'] as const) {
        const v = s[k];
        if (v === undefined || !isIntegerType(t.type)) continue;
        const r = isBigIntegerType(t.type) ? BIG_INTEGER_RANGES[t.type] : INTEGER_RANGES[t.type as keyof typeof INTEGER_RANGES];
        const fits =
          typeof r.min === 'bigint'
            ? BigInt(Math.trunc(v)) >= r.min && BigInt(Math.trunc(v)) <= (r.max as bigint)
            : v >= r.min && v <= (r.max as number);
        if (!fits)
          out.push({ path: at(`simulation/${k}`), message: `simulation '${k}' (${v}) is outside the ${t.type} range ${r.min}…${r.max}` });
      }
      if (s.kind === 'text' && t.type !== 'String')
        out.push({ path: at('simulation/kind'), message: `simulation 'text' needs a String tag` });
      if (s.kind === 'text' && !s.values) out.push({ path: at('simulation'), message: `simulation 'text' needs 'values'` });
      if (s.kind === 'clock' && t.type !== 'DateTime')
        out.push({ path: at('simulation/kind'), message: `simulation 'clock' needs a DateTime tag` });
      if (['sine', 'ramp', 'randomWalk', 'square', 'counter', 'random'].includes(s.kind) && !numeric && t.type !== 'Bool') {
        out.push({ path: at('simulation/kind'), message: `simulation '${s.kind}' needs a numeric or Bool tag, not ${t.type}` });
      }
    }
  });
  const groups = new Set<string>(BUILT_IN_GROUPS.map((g) => g.name));
  const defined = new Set<string>();
  (p.groups ?? []).forEach((g, i) => {
    if (defined.has(g.name)) out.push({ path: `/groups/${i}/name`, message: `duplicate group name '${g.name}'` });
    defined.add(g.name);
    groups.add(g.name);
    g.permissions.forEach((grant, j) => {
      if (grant.tags === undefined) return;
      const scope = grantScopeProblem(grant);
      if (scope) out.push({ path: `/groups/${i}/permissions/${j}/tags`, message: scope });
      try {
        compileGlob(grant.tags);
      } catch (err) {
        out.push({ path: `/groups/${i}/permissions/${j}/tags`, message: (err as Error).message });
      }
    });
  });
  const users = new Set<string>();
  (p.users ?? []).forEach((u, i) => {
    if (users.has(u.username)) out.push({ path: `/users/${i}/username`, message: `duplicate user '${u.username}'` });
    users.add(u.username);
    if (u.password !== undefined && u.passwordHash !== undefined)
      out.push({ path: `/users/${i}`, message: `give either 'password' or 'passwordHash', not both` });
    if (u.password === undefined && u.passwordHash === undefined)
      out.push({ path: `/users/${i}`, message: `a user needs 'passwordHash' (or 'password' for demos)` });
    u.groups.forEach((g, j) => {
      if (!groups.has(g)) out.push({ path: `/users/${i}/groups/${j}`, message: `no group named '${g}'` });
    });
  });
  return out;
}

function safeBig(v: number | string): bigint | undefined {
  try {
    return BigInt(v);
  } catch {
    return undefined;
  }
}

function normalise(raw: ProjectFile, file: string): Project {
  const drivers = new Map(raw.connections.map((c) => [c.name, c.driver]));
  const tags: TagDefinition[] = raw.tags.map((t) => {
    const internal = drivers.get(t.connection) === 'internal';
    const def: TagDefinition = {
      ...t,
      access: t.access ?? (internal ? 'readwrite' : 'read'),
      simulation: t.simulation ? { ...t.simulation, cycleMs: t.simulation.cycleMs ?? 1000 } : undefined,
    };
    if (t.initial !== undefined) {
      const r = coerceValue(t.type, t.initial, t);
      if (r.ok) def.initial = r.value;
    }
    return def;
  });
  const groups = new Map<string, Group>(BUILT_IN_GROUPS.map((g) => [g.name, g]));
  for (const g of raw.groups ?? []) groups.set(g.name, g);
  return {
    name: raw.name,
    description: raw.description,
    file,
    connections: raw.connections as ConnectionDefinition[],
    tags,
    groups: [...groups.values()],
    users: raw.users ?? [],
    raw,
  };
}
