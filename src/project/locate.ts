import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter } from 'yaml';
import type { ProjectProblem } from './problems.js';
import type { PathMessage } from './schema-errors.js';

// The position-keeping parser is only needed when a file has problems; loading it lazily keeps start-up lean.
const requireCjs = createRequire(import.meta.url);
let yamlLib: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  return (yamlLib ??= requireCjs('yaml') as typeof Yaml);
}

/**
 * Gives problems (or the YAML syntax errors) their line and column. `yamlError` is the fast parser's exception:
 * when the position-keeping parser accepts what js-yaml refused (an unknown `!tag`, an alias without anchor),
 * the problem is still reported, at the best position either parser knows.
 */
export function locateAll(text: string, file: string, problems: PathMessage[], yamlError?: unknown): ProjectProblem[] {
  const lineCounter = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: ProjectProblem[] = [];
  const at = (offset: number, message: string) => {
    const pos = lineCounter.linePos(offset);
    out.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML: ${message}` });
  };
  for (const e of doc.errors) at(e.pos[0], yamlMessage(doc, e.code, e.message, e.pos[0]));
  if (yamlError !== undefined && out.length === 0) {
    for (const w of doc.warnings)
      if (w.code === 'TAG_RESOLVE_FAILED') at(w.pos[0], `unknown tag: ${w.message.replace(/^Unresolved tag:\s*/, '')}`);
    yaml().visit(doc, {
      Alias(_, node) {
        if (!node.resolve(doc) && node.range)
          at(node.range[0], `alias '*${node.source}' refers to no anchor '&${node.source}' defined before it`);
      },
    });
  }
  if (yamlError !== undefined && out.length === 0) {
    // js-yaml's mark is 0-based and sits just after the offending token.
    const e = yamlError as { reason?: string; message?: string; mark?: { line: number; column: number } };
    const reason = e.reason ?? e.message ?? 'the file could not be read as YAML';
    out.push({ file, line: (e.mark?.line ?? 0) + 1, column: (e.mark?.column ?? 0) + 1, path: '', message: `YAML: ${reason}` });
  }
  for (const p of problems) out.push({ file, ...position(doc, lineCounter, p.path), path: p.path, message: p.message });
  return sortProblems(out);
}

/** The YAML parser's message in the project file's words. */
function yamlMessage(doc: Document, code: string, message: string, offset: number): string {
  if (code === 'MULTIPLE_DOCS') return 'a project file holds one YAML document, but a second one starts here (---)';
  if (code === 'DUPLICATE_KEY') {
    let key: unknown;
    yaml().visit(doc, {
      Pair(_, pair) {
        if (yaml().isScalar(pair.key) && pair.key.range?.[0] === offset) {
          key = pair.key.value;
          return yaml().visit.BREAK;
        }
        return undefined;
      },
    });
    return key === undefined ? 'duplicate key' : `duplicate key '${String(key)}'`;
  }
  return message.split('\n')[0] ?? message;
}

function sortProblems(p: ProjectProblem[]): ProjectProblem[] {
  return p.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Line and column of the node at a JSON pointer, or of its nearest existing parent. A mapping entry is located
 * at its key (an unknown key, a wrong value and a missing sub-key all point at the entry's name), a list item at
 * its start.
 */
function position(doc: Document, lc: LineCounter, pointer: string): { line: number; column: number } {
  const segments =
    pointer === ''
      ? []
      : pointer
          .split('/')
          .slice(1)
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of segments) {
    if (yaml().isAlias(node)) node = node.resolve(doc);
    if (yaml().isSeq(node)) {
      const item = /^\d+$/.test(seg) ? node.items[Number(seg)] : undefined;
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else if (yaml().isMap(node)) {
      const pair = node.items.find((p) => yaml().isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else break;
  }
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
}
