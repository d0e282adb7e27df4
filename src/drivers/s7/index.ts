import { TagwayError } from '../../domain/problems.js';
import type { DriverModule } from '../registry.js';
import type { Problems } from '../shared/options.js';
import { readS7Binding, readS7ConnectionOptions } from './config.js';
import { S7Driver } from './driver.js';

/**
 * `driver: s7` (Siemens S7-300/400/1200/1500 over ISO-on-TCP, through nodes7). Register with
 * `registerDriver('s7', s7)`. Options and address syntax: docs/drivers/s7.md.
 */
export const s7: DriverModule = {
  create(connection, tags, host) {
    const problems: Problems = [];
    const opts = readS7ConnectionOptions(connection, problems);
    const bindings = tags.map((tag) => {
      const tagProblems: Problems = [];
      const binding = readS7Binding(tag.def, opts, tagProblems);
      for (const [path, message] of tagProblems) problems.push([`tags.${tag.def.name}.${path}`, message]);
      return { tag, binding };
    });
    if (problems.length > 0) {
      throw new TagwayError('VALIDATION_FAILED', `Connection '${connection.name}': ${problems.map(([p, m]) => `${p} ${m}`).join('; ')}`,
        { errors: problems.map(([field, message]) => ({ field, message })) });
    }
    return new S7Driver(connection.name, opts, bindings.map(({ tag, binding }) => ({ tag, binding: binding! })), host);
  },

  /** Paths are JSON pointers relative to the connection (`/port`), as the project loader appends them. */
  validateConnection(options) {
    const problems: Problems = [];
    readS7ConnectionOptions(options, problems);
    return problems.map(([path, message]) => [pointer(path), message]);
  },

  validateTag(tag) {
    const problems: Problems = [];
    readS7Binding({ ...tag, scaling: (tag as { scaling?: never }).scaling }, { pollMs: 1000 }, problems);
    return problems.length === 0 ? undefined : problems.map(([p, m]) => `${p}: ${m}`).join('; ');
  },
};

export { S7Driver } from './driver.js';
export type { S7Stats } from './driver.js';
export { parseS7Address } from './address.js';

function pointer(path: string): string { return '/' + path.split('.').join('/'); }
