import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { buildSchema, GraphQLError } from 'graphql';
import mercurius from 'mercurius';
import { DEFAULT_WINCC_SYSTEM_NAME } from '../../../project/types.js';
import type { PushHub } from '../../../runtime/push/hub.js';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Services } from '../../../services/services.js';
import type { FastifyPluginAsync } from 'fastify';
import { toGraphQLError } from './errors.js';
import { UnifiedNames } from './names.js';
import { buildResolvers, type ResolverDeps, type UnifiedContext } from './resolvers.js';
import { UNIFIED_SDL } from './schema.js';
import { attachSubscriptions, UnifiedSockets } from './subscriptions.js';
import { authenticate, checkDocument, complexityRule, UNIFIED_LIMITS } from './limits.js';

export { UNIFIED_LIMITS } from './limits.js';

/**
 * WinCC Unified's GraphQL API at `/graphql` (and `/graphql/`): queries and mutations over HTTP POST through
 * mercurius, subscriptions over WebSocket (subscriptions.ts). A thin adapter: every permission, budget, coercion
 * and audit is the services'; this folder maps Unified's names, shapes and error codes (docs/wincc-unified.md).
 */

/** shelveAlarms with shelveTimeout 0: how long an alarm stays shelved. */
export const DEFAULT_SHELVE_MS = 8 * 3_600_000;

export interface WinccUnifiedOptions {
  runtime: Runtime;
  services: Services;
}

/** The executable schema: our SDL with the resolvers attached (mercurius and the WebSocket transport share it). */
export function unifiedSchema(deps: ResolverDeps) {
  const schema = buildSchema(UNIFIED_SDL);
  const resolvers = buildResolvers(deps) as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>;
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName) as { getFields(): Record<string, { resolve?: unknown }> };
    for (const [field, fn] of Object.entries(fields)) type.getFields()[field]!.resolve = wrap(fn);
  }
  return schema;
}

/** Every resolver failure becomes a GraphQL error with a code (TagwayError → our code, filter errors → 301). */
function wrap(fn: (...a: unknown[]) => unknown) {
  return async (...a: unknown[]) => {
    try {
      return await fn(...a);
    } catch (err) {
      throw toGraphQLError(err);
    }
  };
}

export function resolverDeps(runtime: Runtime, services: Services): ResolverDeps {
  return {
    services,
    names: new UnifiedNames(runtime.project.wincc?.systemName ?? DEFAULT_WINCC_SYSTEM_NAME),
    now: () => runtime.clock.now(),
    idleTimeoutSec: Math.round(runtime.sessions.settings.idleTimeoutMs / 1000),
    reduState: () => 'ACTIVE',
    defaultShelveMs: DEFAULT_SHELVE_MS,
  };
}

const INTROSPECTION = /\b__(schema|type)\b/;

/**
 * The profile as a fastify plugin (registered by src/main.ts without the base path: Unified clients expect
 * `/graphql` at the root). `hub` is the runtime's push hub, which the subscriptions reuse for coalescing.
 */
export function winccUnified(hub: PushHub): FastifyPluginAsync<WinccUnifiedOptions> {
  return async (app, { runtime, services }) => {
    const deps = resolverDeps(runtime, services);
    const schema = unifiedSchema(deps);

    // GraphQL has its own schema language; OpenAPI would describe the routes wrongly (and they are public: each
    // field checks its caller), so they stay out of /openapi.json like the WebSocket routes.
    app.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true };
    });

    // A body that is not a GraphQL request is the client's error (400), before mercurius takes it for a persisted
    // query or an AST.
    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return;
      const b = request.body as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
      const ok =
        typeof b === 'object' &&
        b !== null &&
        !Array.isArray(b) &&
        typeof b.query === 'string' &&
        (b.variables === undefined || b.variables === null || (typeof b.variables === 'object' && !Array.isArray(b.variables))) &&
        (b.operationName === undefined || b.operationName === null || typeof b.operationName === 'string');
      if (!ok)
        return reply.code(400).send({
          data: null,
          errors: [{ message: 'The body must be JSON {query, variables?, operationName?}', extensions: { code: 'BAD_REQUEST' } }],
        });
    });

    await app.register(mercurius, {
      schema,
      path: '/graphql',
      graphiql: false,
      queryDepth: UNIFIED_LIMITS.maxDepth,
      validationRules: [complexityRule],
      graphql: { parseOptions: { maxTokens: UNIFIED_LIMITS.maxTokens } },
      allowBatchedQueries: false,
      // A query seen twice is compiled (graphql-jit): a 1,000-tag tagValues costs a fraction of the interpreter's.
      jit: 1,
      // Authentication is per field (login needs none), so the route is public and the context carries the caller.
      additionalRouteOptions: { config: { public: true } },
      context: async (request: FastifyRequest): Promise<UnifiedContext> => {
        const auth = await authenticate(runtime, request.headers.authorization);
        const length = Number(request.headers['content-length']);
        return { ...auth, clientAddress: request.ip, requestId: request.id, sizeBytes: Number.isFinite(length) ? length : undefined };
      },
      errorFormatter: (execution: { data?: unknown; errors?: readonly GraphQLError[] }) => ({
        statusCode: 200,
        response: { data: execution.data ?? null, errors: flatten(execution.errors ?? []) },
      }),
      errorHandler: (error: FastifyError & { errors?: unknown[] }, _request: FastifyRequest, reply: FastifyReply) => {
        // A body that is not a GraphQL request (bad JSON, no query, wrong types) is the client's error: 400.
        const inner = error.errors?.[0] as { validation?: unknown } | undefined;
        const malformed =
          (error.statusCode !== undefined && error.statusCode >= 400 && error.code?.startsWith('FST_')) || inner?.validation !== undefined;
        if (malformed) {
          const status = error.code?.startsWith('FST_') && error.statusCode ? error.statusCode : 400;
          return reply.code(status).send({ data: null, errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] });
        }
        if (error.errors) return reply.code(200).send({ data: null, errors: flatten(error.errors as GraphQLError[]) });
        const g = toGraphQLError(error);
        return reply.code(200).send({ data: null, errors: [g.toJSON()] });
      },
    } as never);

    // Budgets before parsing, and introspection only for signed-in callers.
    app.graphql.addHook('preParsing', async (_schema, source, context) => {
      if (source.length > UNIFIED_LIMITS.maxQueryChars)
        throw new GraphQLError(`The query is longer than ${UNIFIED_LIMITS.maxQueryChars} characters`, {
          extensions: { code: 'QUERY_TOO_LARGE' },
        });
      // mercurius would take a JSON text as a ready-made AST, skipping the parser's token budget: refuse it.
      if (/^\s*\{\s*"/.test(source))
        throw new GraphQLError('The query must be GraphQL text', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      if (!(context as unknown as UnifiedContext).principal && INTROSPECTION.test(source))
        throw new GraphQLError('Introspection needs a signed-in caller: log in first', { extensions: { code: 'UNAUTHENTICATED' } });
    });

    app.graphql.addHook('preValidation', async (_schema, document) => {
      const e = checkDocument(document);
      if (e) throw e;
    });

    const sockets = new UnifiedSockets(runtime, schema, hub, deps);
    attachSubscriptions(app, sockets);
  };
}

/** GraphQL errors as JSON, each with `extensions.code` (validation and syntax errors get the usual names). */
function flatten(errors: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const e of errors) {
    const inner = (e as { originalError?: { errors?: unknown[] } }).originalError?.errors;
    if (Array.isArray(inner)) {
      out.push(...flatten(inner));
      continue;
    }
    // Errors that are not GraphQLErrors here come from mercurius's own checks (query depth), never from a resolver.
    const g =
      e instanceof GraphQLError
        ? e
        : e instanceof Error
          ? new GraphQLError(e.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })
          : toGraphQLError(e);
    const json = g.toJSON() as { message: string; extensions?: Record<string, unknown> };
    if (!json.extensions?.code) {
      const code = /^Syntax Error/.test(g.message) ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED';
      json.extensions = { ...json.extensions, code };
    }
    out.push(json);
  }
  return out;
}
