import { TagwayError } from '../../domain/problems.js';
import type { TagDefinition } from '../../domain/tag-definition.js';
import type { Driver, DriverHost, DriverTag } from '../driver.js';
import type { DriverModule } from '../registry.js';
import { asConnectionProblems, type OptionProblem } from './options.js';

/**
 * The DriverModule of a driver whose connection options and per-tag bindings are read by two functions (Modbus,
 * S7): the same readers validate the project file and build the driver, so the two never disagree.
 */
export interface PolledDriverSpec<O extends C, B, C = O> {
  readOptions(source: Record<string, unknown>, problems: OptionProblem[]): O;
  readBinding(def: TagDefinition, opts: C, problems: OptionProblem[]): B | undefined;
  /** Connection options that stand in when a tag is checked alone (connection defaults never make a tag invalid). */
  tagCheckOptions: C;
  create(name: string, opts: O, bindings: Array<{ tag: DriverTag; binding: B }>, host: DriverHost): Driver;
}

export function polledDriverModule<O extends C, B, C = O>(spec: PolledDriverSpec<O, B, C>): DriverModule {
  return {
    create(connection, tags, host) {
      const problems: OptionProblem[] = [];
      const opts = spec.readOptions(connection, problems);
      const bindings = tags.map((tag) => {
        const tagProblems: OptionProblem[] = [];
        const binding = spec.readBinding(tag.def, opts, tagProblems);
        for (const [path, message] of tagProblems) problems.push([`tags.${tag.def.name}.${path}`, message]);
        return { tag, binding };
      });
      if (problems.length > 0) {
        throw new TagwayError('VALIDATION_FAILED', `Connection '${connection.name}': ${problems.map(([p, m]) => `${p} ${m}`).join('; ')}`, {
          errors: problems.map(([field, message]) => ({ field, message })),
        });
      }
      return spec.create(
        connection.name,
        opts,
        bindings.map(({ tag, binding }) => ({ tag, binding: binding! })),
        host,
      );
    },

    /** JSON pointers relative to the connection (`/port`), as the project loader appends them; messages name the option. */
    validateConnection(options) {
      const problems: OptionProblem[] = [];
      spec.readOptions(options, problems);
      return asConnectionProblems(problems);
    },

    validateTag(tag) {
      const problems: OptionProblem[] = [];
      const t = tag as Partial<TagDefinition>;
      spec.readBinding({ ...tag, access: t.access ?? 'read', scaling: t.scaling } as TagDefinition, spec.tagCheckOptions, problems);
      return problems.length === 0 ? undefined : problems.map(([p, m]) => `${p}: ${m}`).join('; ');
    },
  };
}
