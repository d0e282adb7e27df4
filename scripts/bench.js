// `npm run bench`: runs every benchmark in bench/ one after another (they would disturb each other in parallel).
// `npm run bench -- api-read` runs those whose file name contains the word.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n### bench/${f}`);
  const r = spawnSync('npx', ['tsx', `bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${f} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
