import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import jsyaml from 'js-yaml';
import { Compile } from 'typebox/compile';
import { readCachedProject, writeCachedProject } from './cache.js';
import { crossCheck, Unsound } from './cross-check.js';
import { locateAll } from './locate.js';
import { normalise } from './normalise.js';
import { ProjectError } from './problems.js';
import { PATTERN_MESSAGES } from './schema/common.js';
import { ProjectSchema, type ProjectFile } from './schema/project.js';
import { allSchemaErrors, summariseSchemaErrors, type PathMessage, type SchemaError } from './schema-errors.js';
import type { Project } from './types.js';
import { projectValidators } from './validators.js';

// The loader is split by concern: locate.ts (line:column), cross-check.ts, normalise.ts; types in types.ts.
// These re-exports keep the loader the one import for callers that only load projects.
export type { Project, ProjectValidator } from './types.js';
export { registerProjectValidator } from './validators.js';
export { BUILT_IN_GROUPS } from './normalise.js';

export const DEMO_PROJECT_FILE = fileURLToPath(new URL('../../projects/demo.yaml', import.meta.url));

const checkSchema = Compile(ProjectSchema);

/** Reads and validates a project file; with `cacheDir`, an unchanged file is taken from the last start's cache. */
export function loadProjectFile(file: string, opts: { cacheDir?: string | undefined } = {}): Project {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProjectError([{ file, line: 1, column: 1, path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  const validatorCount = projectValidators().length;
  if (opts.cacheDir) {
    const cached = readCachedProject(opts.cacheDir, text, file, validatorCount);
    if (cached) return cached;
  }
  const project = parseProject(text, file);
  const cacheDir = opts.cacheDir;
  // Written a little later, so that a first start does not wait for it.
  if (cacheDir) setTimeout(() => writeCachedProject(cacheDir, text, project, validatorCount), 2000).unref();
  return project;
}

/**
 * Parses and validates a project. Valid files take the fast path (js-yaml, YAML 1.2 core schema); only when
 * something is wrong is the file parsed again with a position-keeping parser to give each problem its line
 * and column. A 100,000-tag project would otherwise cost seconds of start-up for positions nobody needs.
 *
 * Every independent problem is reported in one run: schema problems do not hide the cross-checks of the
 * entries the schema vouched for, and what depends on a reported place (the tags of a connection with an
 * unknown driver, the limits of a tag with an unknown type) is not reported again.
 */
export function parseProject(text: string, file = '<project>'): Project {
  let data: unknown;
  try {
    data = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, filename: file });
  } catch (err) {
    throw new ProjectError(locateAll(text, file, [], err));
  }
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const what = data === null || data === undefined ? 'is empty' : `is ${Array.isArray(data) ? 'a list' : `a single ${typeof data}`}`;
    throw new ProjectError(
      locateAll(text, file, [
        { path: '', message: `the project file ${what}; it must be a mapping with the keys name, connections and tags` },
      ]),
    );
  }
  const problems: PathMessage[] = [];
  let unsound = new Unsound();
  if (!checkSchema.Check(data)) {
    const errors = allSchemaErrors(checkSchema, data);
    problems.push(...summariseSchemaErrors(errors, PATTERN_MESSAGES, { root: ProjectSchema, data }));
    unsound = new Unsound(unsoundPaths(errors));
  }
  const raw = data as ProjectFile;
  // Without the lists themselves, every cross-check would be a follow-on problem.
  if (Array.isArray(raw.connections) && Array.isArray(raw.tags)) {
    problems.push(...crossCheck(raw, unsound));
    for (const v of projectValidators()) problems.push(...v(raw));
  }
  if (problems.length) throw new ProjectError(locateAll(text, file, problems));
  return normalise(raw, file);
}

/**
 * The places the schema found wrong. Unknown keys are left out (they make no other check unreliable); a missing
 * key is the place of that key, so the rest of its entry is still checked.
 */
function unsoundPaths(errors: SchemaError[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    if (e.keyword === 'additionalProperties' || e.keyword === 'boolean') continue;
    if (e.keyword === 'required') {
      for (const k of (e.params.requiredProperties as string[] | undefined) ?? []) out.push(`${e.instancePath}/${k}`);
      continue;
    }
    out.push(e.instancePath);
  }
  return out;
}
