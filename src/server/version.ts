import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Tagway's version, from package.json (read once; the same file whether run from src/ or dist/src/). */
export function tagwayVersion(): string {
  if (cached === undefined) {
    const here = new URL('.', import.meta.url);
    // src/server/ in a checkout, dist/src/server/ in a build: package.json is two or three levels up.
    const candidates = [new URL('../../package.json', here), new URL('../../../package.json', here)];
    for (const c of candidates) {
      try {
        const pkg = JSON.parse(readFileSync(c, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'tagway' && pkg.version) {
          cached = pkg.version;
          break;
        }
      } catch {
        // not this level
      }
    }
    cached ??= 'unknown';
  }
  return cached;
}
