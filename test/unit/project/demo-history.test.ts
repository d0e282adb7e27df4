import { describe, expect, it } from 'vitest';
import { isNumericType } from '../../../src/domain/tag-types.js';
import { DEMO_PROJECT_FILE, loadProjectFile } from '../../../src/project/load.js';

describe('demo plant history', () => {
  it('logs every simulated analog measurement and counter, and nothing that is not numeric', () => {
    const project = loadProjectFile(DEMO_PROJECT_FILE);
    const analog = new Set(['sine', 'randomWalk', 'random', 'ramp', 'counter']);
    const shouldLog = project.tags.filter((t) => t.simulation && analog.has(t.simulation.kind) && isNumericType(t.type)).map((t) => t.name);
    const logs = project.tags.filter((t) => t.history).map((t) => t.name);
    expect(shouldLog.length).toBeGreaterThanOrEqual(15);
    expect(logs.sort()).toEqual(shouldLog.sort());
  });
});
