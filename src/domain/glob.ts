/**
 * The one glob syntax of Tagway (tag filters, permissions, subscriptions, alarm names): segments are separated
 * by `.` and `/`; `*` matches within one segment, `**` across segments, `?` one character except a separator.
 * Matching is case-sensitive. Globs are compiled once.
 *
 * Globs come from clients (tag filters, subscriptions, alarm filters), so matching must stay linear: a RegExp
 * built from `**a**a**a**b` backtracks exponentially (30 s for a 60-character name). Patterns with at most one
 * wildcard run use the RegExp (which cannot backtrack badly with one); the others a set-of-states automaton,
 * O(name × pattern) whatever the input.
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

type Token = { kind: 'char'; ch: string } | { kind: 'one' } | { kind: 'star' } | { kind: 'globstar' };

function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') { i++; out.push({ kind: 'globstar' }); } else out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'one' });
    else out.push({ kind: 'char', ch: c });
  }
  return out;
}

const isSeparator = (c: string) => c === '.' || c === '/';

/** Simulates the glob as a nondeterministic automaton: state i = "the first i tokens are matched". */
function automaton(tokens: Token[]): GlobMatcher {
  const m = tokens.length;
  // Reused between calls (matching is synchronous): the hot path allocates nothing.
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  const closure = (set: Uint8Array) => {
    // Stars may match nothing: being before a star also means being after it.
    for (let i = 0; i < m; i++) if (set[i] && tokens[i]!.kind !== 'char' && tokens[i]!.kind !== 'one') set[i + 1] = 1;
  };
  return (name) => {
    cur.fill(0);
    cur[0] = 1;
    closure(cur);
    for (let k = 0; k < name.length; k++) {
      const c = name[k]!;
      const sep = isSeparator(c);
      next.fill(0);
      let any = false;
      for (let i = 0; i < m; i++) {
        if (!cur[i]) continue;
        const t = tokens[i]!;
        if (t.kind === 'char') { if (c === t.ch) { next[i + 1] = 1; any = true; } }
        else if (t.kind === 'one') { if (!sep) { next[i + 1] = 1; any = true; } }
        else if (t.kind === 'star') { if (!sep) { next[i] = 1; any = true; } }
        else { next[i] = 1; any = true; }
      }
      if (!any) return false;
      closure(next);
      const t = cur; cur = next; next = t;
    }
    return cur[m] === 1;
  };
}

export function compileGlob(pattern: string): GlobMatcher {
  let m = cache.get(pattern);
  if (!m) {
    if (!isGlob(pattern)) {
      m = (name) => name === pattern;
    } else if ((pattern.match(/\*+/g) ?? []).length <= 1) {
      const re = globToRegExp(pattern);
      m = (name) => re.test(name);
    } else {
      m = automaton(tokenize(pattern));
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, m);
  }
  return m;
}

export function matchGlob(pattern: string, name: string): boolean {
  return compileGlob(pattern)(name);
}
