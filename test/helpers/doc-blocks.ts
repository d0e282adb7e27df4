import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A fenced ```bash block of a Markdown page, and whether the page marks it as not run by the docs tests. */
export interface DocBlock {
  code: string;
  line: number;
  skip: string | undefined;
}

/**
 * The ```bash blocks of a page in order. A block right after `<!-- docs-test: skip (reason) -->` is left out by
 * the tests (it starts the server, installs, or runs the test suite itself); every other block is run.
 */
export function bashBlocks(file: string): DocBlock[] {
  const text = readFileSync(file, 'utf8');
  const out: DocBlock[] = [];
  const re = /(?:<!--\s*docs-test:\s*skip\s*\(([^)]*)\)\s*-->\s*\n)?```bash\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ code: m[2]!, line: text.slice(0, m.index).split('\n').length, skip: m[1] });
  return out;
}

/**
 * Runs a script with bash as a user pasting it would, but stopping at the first failing command (`set -e` with
 * pipefail), so that a failed curl (`--fail-with-body`) fails the test. Asynchronous: the server under test runs
 * in this process and must keep answering.
 */
export function runBash(
  script: string,
  opts: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TAGWAY_')) delete env[k];
  const proc = spawn('bash', ['-c', `set -eo pipefail -x\n${script}`], { cwd: opts.cwd, env: { ...env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs);
  return new Promise((resolve) =>
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
