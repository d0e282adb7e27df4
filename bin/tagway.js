#!/usr/bin/env node
// The `tagway` command (`npx tagway …` in a checkout, or on the PATH after `npm link` / `npm install -g .`).
// Runs the compiled CLI in dist/, building it first when src/ changed since the last build.
import { buildIfStale } from './build-if-stale.js';

if (!buildIfStale()) process.exit(1);
const { main } = await import('../dist/cli/main.js');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
