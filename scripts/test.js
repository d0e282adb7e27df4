// `npm test`: provisions what the suites need, lints (types, code rules, layering, format), then runs every test (unit, integration with real
// HTTPS servers and protocol peers) and ends with one plain summary line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provision } from './provision.js';

provision();

// Lint first: the type check, ESLint, the layering rules (dependency-cruiser) and the format check.
const lint = spawnSync('npm', ['run', 'lint', '--silent'], { stdio: 'inherit' });
if (lint.status !== 0) {
  console.error('Lint failed (npm run lint): fix it before the tests run.');
  process.exit(lint.status ?? 1);
}

const dir = mkdtempSync(join(tmpdir(), 'tagway-vitest-'));
const out = join(dir, 'results.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, TAGWAY_TEST: '1' } });
let summary = '';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  // A test file that cannot even load (an import error) runs no test but fails the run: count it as a failure.
  const unloaded = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  summary =
    `tests: ${r.numPassedTests} passed, ${r.numFailedTests + unloaded} failed` +
    (r.numPendingTests ? `, ${r.numPendingTests} skipped` : '');
  if (r.numTotalTests === 0) {
    console.error('No test ran.');
    process.exitCode = 1;
  }
} catch {
  summary = 'tests: 0 passed, 1 failed';
}
rmSync(dir, { recursive: true, force: true });
console.log(summary);
process.exit(run.status === 0 && !process.exitCode ? 0 : run.status || 1);
