#!/usr/bin/env node
// The `tagway` command (`npx tagway …` in a checkout, or on the PATH after `npm link` / `npm install -g .`).
// Runs the compiled CLI in dist/, building it first when src/ changed since the last build (and, for `start`, the
// web dashboard when web/ or client/ changed).
import { buildIfStale } from './build-if-stale.js';

if (!buildIfStale()) process.exit(1);
// The web dashboard too (dist/web, served at /), when its sources changed; without it the API still runs.
if (process.argv[2] === 'start') {
  const web = await import('../scripts/build-web.js').catch(() => undefined);
  if (web && !web.buildWebIfStale()) process.stderr.write('Continuing without the web dashboard.\n');
}
const { main } = await import('../dist/cli/main.js');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
