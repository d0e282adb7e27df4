import {
  GraphQLError,
  Kind,
  visit,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Principal } from '../../../auth/principal.js';
import { principalFromToken } from '../../../auth/principal-from-token.js';
import { TagwayError } from '../../../domain/problems.js';
import type { Runtime } from '../../../runtime/runtime.js';
import type { UnifiedContext } from './resolvers.js';

/** Budgets of one GraphQL request (docs/security.md). */
export const UNIFIED_LIMITS = {
  /** Characters of the query text. */
  maxQueryChars: 64 * 1024,
  /** Tokens the parser reads at most. */
  maxTokens: 10_000,
  /** Nesting of selections. */
  maxDepth: 12,
  /** Fields selected, counted with every fragment expanded where it is used. */
  maxFields: 500,
  /**
   * Fields with the same response name in one selection set (fragments merged in). graphql-js compares such fields
   * pairwise while validating (quadratic: 300 copies of `a: session { token }` cost 200 ms of CPU), so copies
   * beyond a handful are refused before validation.
   */
  maxSameName: 16,
} as const;

const TOO_COMPLEX = (message: string) => new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX' } });

/**
 * Checks a parsed document against the budgets before graphql-js validates it (validation itself is what a
 * hostile document would make expensive): fields per operation, and copies of a response name per selection set.
 */
export function checkDocument(doc: DocumentNode): GraphQLError | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  for (const d of doc.definitions)
    if (d.kind === Kind.OPERATION_DEFINITION && fieldCost(doc, d.selectionSet) > UNIFIED_LIMITS.maxFields)
      return TOO_COMPLEX(`The operation selects more than ${UNIFIED_LIMITS.maxFields} fields (fragments counted where used)`);
  let steps = 0;
  let error: GraphQLError | undefined;
  const count = (set: SelectionSetNode, names: Map<string, number>, seen: ReadonlySet<string>): boolean => {
    for (const sel of set.selections) {
      if (++steps > 50_000) return false;
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const n = (names.get(key) ?? 0) + 1;
        if (n > UNIFIED_LIMITS.maxSameName) return false;
        names.set(key, n);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (!count(sel.selectionSet, names, seen)) return false;
      } else {
        const f = fragments.get(sel.name.value);
        if (f && !seen.has(sel.name.value) && !count(f.selectionSet, names, new Set([...seen, sel.name.value]))) return false;
      }
    }
    return true;
  };
  visit(doc, {
    SelectionSet(node) {
      if (error) return false;
      if (!count(node, new Map(), new Set())) {
        error = TOO_COMPLEX(
          `A selection repeats one response name more than ${UNIFIED_LIMITS.maxSameName} times, or nests fragments too much`,
        );
        return false;
      }
      return undefined;
    },
  });
  return error;
}

/** Field count with fragments expanded where spread (a cheap upper bound of the work a document asks for). */
function fieldCost(doc: { definitions: readonly { kind: string }[] }, root: SelectionSetNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set((d as FragmentDefinitionNode).name.value, d as FragmentDefinitionNode);
  const memo = new Map<string, number>();
  const cost = (set: SelectionSetNode, seen: Set<string>): number => {
    let n = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) n += 1 + (s.selectionSet ? cost(s.selectionSet, seen) : 0);
      else if (s.kind === Kind.INLINE_FRAGMENT) n += cost(s.selectionSet, seen);
      else {
        const name = s.name.value;
        const f = fragments.get(name);
        if (!f || seen.has(name)) continue; // unknown or cyclic: the standard rules report it
        let c = memo.get(name);
        if (c === undefined) {
          c = cost(f.selectionSet, new Set([...seen, name]));
          memo.set(name, c);
        }
        n += c;
      }
      if (n > UNIFIED_LIMITS.maxFields) return n;
    }
    return n;
  };
  return cost(root, new Set());
}

/** Validation rule: each operation selects at most `maxFields` fields. */
export function complexityRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      const n = fieldCost(context.getDocument(), node.selectionSet);
      if (n > UNIFIED_LIMITS.maxFields)
        context.reportError(
          new GraphQLError(`The operation selects more than ${UNIFIED_LIMITS.maxFields} fields (fragments counted where used)`, {
            nodes: [node],
            extensions: { code: 'QUERY_TOO_COMPLEX' },
          }),
        );
    },
  };
}

/** The caller of a request or socket from its Authorization value: only `Bearer <session token or JWT>` counts. */
export async function authenticate(
  runtime: Runtime,
  authorization: unknown,
): Promise<Pick<UnifiedContext, 'principal' | 'authError' | 'token'>> {
  if (typeof authorization !== 'string' || !/^Bearer\s+\S/i.test(authorization))
    return { principal: undefined, authError: undefined, token: undefined };
  const token = authorization.slice(7).trim();
  try {
    const principal: Principal = await principalFromToken(runtime, token);
    return { principal, authError: undefined, token };
  } catch (err) {
    if (!(err instanceof TagwayError)) throw err;
    return { principal: undefined, authError: err.message, token: undefined };
  }
}
