/**
 * The one glob syntax of Tagway (tag filters, permissions, subscriptions, alarm names): segments are separated
 * by `.` and `/`; `*` matches within one segment, `**` across segments, `?` one character except a separator.
 * Matching is case-sensitive. Globs are compiled once to a RegExp.
 */
export type GlobMatcher = (name: string) => boolean;

const cache = new Map<string, GlobMatcher>();

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `a.**` also matches `a` itself? No: `Line1.**` means "below Line1", which needs at least one more segment.
        re += '.*';
      } else {
        re += '[^./]*';
      }
    } else if (c === '?') {
      re += '[^./]';
    } else {
      re += c.replace(/[\\^$+?.()|[\]{}]/g, '\\$&');
    }
  }
  // `s` (dotAll): `**` must match any character, as `*` and `?` do, line terminators included.
  return new RegExp(re + '$', 's');
}

export function compileGlob(pattern: string): GlobMatcher {
  let m = cache.get(pattern);
  if (!m) {
    if (!isGlob(pattern)) {
      m = (name) => name === pattern;
    } else {
      const re = globToRegExp(pattern);
      m = (name) => re.test(name);
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, m);
  }
  return m;
}

export function matchGlob(pattern: string, name: string): boolean {
  return compileGlob(pattern)(name);
}
