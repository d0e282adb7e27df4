import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT_FILE, loadProjectFile } from '../../../src/project/load.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'projects', 'examples');

describe('shipped projects pass the real loader', () => {
  it('the demo plant', () => {
    const p = loadProjectFile(DEMO_PROJECT_FILE);
    expect(p.tags.length).toBeGreaterThanOrEqual(40);
    const types = new Set(p.tags.map((t) => t.type));
    expect(types.size).toBe(13);
    expect(p.tags.some((t) => t.access === 'read' && t.connection === 'internal')).toBe(true);
  });
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    it(f, () => {
      expect(loadProjectFile(join(dir, f)).tags.length).toBeGreaterThan(0);
    });
  }
  it('there is one example per driver', () => {
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(['modbus-tcp.yaml', 'mqtt.yaml', 'opcua.yaml', 's7.yaml']));
  });
});
