import type { Group } from '../domain/permissions.js';
import type { TagDefinition } from '../domain/tag-definition.js';
import type { ConnectionDefinition } from '../drivers/driver.js';
import type { ProjectFile, UserEntry } from './schema/project.js';
import type { WinccAlarmFilter } from './schema/wincc.js';
import type { PathMessage } from './schema-errors.js';

/** A validated project, ready for the runtime. */
export interface WinccSettings {
  /** The system name in data point names (`<systemName>:<tag name>.`). */
  systemName: string;
  /** Classic WinCC's one tag logging archive (default `Tagway`). */
  archiveName?: string | undefined;
  /** Classic WinCC's named alarm filters, as written (the built-in `All` is the profile's). */
  restFilters?: Array<{ name: string; filter: WinccAlarmFilter }> | undefined;
}

/** The system name when the project names none. */
export const DEFAULT_WINCC_SYSTEM_NAME = 'Tagway';
/** The tag logging archive name when the project names none. */
export const DEFAULT_WINCC_ARCHIVE_NAME = 'Tagway';

export interface Project {
  name: string;
  description?: string | undefined;
  file: string;
  connections: ConnectionDefinition[];
  tags: TagDefinition[];
  groups: Group[];
  users: UserEntry[];
  /** The WinCC profiles' settings, defaults filled in (absent only in projects built by hand, e.g. in tests). */
  wincc?: WinccSettings | undefined;
  /** The validated file as written, for modules that own a section (alarms). */
  raw: ProjectFile;
}

/**
 * Cross-checks a module adds on top of the schema (e.g. alarm definitions against tags). When the project schema
 * found problems, a validator still runs (so that one run reports every independent problem) on the entries
 * that could be read; a tag whose `type` is not a tag type is passed as it is and must not cause follow-on
 * problems of its own.
 */
export type ProjectValidator = (project: ProjectFile) => PathMessage[];
