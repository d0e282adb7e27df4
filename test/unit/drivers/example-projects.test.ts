import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mqtt } from '../../../src/drivers/mqtt/index.js';
import { opcua } from '../../../src/drivers/opcua/index.js';
import type { DriverModule } from '../../../src/drivers/registry.js';

/** The example projects use only options the drivers accept (the project loader checks the rest). */
describe.each([
  ['opcua', opcua],
  ['mqtt', mqtt],
] as Array<[string, DriverModule]>)('projects/examples/%s.yaml', (name, module) => {
  const project = parse(readFileSync(`projects/examples/${name}.yaml`, 'utf8')) as {
    connections: Array<Record<string, unknown>>;
    tags: Array<{ name: string; type: string; connection: string; address?: string; options?: Record<string, unknown> }>;
  };
  it('has valid connections and tags', () => {
    expect(project.connections.length).toBeGreaterThan(0);
    for (const c of project.connections) {
      expect(c['driver']).toBe(name);
      expect(module.validateConnection!(c), String(c['name'])).toEqual([]);
    }
    for (const t of project.tags) expect(module.validateTag!(t), t.name).toBeUndefined();
  });
});
