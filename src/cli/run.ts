// Runs the CLI from source: `node --import tsx src/cli/run.ts …` (tests and development, no build step).
// bin/tagway.js does the same for the compiled dist/.
import { main } from './main.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
