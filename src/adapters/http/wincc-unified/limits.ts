import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
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
  maxFields: 1_000,
} as const;

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
