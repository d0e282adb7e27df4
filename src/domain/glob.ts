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
import { TagwayError } from './problems.js';

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
      if (pattern[i + 1] === '*') {
        i++;
        out.push({ kind: 'globstar' });
      } else out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'one' });
    else out.push({ kind: 'char', ch: c });
  }
  return out;
}

const isSeparator = (c: string) => c === '.' || c === '/';

/**
 * Simulates the glob as a nondeterministic automaton: state i = "the first i tokens are matched". Only the
 * active states are visited, and at most one per wildcard (plus one) can be active, so a name costs
 * O(length × wildcards).
 */
function automaton(tokens: Token[]): GlobMatcher {
  const m = tokens.length;
  // Reused between calls (matching is synchronous): the hot path allocates nothing.
  let cur = new Int32Array(m + 1),
    next = new Int32Array(m + 1);
  let curMark = new Uint32Array(m + 1),
    nextMark = new Uint32Array(m + 1);
  let stamp = 0;
  const add = (list: Int32Array, marks: Uint32Array, n: number, i: number): number => {
    // Adds state i and, since wildcards may match nothing, every state reachable through them.
    while (marks[i] !== stamp) {
      marks[i] = stamp;
      list[n++] = i;
      const t = tokens[i];
      if (t === undefined || t.kind === 'char' || t.kind === 'one') break;
      i++;
    }
    return n;
  };
  return (name) => {
    if (stamp > 0xfffffff0) {
      curMark.fill(0);
      nextMark.fill(0);
      stamp = 0;
    }
    stamp++;
    let n = add(cur, curMark, 0, 0);
    for (let k = 0; k < name.length && n > 0; k++) {
      const c = name[k]!;
      const sep = isSeparator(c);
      stamp++;
      let nn = 0;
      for (let j = 0; j < n; j++) {
        const i = cur[j]!;
        const t = tokens[i];
        if (t === undefined) continue;
        if (t.kind === 'char') {
          if (c === t.ch) nn = add(next, nextMark, nn, i + 1);
        } else if (t.kind === 'one') {
          if (!sep) nn = add(next, nextMark, nn, i + 1);
        } else if (t.kind === 'star') {
          if (!sep) nn = add(next, nextMark, nn, i);
        } else nn = add(next, nextMark, nn, i);
      }
      const l = cur;
      cur = next;
      next = l;
      const mk = curMark;
      curMark = nextMark;
      nextMark = mk;
      n = nn;
    }
    for (let j = 0; j < n; j++) if (cur[j] === m) return true;
    return false;
  };
}

/** Most wildcards in one glob: enough for any real filter, and it bounds the cost of one match. */
export const MAX_GLOB_WILDCARDS = 16;

export function compileGlob(pattern: string): GlobMatcher {
  let m = cache.get(pattern);
  if (!m) {
    const wildcards = (pattern.match(/\*+|\?/g) ?? []).length;
    if (wildcards > MAX_GLOB_WILDCARDS) {
      throw new TagwayError(
        'VALIDATION_FAILED',
        `The glob '${pattern.slice(0, 80)}' has ${wildcards} wildcards; at most ${MAX_GLOB_WILDCARDS} are allowed`,
        { errors: [{ field: 'glob', message: `at most ${MAX_GLOB_WILDCARDS} wildcards` }] },
      );
    }
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
