// Compiles src/ into dist/ when a source (or the TypeScript configuration) is newer than the last build, so that
// `npx tagway …` and `npm start` work from a fresh checkout and never run a stale dist/. A no-op in an installed
// package that ships dist/ without src/. Progress goes to stderr: stdout belongs to the command (`tagway check`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.built');

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json'])
    if (existsSync(join(ROOT, f))) newest = Math.max(newest, statSync(join(ROOT, f)).mtimeMs);
  return newest;
}

/** Returns true when dist/ is usable (built now or already up to date). */
export function buildIfStale({ quiet = false } = {}) {
  if (!existsSync(join(ROOT, 'src'))) return true;
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  if (built >= newestSource()) return true;
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write(
      'Tagway is not built and TypeScript is not installed: run `npm install` (with dev dependencies), then `npm run build`.\n',
    );
    return false;
  }
  if (!quiet) process.stderr.write(existsSync(STAMP) ? 'Sources changed; rebuilding Tagway…\n' : 'Building Tagway (first run)…\n');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    process.stderr.write('The build failed (see above); nothing was started.\n');
    return false;
  }
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = buildIfStale() ? 0 : 1;
