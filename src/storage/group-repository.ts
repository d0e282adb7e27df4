import type { Group } from '../domain/permissions.js';

/** Groups created by administrators (project-file groups live in the project and are never stored). */
export interface GroupRepository {
  /** All stored groups ordered by name. */
  list(): Promise<Group[]>;
  get(name: string): Promise<Group | undefined>;
  /** Inserts or replaces a group. */
  upsert(g: Group): Promise<void>;
  /** True when the group existed. */
  delete(name: string): Promise<boolean>;
}
