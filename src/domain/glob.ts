/**
 * The one glob syntax of Tagway (tag filters, permissions, subscriptions, alarm names): segments are separated
 * by `.` and `/`; `*` matches within one segment, `**` across segments, `?` one character except a separator.
 * Matching is case-sensitive. Globs are compiled once and kept in a cache bounded by bytes (MAX_GLOB_LENGTH and
 * MAX_GLOB_WILDCARDS bound each one, at every entry point, since they all compile here).
 *
 * Globs come from clients (tag filters, subscriptions, alarm filters), so matching must stay linear: a RegExp
 * built from `**a**a**a**b` backtracks exponentially (30 s for a 60-character name). Patterns with at most one
 * wildcard run use the RegExp (which cannot backtrack badly with one); the others a set-of-states automaton,
 * O(name × pattern) whatever the input.
 */
import { ByteLru } from './byte-lru.js';
import { TagwayError } from './problems.js';

export type GlobMatcher = (name: string) => boolean;

/** Longest glob accepted anywhere (tag names are at most 256 characters; real filters are far shorter). */
export const MAX_GLOB_LENGTH = 1_024;
/** Default memory budget of the process-wide cache of compiled globs. */
export const DEFAULT_GLOB_CACHE_BYTES = 4 * 1024 * 1024;

// Globs arrive from clients: the cache is bounded by the estimated bytes of its entries, never by their count.
const cache = new ByteLru<GlobMatcher>(DEFAULT_GLOB_CACHE_BYTES);

/** Changes the memory budget of the glob cache (configuration, tests). */
export function setGlobCacheBudget(bytes: number): void {
  cache.resize(bytes);
}

/** What the glob cache holds now, for metrics and tests. */
export function globCacheStats(): { entries: number; bytes: number; maxBytes: number } {
  return { entries: cache.size, bytes: cache.bytes, maxBytes: cache.maxBytes };
}

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

// Token codes: a character is its UTF-16 code unit (>= 0); wildcards are negative. A typed array costs 4 bytes
// per token, which keeps a compiled glob small and its size predictable for the cache budget.
const ONE = -1;
const STAR = -2;
const GLOBSTAR = -3;

function tokenize(pattern: string): Int32Array {
  const out = new Int32Array(pattern.length);
  let n = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 42 /* * */) {
      if (pattern.charCodeAt(i + 1) === 42) {
        i++;
        out[n++] = GLOBSTAR;
      } else out[n++] = STAR;
    } else if (c === 63 /* ? */) out[n++] = ONE;
    else out[n++] = c;
  }
  return out.slice(0, n);
}

const isSeparator = (c: number) => c === 46 /* . */ || c === 47; /* / */

/**
 * Simulates the glob as a nondeterministic automaton: state i = "the first i tokens are matched". Only the
 * active states are visited, and at most one per wildcard (plus one) can be active, so a name costs
 * O(length × wildcards).
 */
function automaton(tokens: Int32Array): GlobMatcher {
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
      if (i === m || tokens[i]! >= ONE) break;
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
      const c = name.charCodeAt(k);
      const sep = isSeparator(c);
      stamp++;
      let nn = 0;
      for (let j = 0; j < n; j++) {
        const i = cur[j]!;
        if (i === m) continue;
        const t = tokens[i]!;
        if (t >= 0) {
          if (c === t) nn = add(next, nextMark, nn, i + 1);
        } else if (t === ONE) {
          if (!sep) nn = add(next, nextMark, nn, i + 1);
        } else if (t === STAR) {
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

/**
 * Estimated bytes of a cached matcher: the key (UTF-16), the compiled form, and a fixed overhead for the closure
 * and the cache entry. The RegExp figure is generous on purpose, since V8's compiled code is not measurable.
 */
const ENTRY_OVERHEAD = 256;
const REGEXP_BYTES_PER_CHAR = 24;
// Four bytes per token plus four state arrays of four bytes each.
const AUTOMATON_BYTES_PER_CHAR = 20;

function refuse(message: string, fieldMessage: string): never {
  throw new TagwayError('VALIDATION_FAILED', message, { errors: [{ field: 'glob', message: fieldMessage }] });
}

export function compileGlob(pattern: string): GlobMatcher {
  const hit = cache.get(pattern);
  if (hit) return hit;
  // Checked before any work: an over-long pattern costs nothing but this comparison.
  if (pattern.length > MAX_GLOB_LENGTH) {
    refuse(
      `The glob '${pattern.slice(0, 80)}…' has ${pattern.length} characters; at most ${MAX_GLOB_LENGTH} are allowed`,
      `at most ${MAX_GLOB_LENGTH} characters`,
    );
  }
  const wildcards = (pattern.match(/\*+|\?/g) ?? []).length;
  if (wildcards > MAX_GLOB_WILDCARDS) {
    refuse(
      `The glob '${pattern.slice(0, 80)}' has ${wildcards} wildcards; at most ${MAX_GLOB_WILDCARDS} are allowed`,
      `at most ${MAX_GLOB_WILDCARDS} wildcards`,
    );
  }
  let m: GlobMatcher;
  let bytes = 2 * pattern.length + ENTRY_OVERHEAD;
  if (!isGlob(pattern)) {
    m = (name) => name === pattern;
  } else if ((pattern.match(/\*+/g) ?? []).length <= 1) {
    const re = globToRegExp(pattern);
    m = (name) => re.test(name);
    bytes += REGEXP_BYTES_PER_CHAR * pattern.length;
  } else {
    m = automaton(tokenize(pattern));
    bytes += AUTOMATON_BYTES_PER_CHAR * pattern.length;
  }
  cache.set(pattern, m, bytes);
  return m;
}

export function matchGlob(pattern: string, name: string): boolean {
  return compileGlob(pattern)(name);
}
