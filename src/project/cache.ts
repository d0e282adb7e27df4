import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { driverNames } from '../drivers/registry.js';
import type { Project } from './types.js';

/**
 * The validated project of the last start, kept in the data dir. Parsing and checking a 100,000-tag YAML file
 * takes most of a second; a restart with an unchanged file reads this JSON instead. The key covers the file's
 * bytes and the code that validated it (its build time and the registered drivers), so any change of either
 * is validated afresh. A damaged or unreadable cache is ignored.
 */
const CODE_STAMP = (() => {
  // The newest modification time of the code (src/ or dist/) that validates projects: any rebuild changes it.
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  try {
    walk(root);
  } catch {
    return String(Math.random());
  }
  return String(newest);
})();

function keyOf(text: string, validators: number): string {
  return createHash('sha256')
    .update(text)
    .update('\0')
    .update(CODE_STAMP)
    .update('\0')
    .update(driverNames().join(','))
    .update('\0')
    .update(String(validators))
    .digest('hex')
    .slice(0, 32);
}

export function readCachedProject(dir: string, text: string, file: string, validators: number): Project | undefined {
  try {
    const p = JSON.parse(readFileSync(join(dir, `project-${keyOf(text, validators)}.json`), 'utf8')) as Project;
    return { ...p, file };
  } catch {
    return undefined;
  }
}

export function writeCachedProject(dir: string, text: string, project: Project, validators: number): void {
  try {
    mkdirSync(dir, { recursive: true });
    const name = `project-${keyOf(text, validators)}.json`;
    for (const f of readdirSync(dir)) if (f.startsWith('project-') && f !== name) rmSync(join(dir, f), { force: true });
    const tmp = join(dir, `${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(project));
    renameSync(tmp, join(dir, name));
  } catch {
    // The cache only saves time; failing to write it must never stop a start.
  }
}
