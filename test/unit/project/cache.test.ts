import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadProjectFile } from '../../../src/project/load.js';
import { ProjectError } from '../../../src/project/problems.js';

const YAML = (initial: number) => `name: Cache test
connections: [{ name: internal, driver: internal }]
tags: [{ name: A, type: Int16, connection: internal, initial: ${initial} }]
`;

describe('validated-project cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagway-cache-'));
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves an unchanged file from the cache and revalidates a changed one', () => {
    vi.useFakeTimers();
    const file = join(dir, 'p.yaml');
    const cacheDir = join(dir, 'cache');
    writeFileSync(file, YAML(1));
    const first = loadProjectFile(file, { cacheDir });
    vi.advanceTimersByTime(2500);
    expect(readdirSync(cacheDir).filter((f) => f.startsWith('project-'))).toHaveLength(1);
    expect(loadProjectFile(file, { cacheDir })).toEqual(first);
    writeFileSync(file, YAML(2));
    expect(loadProjectFile(file, { cacheDir }).tags[0]!.initial).toBe(2);
    // An invalid file is never answered from an old cache entry.
    writeFileSync(file, YAML(40000));
    expect(() => loadProjectFile(file, { cacheDir })).toThrow(ProjectError);
    vi.advanceTimersByTime(2500);
    expect(readdirSync(cacheDir).filter((f) => f.startsWith('project-'))).toHaveLength(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
