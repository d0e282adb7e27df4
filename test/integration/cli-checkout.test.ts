/**
 * `npx tagway …` in a fresh checkout: bin/tagway.js builds dist/ on first use and again only when src/ changed
 * (which is also what keeps `npm start` from rebuilding every time). Runs on a copy of the checkout, so the real
 * dist/ is never touched.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'tagway-checkout-'));
  for (const p of ['bin', 'src', 'projects', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
    cpSync(join(ROOT, p), join(copy, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

function tagway(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [join(copy, 'bin', 'tagway.js'), ...args], { cwd: copy });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('bin/tagway.js in a checkout', () => {
  it('builds on first use, not again while src/ is unchanged, and again after a change', { timeout: 240_000 }, async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    const first = await tagway(['version']);
    expect(first).toEqual({ code: 0, stdout: `${version}\n`, stderr: 'Building Tagway (first run)…\n' });
    const second = await tagway(['check', 'projects/demo.yaml']);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(second.stdout).toMatch(/^projects\/demo\.yaml: OK/);
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(copy, 'src', 'config.ts'), later, later);
    const third = await tagway(['version']);
    expect(third).toEqual({ code: 0, stdout: `${version}\n`, stderr: 'Sources changed; rebuilding Tagway…\n' });
  });
});
