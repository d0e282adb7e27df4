#!/usr/bin/env node
// Runs the compiled CLI (npm run build). `npm start` builds first.
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
