// Builds the web dashboard (web/, with the client library and the shared domain rules it imports) into dist/web with
// Vite, unless the sources are unchanged since the last build (a hash of every input file, kept in dist/web/.inputs).
// Used by `npm run build`, by bin/tagway.js (so `npm install && npm start` serves it) and by the e2e tests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'web');
const STAMP = join(OUT, '.inputs');
// The app imports the client, pure domain rules (coercion, globs), the REST schemas and a few constants from
// src/runtime and src/storage: src/ as a whole is hashed (2.6 MB, milliseconds), so that no import of the app can
// change without a rebuild, whichever folder it sits in.
const INPUTS = ['web', 'client', 'src', 'package-lock.json'];

function inputsHash() {
  const h = createHash('sha256');
  const walk = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e !== 'node_modules' && e !== 'dist') walk(join(p, e));
    } else {
      h.update(relative(ROOT, p));
      h.update(readFileSync(p));
    }
  };
  for (const i of INPUTS) walk(join(ROOT, i));
  return h.digest('hex');
}

/** Returns true when dist/web is up to date (built now or before). */
export function buildWebIfStale({ quiet = false } = {}) {
  if (!existsSync(join(ROOT, 'web', 'index.html'))) return existsSync(join(OUT, 'index.html'));
  const hash = inputsHash();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash && existsSync(join(OUT, 'index.html'))) return true;
  let vite;
  try {
    vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    process.stderr.write('The dashboard is not built and Vite is not installed: run `npm install`, then `npm run build`.\n');
    return false;
  }
  if (!quiet) process.stderr.write('Building the web dashboard…\n');
  // Built beside, then swapped in: a server starting meanwhile (tests run in parallel) never reads a half-built folder.
  const next = `${OUT}.building-${process.pid}`;
  const r = spawnSync(
    process.execPath,
    [vite, 'build', '--config', join(ROOT, 'web', 'vite.config.ts'), '--outDir', next, '--logLevel', quiet ? 'error' : 'warn'],
    // Production mode whatever called us: under vitest NODE_ENV is `test`, and Vite would then bundle React's
    // development build (measured: 138 KB instead of 79 KB gzipped for first paint).
    { cwd: ROOT, stdio: ['ignore', 2, 2], env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (r.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    process.stderr.write('The dashboard build failed (see above).\n');
    return false;
  }
  writeFileSync(join(next, '.inputs'), `${hash}\n`);
  const old = `${OUT}.old-${process.pid}`;
  if (existsSync(OUT)) renameSync(OUT, old);
  renameSync(next, OUT);
  rmSync(old, { recursive: true, force: true });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = buildWebIfStale() ? 0 : 1;
