/**
 * The alarm filter language of WinCC Unified's `activeAlarms`/`loggedAlarms` (`filterString`): the WHERE part of
 * an SQL-like query over alarm attributes. A tokenizer and a recursive-descent parser for this grammar (keywords
 * and attribute names are case-insensitive):
 *
 *   filter     := ε | or
 *   or         := and { OR and }
 *   and        := unary { AND unary }
 *   unary      := NOT unary | primary
 *   primary    := "(" or ")" | comparison
 *   comparison := IDENT op literal | IDENT [NOT] LIKE STRING
 *   op         := "=" | "<>" | "!=" | "<" | "<=" | ">" | ">="
 *   literal    := STRING | NUMBER
 *   STRING     := "'" { any character but "'" | "''" } "'"
 *   NUMBER     := ["-"] digits ["." digits] [("e"|"E") ["+"|"-"] digits]
 *   IDENT      := letter or "_", then letters, digits, "_"
 *
 * `printFilter` writes an AST back as text that parses to the same AST. Errors are FilterSyntaxError, which the
 * adapter answers with Unified's code 301. Pure: no I/O.
 */

export type CmpOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type FilterExpr =
  | { kind: 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'and'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; expr: FilterExpr }
  | { kind: 'cmp'; attr: string; op: CmpOp; value: string | number }
  | { kind: 'like'; attr: string; pattern: string; negated: boolean };

export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at character ${position + 1})`);
    this.name = 'FilterSyntaxError';
  }
}

/** Longest filter accepted (characters) and deepest nesting: a filter is a short condition, not a program. */
export const MAX_FILTER_LENGTH = 4096;
export const MAX_FILTER_DEPTH = 64;

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'kw'; v: 'AND' | 'OR' | 'NOT' | 'LIKE'; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'op'; v: CmpOp; at: number }
  | { t: '(' | ')' | 'end'; at: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'LIKE']);
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

export function tokenize(text: string): Token[] {
  if (text.length > MAX_FILTER_LENGTH) throw new FilterSyntaxError(`the filter is longer than ${MAX_FILTER_LENGTH} characters`, 0);
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = i;
    if (c === '(' || c === ')') {
      out.push({ t: c, at });
      i++;
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('unterminated string', at);
        const d = text[i]!;
        if (d === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += d;
        i++;
      }
      out.push({ t: 'str', v, at });
    } else if (c === '=' || c === '<' || c === '>' || c === '!') {
      const two = text.slice(i, i + 2);
      if (two === '<>' || two === '!=') {
        out.push({ t: 'op', v: '<>', at });
        i += 2;
      } else if (two === '<=' || two === '>=') {
        out.push({ t: 'op', v: two, at });
        i += 2;
      } else if (c === '!') {
        throw new FilterSyntaxError("unexpected '!'", at);
      } else {
        out.push({ t: 'op', v: c as CmpOp, at });
        i++;
      }
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) throw new FilterSyntaxError(`unexpected '${c}'`, at);
      const v = Number(m[0]);
      if (!Number.isFinite(v)) throw new FilterSyntaxError('number out of range', at);
      out.push({ t: 'num', v, at });
      i += m[0].length;
    } else {
      IDENT.lastIndex = i;
      const m = IDENT.exec(text);
      if (!m) throw new FilterSyntaxError(`unexpected '${c}'`, at);
      const upper = m[0].toUpperCase();
      if (KEYWORDS.has(upper)) out.push({ t: 'kw', v: upper as 'AND', at });
      else out.push({ t: 'ident', v: m[0], at });
      i += m[0].length;
    }
  }
  out.push({ t: 'end', at: text.length });
  return out;
}

/** Parses a filter; undefined for an empty one (every alarm matches). */
export function parseFilter(text: string): FilterExpr | undefined {
  const tokens = tokenize(text);
  let pos = 0;
  let depth = 0;
  const peek = (): Token => tokens[pos]!;
  const isKw = (v: string): boolean => {
    const t = peek();
    return t.t === 'kw' && t.v === v;
  };
  const describe = (t: Token): string =>
    t.t === 'end' ? 'the end of the filter' : t.t === 'str' ? 'a string' : t.t === 'num' ? 'a number' : `'${'v' in t ? t.v : t.t}'`;
  const fail = (expected: string): never => {
    const t = peek();
    throw new FilterSyntaxError(`expected ${expected} but found ${describe(t)}`, t.at);
  };

  const or = (): FilterExpr => {
    let left = and();
    while (isKw('OR')) {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): FilterExpr => {
    let left = unary();
    while (isKw('AND')) {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterExpr => {
    if (++depth > MAX_FILTER_DEPTH) throw new FilterSyntaxError(`nested deeper than ${MAX_FILTER_DEPTH} levels`, peek().at);
    try {
      if (isKw('NOT')) {
        pos++;
        return { kind: 'not', expr: unary() };
      }
      return primary();
    } finally {
      depth--;
    }
  };
  const primary = (): FilterExpr => {
    const t = peek();
    if (t.t === '(') {
      pos++;
      const e = or();
      if (peek().t !== ')') fail("')'");
      pos++;
      return e;
    }
    if (t.t !== 'ident') return fail("an attribute name, NOT or '('");
    pos++;
    const attr = t.v;
    let negated = false;
    if (isKw('NOT')) {
      pos++;
      negated = true;
      if (!isKw('LIKE')) fail('LIKE');
    }
    if (isKw('LIKE')) {
      pos++;
      const p = peek();
      if (p.t !== 'str') return fail('a string pattern after LIKE');
      pos++;
      return { kind: 'like', attr, pattern: p.v, negated };
    }
    const op = peek();
    if (op.t !== 'op') return fail('a comparison operator or LIKE');
    pos++;
    const lit = peek();
    if (lit.t !== 'str' && lit.t !== 'num') return fail('a string or a number');
    pos++;
    return { kind: 'cmp', attr, op: op.v, value: lit.v };
  };

  if (peek().t === 'end') return undefined;
  const e = or();
  if (peek().t !== 'end') fail('AND, OR or the end of the filter');
  return e;
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const literal = (v: string | number): string => (typeof v === 'number' ? String(v) : quote(v));

/** Text that parses back to the same AST (parentheses only where precedence or associativity needs them). */
export function printFilter(e: FilterExpr | undefined): string {
  if (!e) return '';
  const rank = (x: FilterExpr): number => (x.kind === 'or' ? 1 : x.kind === 'and' ? 2 : 3);
  const wrap = (x: FilterExpr, min: number): string => (rank(x) < min ? `(${printFilter(x)})` : printFilter(x));
  switch (e.kind) {
    case 'or':
      return `${wrap(e.left, 1)} OR ${wrap(e.right, 2)}`;
    case 'and':
      return `${wrap(e.left, 2)} AND ${wrap(e.right, 3)}`;
    case 'not':
      return `NOT ${wrap(e.expr, 3)}`;
    case 'cmp':
      return `${e.attr} ${e.op} ${literal(e.value)}`;
    case 'like':
      return `${e.attr} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${quote(e.pattern)}`;
  }
}

/** Every attribute name a filter uses (for checking them against the known attributes). */
export function attributesOf(e: FilterExpr | undefined, out: string[] = []): string[] {
  if (!e) return out;
  if (e.kind === 'or' || e.kind === 'and') {
    attributesOf(e.left, out);
    attributesOf(e.right, out);
  } else if (e.kind === 'not') attributesOf(e.expr, out);
  else out.push(e.attr);
  return out;
}

/** A LIKE pattern (`*` any characters, `?` one) as an anchored, case-insensitive RegExp. */
export function likeRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) src += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${src}$`, 'is');
}

type Scalar = string | number | boolean | null | undefined;

function asNumber(v: Scalar): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function compare(v: Scalar, op: CmpOp, lit: string | number): boolean {
  if (v === null || v === undefined) return false;
  let c: number;
  const n = asNumber(v);
  const ln = typeof lit === 'number' ? lit : asNumber(lit);
  if (n !== undefined && ln !== undefined && (typeof lit === 'number' || typeof v === 'number')) c = n < ln ? -1 : n > ln ? 1 : 0;
  else if (typeof lit === 'number') return false;
  else {
    const a = String(v).toLowerCase();
    const b = lit.toLowerCase();
    c = a < b ? -1 : a > b ? 1 : 0;
  }
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/**
 * A predicate over rows; `get(row, attr)` answers an attribute's value (a multilingual text in the filter
 * language). A missing value satisfies no comparison, as NULL in SQL (NOT of it does).
 */
export function compileFilter<R>(e: FilterExpr | undefined, get: (row: R, attr: string) => Scalar): (row: R) => boolean {
  if (!e) return () => true;
  switch (e.kind) {
    case 'or': {
      const l = compileFilter(e.left, get);
      const r = compileFilter(e.right, get);
      return (row) => l(row) || r(row);
    }
    case 'and': {
      const l = compileFilter(e.left, get);
      const r = compileFilter(e.right, get);
      return (row) => l(row) && r(row);
    }
    case 'not': {
      const x = compileFilter(e.expr, get);
      return (row) => !x(row);
    }
    case 'cmp':
      return (row) => compare(get(row, e.attr), e.op, e.value);
    case 'like': {
      const re = likeRegExp(e.pattern);
      return (row) => {
        const v = get(row, e.attr);
        if (v === null || v === undefined) return false;
        return re.test(String(v)) !== e.negated;
      };
    }
  }
}
