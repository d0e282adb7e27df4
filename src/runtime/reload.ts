import { sameValue } from '../domain/same-value.js';
import type { ConnectionDefinition } from '../drivers/driver.js';
import type { Project } from '../project/types.js';
import type { TagDefinition } from '../domain/tag-definition.js';

/** The tag fields a live reload may change (on the tag's connection, which is then restarted). */
export const RELOADABLE_TAG_FIELDS = ['address', 'options', 'scaling'] as const;

/** Something in a new project that only a restart can apply. */
export interface RestartReason {
  /** JSON pointer-like location in the project file, e.g. `/tags/Line1.Speed/type`. */
  path: string;
  message: string;
}

/** What a new project changes against the running one, connection by connection. */
export interface ProjectDiff {
  /** Connections whose definition changed, or one of whose tags got a new address/options/scaling. */
  changed: string[];
  /** Connections only in the new project (they have no tags: the tag list must be unchanged). */
  added: string[];
  /** Connections only in the running project (without tags). */
  removed: string[];
  /** Connections that stay exactly as they are. */
  unchanged: string[];
  /** Changes a live reload cannot apply; empty when the reload can go ahead. */
  restartNeeded: RestartReason[];
}

/** The answer of a reload: which connections were restarted and which were left alone. */
export interface ReloadResult {
  changed: string[];
  added: string[];
  removed: string[];
  unchanged: string[];
}

/** The fields of two tag definitions that differ, in the definition's key order. */
function differingFields(a: TagDefinition, b: TagDefinition): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !sameValue((a as unknown as Record<string, unknown>)[k], (b as unknown as Record<string, unknown>)[k]));
}

const RELOADABLE = new Set<string>(RELOADABLE_TAG_FIELDS);

/** The project-file sections outside connections and tags; any change to them needs a restart. */
const OTHER_SECTIONS: Array<[key: keyof Project['raw'], what: string]> = [
  ['name', 'the project name'],
  ['description', 'the project description'],
  ['alarmClasses', 'alarm classes'],
  ['alarms', 'alarms'],
  ['groups', 'groups'],
  ['users', 'users'],
  ['clients', 'API clients'],
  ['northbound', 'the northbound front ends (OPC UA server, MQTT publisher)'],
];

/**
 * Compares a new project with the running one. Live: connections added, removed or with new options (even a
 * new driver), and a new address/options/scaling of a tag (its connection restarts). Everything else — tags
 * added, removed, reordered or otherwise changed, alarms, users, groups, clients, the project name — needs a
 * restart and is listed in `restartNeeded`.
 */
export function diffProjects(current: Project, next: Project): ProjectDiff {
  const restartNeeded: RestartReason[] = [];
  for (const [key, what] of OTHER_SECTIONS) {
    if (!sameValue(current.raw[key], next.raw[key])) restartNeeded.push({ path: `/${key}`, message: `${what} changed` });
  }

  const oldTags = new Map(current.tags.map((t) => [t.name, t]));
  const newTags = new Map(next.tags.map((t) => [t.name, t]));
  for (const t of next.tags) if (!oldTags.has(t.name)) restartNeeded.push({ path: `/tags/${t.name}`, message: `tag '${t.name}' added` });
  for (const t of current.tags)
    if (!newTags.has(t.name)) restartNeeded.push({ path: `/tags/${t.name}`, message: `tag '${t.name}' removed` });
  const common = (list: TagDefinition[], other: Map<string, TagDefinition>) => list.filter((t) => other.has(t.name)).map((t) => t.name);
  const oldOrder = common(current.tags, newTags),
    newOrder = common(next.tags, oldTags);
  if (!sameValue(oldOrder, newOrder)) restartNeeded.push({ path: '/tags', message: 'the order of the tags changed' });

  const retagged = new Set<string>();
  for (const t of current.tags) {
    const n = newTags.get(t.name);
    if (!n) continue;
    const fields = differingFields(t, n);
    const fixed = fields.filter((f) => !RELOADABLE.has(f));
    if (fixed.length) restartNeeded.push({ path: `/tags/${t.name}`, message: `tag '${t.name}': ${fixed.join(', ')} changed` });
    else if (fields.length) retagged.add(t.connection);
  }

  const oldConns = new Map(current.connections.map((c) => [c.name, c]));
  const newConns = new Map<string, ConnectionDefinition>(next.connections.map((c) => [c.name, c]));
  const changed: string[] = [],
    added: string[] = [],
    removed: string[] = [],
    unchanged: string[] = [];
  for (const c of current.connections) {
    const n = newConns.get(c.name);
    if (!n) removed.push(c.name);
    else if (!sameValue(c, n) || retagged.has(c.name)) changed.push(c.name);
    else unchanged.push(c.name);
  }
  for (const c of next.connections) if (!oldConns.has(c.name)) added.push(c.name);
  return { changed, added, removed, unchanged, restartNeeded };
}
