import { coerceValue } from '../domain/coerce.js';
import { PERMISSIONS, type Group } from '../domain/permissions.js';
import type { TagDefinition } from '../domain/tag-definition.js';
import type { ConnectionDefinition } from '../drivers/driver.js';
import type { ProjectFile } from './schema/project.js';
import { DEFAULT_WINCC_SYSTEM_NAME, type Project } from './types.js';

/** Groups every project has unless it defines its own with the same name (api.md "Authorisation"). */
export const BUILT_IN_GROUPS: Group[] = [
  { name: 'admins', description: 'Everything', permissions: PERMISSIONS.map((permission) => ({ permission })) },
];

/** A checked project file → the runtime's view: defaults filled in, initial values coerced, built-in groups. */
export function normalise(raw: ProjectFile, file: string): Project {
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
    wincc: {
      systemName: raw.wincc?.systemName ?? DEFAULT_WINCC_SYSTEM_NAME,
      // Only when written: a profile that does not use them sees the section as before.
      ...(raw.wincc?.archiveName === undefined ? {} : { archiveName: raw.wincc.archiveName }),
      ...(raw.wincc?.restFilters === undefined ? {} : { restFilters: raw.wincc.restFilters }),
    },
    raw,
  };
}
