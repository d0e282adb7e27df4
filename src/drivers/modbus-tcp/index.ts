import { TagwayError } from '../../domain/problems.js';
import type { DriverModule } from '../registry.js';
import type { Problems } from '../shared/options.js';
import { readBinding, readConnectionOptions } from './config.js';
import { ModbusTcpDriver } from './driver.js';

/**
 * `driver: modbus-tcp`. Register with `registerDriver('modbus-tcp', modbusTcp)`.
 * Options and address syntax: docs/drivers/modbus-tcp.md.
 */
export const modbusTcp: DriverModule = {
  create(connection, tags, host) {
    const problems: Problems = [];
    const opts = readConnectionOptions(connection, problems);
    const bindings = tags.map((tag) => {
      const tagProblems: Problems = [];
      const binding = readBinding(tag.def, opts, tagProblems);
      for (const [path, message] of tagProblems) problems.push([`tags.${tag.def.name}.${path}`, message]);
      return { tag, binding };
    });
    if (problems.length > 0) {
      throw new TagwayError('VALIDATION_FAILED', `Connection '${connection.name}': ${problems.map(([p, m]) => `${p} ${m}`).join('; ')}`,
        { errors: problems.map(([field, message]) => ({ field, message })) });
    }
    return new ModbusTcpDriver(connection.name, opts, bindings.map(({ tag, binding }) => ({ tag, binding: binding! })), host);
  },

  /** Paths are JSON pointers relative to the connection (`/port`), as the project loader appends them. */
  validateConnection(options) {
    const problems: Problems = [];
    readConnectionOptions(options, problems);
    return problems.map(([path, message]) => [pointer(path), message]);
  },

  validateTag(tag) {
    const problems: Problems = [];
    // Connection-level defaults do not change whether a tag is valid; the standard ones stand in for them.
    readBinding({ ...tag, access: (tag as { access?: 'read' | 'readwrite' }).access ?? 'read', scaling: (tag as { scaling?: never }).scaling },
      { byteOrder: 'big', wordOrder: 'big', unitId: 1, pollMs: 1000, writeMultiple: false }, problems);
    return problems.length === 0 ? undefined : problems.map(([p, m]) => `${p}: ${m}`).join('; ');
  },
};

export { ModbusTcpDriver } from './driver.js';
export type { ModbusStats } from './driver.js';

function pointer(path: string): string { return '/' + path.split('.').join('/'); }
