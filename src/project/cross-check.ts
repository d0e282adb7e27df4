import { coerceValue } from '../domain/coerce.js';
import { compileGlob } from '../domain/glob.js';
import { grantScopeProblem, type Permission } from '../domain/permissions.js';
import { closest, didYouMean } from '../domain/suggest.js';
import { BIG_INTEGER_RANGES, INTEGER_RANGES, isBigIntegerType, isIntegerType, isNumericType, TAG_TYPES } from '../domain/tag-types.js';
import { driverModule, driverNames } from '../drivers/registry.js';
import { BUILT_IN_GROUPS } from './normalise.js';
import type { ProjectFile } from './schema/project.js';
import type { PathMessage } from './schema-errors.js';

const INTERNAL_DRIVERS = new Set(['simulator', 'internal']);

/**
 * The places the schema already reported (JSON pointers). A cross-check that reads such a place, or a place
 * inside or above it, is skipped: one root cause gives one message, not a cascade.
 */
export class Unsound {
  private readonly at = new Set<string>();
  private readonly below = new Set<string>();
  constructor(paths: Iterable<string> = []) {
    for (const p of paths) {
      this.at.add(p);
      for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) this.below.add(p.slice(0, i));
      this.below.add('');
    }
  }
  get empty(): boolean {
    return this.at.size === 0;
  }
  /** True when nothing at `path`, inside it or above it was reported. */
  ok(...paths: string[]): boolean {
    if (this.at.size === 0) return true;
    for (const path of paths) {
      if (this.at.has(path) || this.below.has(path)) return false;
      for (let i = path.lastIndexOf('/'); i >= 0; i = i === 0 ? -1 : path.lastIndexOf('/', i - 1))
        if (this.at.has(path.slice(0, i))) return false;
    }
    return true;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const TYPES = new Set<string>(TAG_TYPES);
const sound = (): boolean => true;

/**
 * Checks across entries (names unique, references resolve, values fit the tag type, drivers accept the options
 * and addresses). With schema problems (`unsound`), the entries the schema vouched for are still checked.
 */
export function crossCheck(p: ProjectFile, unsound = new Unsound()): PathMessage[] {
  const out: PathMessage[] = [];
  // connection name → its driver, or null when the driver is unknown (its tags are not checked against it)
  const connections = new Map<string, string | null>();
  const connectionList = Array.isArray(p.connections) ? p.connections : [];
  connectionList.forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== 'string') return;
    const base = `/connections/${i}`;
    if (connections.has(c.name) && unsound.ok(`${base}/name`))
      out.push({ path: `${base}/name`, message: `duplicate connection name '${c.name}'` });
    if (typeof c.driver !== 'string' || !unsound.ok(`${base}/driver`)) {
      connections.set(c.name, null);
      return;
    }
    const mod = driverModule(c.driver);
    if (!mod) {
      connections.set(c.name, null);
      const near = closest(c.driver, driverNames());
      out.push({
        path: `${base}/driver`,
        message: near
          ? `unknown driver '${c.driver}'; did you mean '${near}'? (known drivers: ${driverNames().join(', ')})`
          : `unknown driver '${c.driver}'; known drivers: ${driverNames().join(', ')}`,
      });
      return;
    }
    connections.set(c.name, c.driver);
    const { name: _n, driver: _d, description: _desc, ...options } = c;
    for (const [path, message] of mod.validateConnection?.(options) ?? []) out.push({ path: `${base}${path}`, message });
  });
  const names = new Set<string>();
  const tagList = Array.isArray(p.tags) ? p.tags : [];
  // A valid file (the common case, 100,000 tags in a big plant) pays nothing for the follow-on bookkeeping.
  const allSound = unsound.empty;
  tagList.forEach((t, i) => {
    if (!isObject(t)) return;
    const at = (k: string) => `/tags/${i}/${k}`;
    const ok: (...keys: string[]) => boolean = allSound ? sound : (...keys) => unsound.ok(...keys.map(at));
    if (typeof t.name === 'string' && ok('name')) {
      if (names.has(t.name)) out.push({ path: at('name'), message: `duplicate tag name '${t.name}'` });
      names.add(t.name);
    }
    const typeOk = ok('type') && TYPES.has(t.type);
    let driver: string | null | undefined = null;
    if (typeof t.connection === 'string' && ok('connection')) {
      driver = connections.get(t.connection);
      if (driver === undefined)
        out.push({
          path: at('connection'),
          message: `no connection named '${t.connection}'${didYouMean(t.connection, connections.keys())}`,
        });
    }
    // From here on, `driver` is a known driver's name, or the checks that need one are skipped.
    const known = typeof driver === 'string' ? driver : undefined;
    if (known !== undefined && ok('simulation')) {
      if (t.simulation && known !== 'simulator')
        out.push({
          path: at('simulation'),
          message: `'simulation' needs a connection with driver 'simulator', '${t.connection}' uses '${known}'`,
        });
      if (known === 'simulator' && !t.simulation)
        out.push({ path: `/tags/${i}`, message: `a tag of a simulator connection needs 'simulation'` });
    }
    if (known !== undefined && !INTERNAL_DRIVERS.has(known) && t.address === undefined)
      out.push({ path: `/tags/${i}`, message: `a tag of a '${known}' connection needs 'address'` });
    if (known !== undefined && typeOk && ok('address', 'options')) {
      const problem = driverModule(known)?.validateTag?.(t);
      if (problem) out.push({ path: t.address !== undefined ? at('address') : `/tags/${i}`, message: problem });
    }
    if (!typeOk) return; // every check below compares against the tag type
    const numeric = isNumericType(t.type);
    for (const k of ['min', 'max'] as const) {
      const v = t[k];
      if (v === undefined || !ok(k)) continue;
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
    if (t.min !== undefined && t.max !== undefined && numeric && ok('min', 'max')) {
      const lo = isBigIntegerType(t.type) ? safeBig(t.min) : Number(t.min);
      const hi = isBigIntegerType(t.type) ? safeBig(t.max) : Number(t.max);
      if (lo !== undefined && hi !== undefined && lo > hi)
        out.push({ path: at('max'), message: `'max' (${t.max}) is below 'min' (${t.min})` });
    }
    if (t.maxLength !== undefined && t.type !== 'String' && ok('maxLength'))
      out.push({ path: at('maxLength'), message: `'maxLength' applies to String tags only` });
    if (t.initial !== undefined && ok('initial', 'min', 'max', 'maxLength')) {
      const r = coerceValue(t.type, t.initial, t);
      if (!r.ok) out.push({ path: at('initial'), message: `initial value: ${r.message}` });
    }
    if (t.history && ok('history')) {
      if (!numeric && t.type !== 'Bool' && t.history.deadband !== undefined)
        out.push({ path: at('history/deadband'), message: `a deadband applies to numeric tags only` });
      if ((t.history.mode === 'cyclic' || t.history.mode === 'both') && t.history.intervalMs === undefined)
        out.push({ path: at('history'), message: `history mode '${t.history.mode}' needs 'intervalMs'` });
    }
    const s = t.simulation;
    if (s && ok('simulation')) {
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
  const groupList = Array.isArray(p.groups) ? p.groups : [];
  groupList.forEach((g, i) => {
    if (!isObject(g) || typeof g.name !== 'string') return;
    if (defined.has(g.name) && unsound.ok(`/groups/${i}/name`))
      out.push({ path: `/groups/${i}/name`, message: `duplicate group name '${g.name}'` });
    defined.add(g.name);
    groups.add(g.name);
    if (!Array.isArray(g.permissions)) return;
    g.permissions.forEach((grant, j) => {
      const path = `/groups/${i}/permissions/${j}/tags`;
      if (!isObject(grant) || typeof grant.tags !== 'string' || !unsound.ok(path)) return;
      const scope =
        typeof grant.permission === 'string'
          ? grantScopeProblem({ permission: grant.permission as Permission, tags: grant.tags })
          : undefined;
      if (scope) out.push({ path, message: scope });
      try {
        compileGlob(grant.tags);
      } catch (err) {
        out.push({ path, message: (err as Error).message });
      }
    });
  });
  const users = new Set<string>();
  const userList = Array.isArray(p.users) ? p.users : [];
  userList.forEach((u, i) => {
    if (!isObject(u)) return;
    const at = (k: string) => `/users/${i}/${k}`;
    if (typeof u.username === 'string' && unsound.ok(at('username'))) {
      if (users.has(u.username)) out.push({ path: at('username'), message: `duplicate user '${u.username}'` });
      users.add(u.username);
    }
    if (unsound.ok(at('password'), at('passwordHash'))) {
      if (u.password !== undefined && u.passwordHash !== undefined)
        out.push({ path: `/users/${i}`, message: `give either 'password' or 'passwordHash', not both` });
      if (u.password === undefined && u.passwordHash === undefined)
        out.push({ path: `/users/${i}`, message: `a user needs 'passwordHash' (or 'password' for demos)` });
    }
    if (!Array.isArray(u.groups)) return;
    u.groups.forEach((g, j) => {
      if (typeof g === 'string' && unsound.ok(at(`groups/${j}`)) && !groups.has(g))
        out.push({ path: at(`groups/${j}`), message: `no group named '${g}'${didYouMean(g, groups)}` });
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
