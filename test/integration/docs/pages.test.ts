/**
 * The `bash` blocks of the user guide (docs/*.md), each page run in order as one script against a fresh
 * Tagway (HTTPS, the demo plant, a temporary data dir, an ephemeral port), as the README's are. Blocks that cannot
 * run against the demo (an OPC UA server, changing the admin's password) are written as `sh` blocks instead.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_FILE } from '../../../src/project/load.js';
import { ROOT } from '../../helpers/cli.js';
import { bashBlocks, runBash } from '../../helpers/doc-blocks.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DOCS = join(ROOT, 'docs');
const pages = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .filter((f) => bashBlocks(join(DOCS, f)).some((b) => b.skip === undefined));

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('docs pages', () => {
  it('api.md has runnable examples', () => {
    expect(pages).toContain('api.md');
  });

  for (const page of pages) {
    it(`${page}: every bash block runs as written`, { timeout: 120_000 }, async () => {
      t = await startTestServer({ projectFile: DEMO_PROJECT_FILE, config: { adminPassword: undefined } });
      const blocks = bashBlocks(join(DOCS, page)).filter((b) => b.skip === undefined);
      for (const line of blocks.flatMap((b) => b.code.split('\n')))
        if (/(^|[\s;({])curl\s/.test(line.replace(/#.*$/, ''))) expect(line).toMatch(/--fail(-with-body)?\b/);
      const script = blocks.map((b) => `# ${page} line ${b.line}\n${b.code}`).join('\n');
      const before = readdirSync(ROOT).sort();
      const r = await runBash(script, { cwd: ROOT, env: { API: t.url, TAGWAY_DATA_DIR: t.dataDir }, timeoutMs: 100_000 });
      if (r.code !== 0)
        throw new Error(`exit ${r.code}\n--- stdout (end)\n${r.stdout.slice(-3000)}\n--- stderr (end)\n${r.stderr.slice(-4000)}`);
      expect(readdirSync(ROOT).sort()).toEqual(before);
    });
  }
});
