import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { TagwayError } from '../../../domain/problems.js';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Services } from '../../../services/services.js';
import { bulkAdmission } from '../shared/bulk-admission.js';
import { actor, challenge } from './auth.js';
import { toWinccError } from './errors.js';
import { alarmLoggingRoutes } from './alarm-logging.js';
import { CaseInsensitiveRouter, RawJson, type RouteDef } from './router.js';
import { tagLoggingRoutes } from './tag-logging.js';
import { tagManagementRoutes } from './tag-management.js';

/**
 * Classic WinCC's REST service (`/WinCCRestService`, WinCC V7.5 SP2 / V8) over the service layer, so that a client
 * written for it reads and writes tags, tag logging archives and alarm lists without a line changed. One file per
 * area (tag-management, tag-logging, alarm-logging); this plugin routes case-insensitively, sends every answer as
 * JSON and every failure in WinCC's error model. It holds no rule: permissions, coercion, budgets and audit are the
 * services'.
 */
export interface WinccClassicOptions {
  runtime: Runtime;
  services: Services;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const BULK = /^\/?tagmanagement\/values\/?$/i;

export const WINCC_CLASSIC_ROUTES: readonly RouteDef[] = [...tagManagementRoutes, ...tagLoggingRoutes, ...alarmLoggingRoutes];

export function winccClassic(): FastifyPluginAsync<WinccClassicOptions> {
  return async (app, { runtime, services }) => {
    const router = new CaseInsensitiveRouter(WINCC_CLASSIC_ROUTES);
    const base = app.prefix;
    const relative = (request: FastifyRequest): string => {
      const url = request.url;
      const q = url.indexOf('?');
      return (q < 0 ? url : url.slice(0, q)).slice(base.length);
    };

    app.setErrorHandler((err, request, reply) => {
      const e = toWinccError(err);
      if (e.internal) request.log.error({ err }, 'WinCC REST service request failed');
      if (e.storage) runtime.storageHealth.fault(err instanceof TagwayError && err.cause !== undefined ? err.cause : err);
      if (e.status === 401) challenge(reply);
      if (e.headers) reply.headers(e.headers);
      return reply.code(e.status).type(JSON_TYPE).send(JSON.stringify(e.body));
    });

    // A bulk read or write holds one of its principal's bulk slots, as the native POST/PUT /tags/values do.
    const admitBulk = bulkAdmission(services.tags, actor, (request) => BULK.test(relative(request)));

    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const m = router.match(request.method, relative(request));
      if (m === undefined) throw new TagwayError('NOT_FOUND', `No WinCC REST service route ${request.method} ${relative(request) || '/'}`);
      if ('allowed' in m)
        throw new TagwayError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${[...new Set(m.allowed)].join(', ')}`, {
          headers: { allow: [...new Set(m.allowed)].join(', ') },
        });
      const query: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>))
        query[k.toLowerCase()] = Array.isArray(v) ? String(v[v.length - 1]) : v === undefined ? undefined : String(v);
      const answer = await m.route.handler({
        request,
        reply,
        params: m.params,
        query,
        body: request.body,
        actor: actor(request),
        runtime,
        services,
      });
      // Every 2xx has a JSON body: clients call response.json() unconditionally.
      return reply.type(JSON_TYPE).send(answer instanceof RawJson ? answer.text : JSON.stringify(answer ?? {}));
    };

    const route = { schema: { hide: true }, preParsing: admitBulk };
    app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/', ...route, handler: handle });
    app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/*', ...route, handler: handle });
  };
}
