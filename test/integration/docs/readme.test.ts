/**
 * The README's shell blocks, run as written against a real Tagway (HTTPS, the demo plant, a temporary data dir,
 * an ephemeral port). Only the two variables the README itself reads are set from outside: `API` (the base
 * URL) and `TAGWAY_DATA_DIR` (where the certificate and the initial password are). Any failing command fails
 * the test: the README's `tw` is curl with `--fail-with-body`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_FILE } from '../../../src/project/load.js';
import { bashBlocks, runBash } from '../../helpers/doc-blocks.js';
import { ROOT } from '../../helpers/cli.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const README = join(ROOT, 'README.md');
let t: TestServer;

beforeAll(async () => {
  // No admin password given: the first start writes data/initial-admin-password, which the README reads.
  t = await startTestServer({ projectFile: DEMO_PROJECT_FILE, config: { adminPassword: undefined } });
});

afterAll(async () => {
  await t?.stop();
});

describe('README', () => {
  const blocks = bashBlocks(README);

  it('marks every block it does not run, with a reason', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks.filter((b) => b.skip !== undefined).map((b) => b.code.trim())).toEqual(['npm install && npm start', 'npm test']);
  });

  it('sends every curl call with --fail (an error answer must stop the script)', () => {
    const calls = blocks
      .filter((b) => b.skip === undefined)
      .flatMap((b) => b.code.split('\n'))
      .filter((l) => /(^|[\s;({])curl\s/.test(l.replace(/#.*$/, '')));
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c).toMatch(/--fail(-with-body)?\b|\s-[a-zA-Z]*f/);
  });

  it('the curl tour runs top to bottom as written', { timeout: 120_000 }, async () => {
    const before = readdirSync(ROOT).sort();
    const script = blocks
      .filter((b) => b.skip === undefined)
      .map((b) => `# README.md line ${b.line}\n${b.code}`)
      .join('\n');
    const r = await runBash(script, { cwd: ROOT, env: { API: t.url, TAGWAY_DATA_DIR: t.dataDir }, timeoutMs: 100_000 });
    if (r.code !== 0)
      throw new Error(`exit ${r.code}\n--- stdout (end)\n${r.stdout.slice(-3000)}\n--- stderr (end)\n${r.stderr.slice(-4000)}`);
    // What the comments promise: the refreshed token keeps working, the alarms were acknowledged and reset,
    // the WebSocket authenticated with its first message, and the session ended.
    expect(r.stdout).toContain('"type":"authenticated"');
    expect(r.stdout).toContain('"type":"subscribed"');
    expect(r.stdout).toMatch(/"alarm":"Line1\.EmergencyStop"[^\n]*"userResponse":"RESET"/);
    // Nothing was written into the checkout (cookie jar and CSV files go to a temporary directory).
    expect(readdirSync(ROOT).sort()).toEqual(before);
  });
});
