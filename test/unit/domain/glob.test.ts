import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileGlob,
  DEFAULT_GLOB_CACHE_BYTES,
  globCacheStats,
  globToRegExp,
  isGlob,
  MAX_GLOB_LENGTH,
  matchGlob,
  setGlobCacheBudget,
} from '../../../src/domain/glob.js';

describe('glob: examples of the API contract', () => {
  it('`Line1.*` matches one segment below Line1', () => {
    expect(matchGlob('Line1.*', 'Line1.Speed')).toBe(true);
    expect(matchGlob('Line1.*', 'Line1.Filler.Speed')).toBe(false);
    expect(matchGlob('Line1.*', 'Line1')).toBe(false);
    expect(matchGlob('Line1.*', 'Line2.Speed')).toBe(false);
  });
  it('`Line1.**` matches across segments', () => {
    expect(matchGlob('Line1.**', 'Line1.Speed')).toBe(true);
    expect(matchGlob('Line1.**', 'Line1.Filler.Speed')).toBe(true);
    expect(matchGlob('Line1.**', 'Line1/Filler.Speed')).toBe(false); // the separator after Line1 is literal
    expect(matchGlob('Line1.**', 'Line10.Speed')).toBe(false);
    expect(matchGlob('Line1.**', 'Line1')).toBe(false); // "below Line1" needs one more segment
  });
});

describe('glob: separators, wildcards, literals', () => {
  it('`/` is a segment separator like `.`', () => {
    expect(matchGlob('Line1/*', 'Line1/Filler')).toBe(true);
    expect(matchGlob('Line1/*', 'Line1/Filler.Speed')).toBe(false);
    expect(matchGlob('Line1/*', 'Line1/Filler/Speed')).toBe(false);
    expect(matchGlob('Line1/**', 'Line1/Filler/Speed')).toBe(true);
    expect(matchGlob('Line1/**', 'Line1/Filler.Speed')).toBe(true);
    expect(matchGlob('*.Speed', 'Line1/Filler.Speed')).toBe(false);
    expect(matchGlob('**.Speed', 'Line1/Filler.Speed')).toBe(true);
  });

  it('`*` matches within one segment, including the empty run', () => {
    expect(matchGlob('Tank*.Level', 'Tank1.Level')).toBe(true);
    expect(matchGlob('Tank*.Level', 'Tank.Level')).toBe(true);
    expect(matchGlob('Tank*.Level', 'Tank1.A.Level')).toBe(false);
    expect(matchGlob('*', 'Speed')).toBe(true);
    expect(matchGlob('*', 'Line1.Speed')).toBe(false);
    expect(matchGlob('**', 'Line1.Filler/Speed')).toBe(true);
    expect(matchGlob('*.*', 'a.b')).toBe(true);
    expect(matchGlob('*.*', 'a.b.c')).toBe(false);
  });

  it('`?` matches exactly one character, never a separator', () => {
    expect(matchGlob('Tank?.Level', 'Tank1.Level')).toBe(true);
    expect(matchGlob('Tank?.Level', 'Tank12.Level')).toBe(false);
    expect(matchGlob('Tank?.Level', 'Tank.Level')).toBe(false);
    expect(matchGlob('a?b', 'a.b')).toBe(false);
    expect(matchGlob('a?b', 'a/b')).toBe(false);
    expect(matchGlob('a?b', 'a b')).toBe(true);
  });

  it('is case-sensitive', () => {
    expect(matchGlob('line1.*', 'Line1.Speed')).toBe(false);
    expect(matchGlob('Line1.speed', 'Line1.Speed')).toBe(false);
    expect(matchGlob('Line1.Spee?', 'Line1.SpeeD')).toBe(true);
    expect(matchGlob('Line1.*', 'LINE1.Speed')).toBe(false);
  });

  it.each([
    ['DB1[3].Value', 'DB1[3].Value', 'DB13.Value'],
    ['Array[0]', 'Array[0]', 'Array0'],
    ['Pump#1', 'Pump#1', 'Pump#2'],
    ['Motor (A)', 'Motor (A)', 'Motor A'],
    ['a+b', 'a+b', 'aab'],
    ['Cost$', 'Cost$', 'Cost'],
    ['Tank 1.Level', 'Tank 1.Level', 'Tank1.Level'],
    ['x^y', 'x^y', 'y'],
    ['a|b', 'a|b', 'a'],
    ['a{2}', 'a{2}', 'aa'],
    ['back\\slash', 'back\\slash', 'backslash'],
    ['ns=2:s-x', 'ns=2:s-x', 'ns=2:s_x'],
  ])('regex metacharacters are literal in the plain pattern %j', (p, yes, no) => {
    expect(matchGlob(p, yes)).toBe(true);
    expect(matchGlob(p, no)).toBe(false);
  });

  it.each([
    ['DB1[*].Value', 'DB1[3].Value', 'DB13.Value'],
    ['Pump#*', 'Pump#12', 'Pump12'],
    ['Motor (?)', 'Motor (A)', 'Motor xAx'],
    ['*+*', 'a+b', 'ab'],
    ['*$', 'Cost$', 'Cost'],
    ['Tank ?.*', 'Tank 1.Level', 'Tank1.Level'],
    ['[*]', '[abc]', 'a'],
    ['(*)**', '(x).y', 'x.y'],
    ['a.b*', 'a.bc', 'axbc'],
  ])('regex metacharacters are literal in the wildcard pattern %j', (p, yes, no) => {
    expect(matchGlob(p, yes)).toBe(true);
    expect(matchGlob(p, no)).toBe(false);
  });

  it('isGlob recognises wildcards only', () => {
    expect(isGlob('Line1.*')).toBe(true);
    expect(isGlob('Tank?')).toBe(true);
    expect(isGlob('DB1[3].Value')).toBe(false);
    expect(isGlob('')).toBe(false);
  });

  it('a pattern without wildcards matches only itself', () => {
    expect(matchGlob('Line1.Speed', 'Line1.Speed')).toBe(true);
    expect(matchGlob('Line1.Speed', 'Line1.Speed ')).toBe(false);
    expect(matchGlob('Line1.Speed', 'Line1xSpeed')).toBe(false);
    expect(matchGlob('', '')).toBe(true);
    expect(matchGlob('', 'a')).toBe(false);
  });

  it('compileGlob caches matchers', () => {
    expect(compileGlob('Cache.*')).toBe(compileGlob('Cache.*'));
  });

  it('globToRegExp anchors the pattern', () => {
    expect(globToRegExp('a.*').test('xa.b')).toBe(false);
    expect(globToRegExp('a.*').test('a.bx')).toBe(true);
    expect(globToRegExp('a.*').test('a.b.x')).toBe(false);
  });

  it('`**` matches any character, line terminators included (like `*` does within a segment)', () => {
    expect(matchGlob('*', 'a\nb')).toBe(true);
    expect(matchGlob('**', 'a\nb')).toBe(true);
    expect(matchGlob('A.**', 'A.x\u2028y')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Reference matcher: a tiny recursive matcher over pattern and name, independent of RegExp.
// Tokens: `**` (any run of characters), `*` (any run without a separator), `?` (one non-separator), literal.

const isSep = (c: string): boolean => c === '.' || c === '/';

function refMatch(p: string, n: string, i = 0, j = 0): boolean {
  if (i === p.length) return j === n.length;
  if (p[i] === '*' && p[i + 1] === '*') {
    // Try every suffix of the name; `**` swallows anything.
    for (let k = j; k <= n.length; k++) if (refMatch(p, n, i + 2, k)) return true;
    return false;
  }
  if (p[i] === '*') {
    for (let k = j; k <= n.length; k++) {
      if (refMatch(p, n, i + 1, k)) return true;
      if (k < n.length && isSep(n[k]!)) return false;
    }
    return false;
  }
  if (j === n.length) return false;
  if (p[i] === '?') return !isSep(n[j]!) && refMatch(p, n, i + 1, j + 1);
  return p[i] === n[j] && refMatch(p, n, i + 1, j + 1);
}

describe('glob: reference matcher', () => {
  it('agrees with the contract examples (sanity check of the reference)', () => {
    expect(refMatch('Line1.*', 'Line1.Speed')).toBe(true);
    expect(refMatch('Line1.*', 'Line1.Filler.Speed')).toBe(false);
    expect(refMatch('Line1.**', 'Line1.Filler.Speed')).toBe(true);
    expect(refMatch('a?c', 'a.c')).toBe(false);
  });

  // Small alphabets so that matches happen often; metacharacters and separators included.
  const nameChar = fc.constantFrom('a', 'b', 'A', '.', '/', '[', ']', '#', '(', '+', '$', ' ', '\\', '^', '|', '{', '-', ':', '_', '1');
  const patChar = fc.oneof({ weight: 4, arbitrary: nameChar }, { weight: 1, arbitrary: fc.constantFrom('*', '**', '?') });
  const name = fc.array(nameChar, { maxLength: 10 }).map((cs) => cs.join(''));
  const pattern = fc.array(patChar, { maxLength: 8 }).map((cs) => cs.join(''));

  it('compileGlob agrees with the reference on random patterns and names', () => {
    fc.assert(
      fc.property(pattern, name, (p, n) => compileGlob(p)(n) === refMatch(p, n)),
      { numRuns: 1000 },
    );
  });

  it('compileGlob agrees with the reference on names derived from the pattern (mostly matching)', () => {
    // Replace each wildcard by a random fill so that the pair is likely (not certain) to match.
    const fill = fc.array(nameChar, { maxLength: 3 }).map((cs) => cs.join(''));
    const derived = pattern.chain((p) =>
      fc.tuple(fc.constant(p), fc.array(fill, { minLength: 12, maxLength: 12 })).map(([pp, fills]) => {
        let k = 0;
        const n = pp.replace(/\*\*|\*|\?/g, (m) => {
          const f = fills[k++] ?? '';
          return m === '?' ? (f[0] ?? 'a') : f;
        });
        return [pp, n] as const;
      }),
    );
    let matched = 0;
    fc.assert(
      fc.property(derived, ([p, n]) => {
        const r = refMatch(p, n);
        if (r) matched++;
        return compileGlob(p)(n) === r;
      }),
      { numRuns: 1000 },
    );
    expect(matched).toBeGreaterThan(100);
  });

  it('a literal pattern (no wildcards) matches exactly itself', () => {
    const literal = fc.array(nameChar, { maxLength: 10 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(literal, name, (p, n) => matchGlob(p, p) && matchGlob(p, n) === (p === n)),
      { numRuns: 500 },
    );
  });
});

describe('glob matching stays linear on hostile patterns', () => {
  it('answers a many-wildcard pattern against a long name at once (a backtracking RegExp takes minutes)', () => {
    const pattern = Array.from({ length: 12 }, () => '**a').join('') + '**b'; // 13 wildcards, under the limit
    const name = 'a'.repeat(256);
    // With a backtracking RegExp this would not finish within the test timeout.
    expect(compileGlob(pattern)(name)).toBe(false);
    expect(compileGlob(pattern)(name + 'b')).toBe(true);
  });
});

describe('glob limits', () => {
  it('refuses a glob with more wildcards than allowed, as a validation problem', () => {
    expect(() => compileGlob('*a'.repeat(17))).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(compileGlob('*a'.repeat(16))('a'.repeat(16))).toBe(true);
  });
});

describe('glob length limit and the byte-bounded cache', () => {
  it('refuses a glob longer than MAX_GLOB_LENGTH with a clear validation problem, and accepts one at the limit', () => {
    const long = 'a'.repeat(MAX_GLOB_LENGTH) + '*';
    let err: unknown;
    try {
      compileGlob(long);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'glob', message: `at most ${MAX_GLOB_LENGTH} characters` }] });
    expect((err as Error).message.length).toBeLessThan(300); // the pattern is not echoed whole
    // Exact names over the limit are refused too: every entry point compiles through here.
    expect(() => compileGlob('b'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const atLimit = 'a'.repeat(MAX_GLOB_LENGTH - 2) + '.*';
    expect(compileGlob(atLimit)('a'.repeat(MAX_GLOB_LENGTH - 2) + '.x')).toBe(true);
  });

  it('holds no more than its byte budget however many unique globs pass through, and keeps matching right', () => {
    const before = globCacheStats();
    setGlobCacheBudget(64 * 1024);
    try {
      for (let i = 0; i < 2_000; i++) {
        const p = `Unique${i}.${'x'.repeat(900)}*.**`;
        expect(compileGlob(p)(`Unique${i}.${'x'.repeat(900)}a.b.c`)).toBe(true);
        expect(globCacheStats().bytes).toBeLessThanOrEqual(64 * 1024);
      }
      const s = globCacheStats();
      expect(s.entries).toBeGreaterThan(0);
      expect(s.entries).toBeLessThan(100); // ~20 KiB each: a count bound of 10,000 would have kept them all
      // A small, often used glob survives a stream of large unique ones as long as it is used.
      const hot = compileGlob('Hot.*');
      for (let i = 0; i < 200; i++) {
        compileGlob(`Cold${i}.${'y'.repeat(500)}*`);
        expect(compileGlob('Hot.*')).toBe(hot);
      }
    } finally {
      setGlobCacheBudget(before.maxBytes);
    }
    expect(globCacheStats().maxBytes).toBe(DEFAULT_GLOB_CACHE_BYTES);
  });
});
