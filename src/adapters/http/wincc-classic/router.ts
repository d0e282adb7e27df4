import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Actor } from '../../../services/actor.js';
import type { Services } from '../../../services/services.js';
import { invalid } from './errors.js';
import { normaliseName } from './names.js';

/** What a route handler gets: parameters decoded and normalised, query keys in lower case. */
export interface Call {
  request: FastifyRequest;
  reply: FastifyReply;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
  actor: Actor;
  runtime: Runtime;
  services: Services;
}

/** An answer already serialised (hot paths assemble it from cached pieces). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A JSON-able answer (or RawJson); a status other than 200 only when a route sets it on the reply. */
export type Handler = (call: Call) => unknown;

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT';
  /** Relative to the base, `:name` for a parameter: `tagManagement/Value/:name`. */
  path: string;
  handler: Handler;
}

interface Compiled {
  method: string;
  path: string;
  /** Lower-case literal segments, or null for a parameter (named in `names`). */
  segments: (string | null)[];
  names: string[];
  handler: Handler;
}

export type Match = { route: RouteDef; params: Record<string, string> } | { allowed: string[] } | undefined;

/**
 * Classic WinCC clients write path segments in any case (`tagManagement`, `TagManagement`, `values`), so routes
 * are matched here, segment by segment, case-insensitively, rather than by fastify's case-sensitive router. A
 * parameter segment is percent-decoded on its own, so a name may hold `/` (as `%2F`), `.`, `::` and spaces.
 */
export class CaseInsensitiveRouter {
  private readonly routes: Compiled[] = [];

  constructor(defs: readonly RouteDef[]) {
    for (const d of defs) {
      const parts = d.path.split('/');
      this.routes.push({
        method: d.method,
        path: d.path,
        segments: parts.map((p) => (p.startsWith(':') ? null : p.toLowerCase())),
        names: parts.filter((p) => p.startsWith(':')).map((p) => p.slice(1)),
        handler: d.handler,
      });
    }
  }

  get all(): readonly RouteDef[] {
    return this.routes.map((r) => ({ method: r.method as RouteDef['method'], path: r.path, handler: r.handler }));
  }

  /** The route for a method and a raw path (relative to the base, still percent-encoded). */
  match(requestMethod: string, rawPath: string): Match {
    // HEAD is answered as GET (fastify sends the headers only).
    const method = requestMethod === 'HEAD' ? 'GET' : requestMethod;
    const raw = rawPath.replace(/^\/+|\/+$/g, '').split('/');
    const lower = raw.map((s) => s.toLowerCase());
    const allowed: string[] = [];
    for (const r of this.routes) {
      if (r.segments.length !== raw.length) continue;
      let ok = true;
      for (let i = 0; i < raw.length && ok; i++) {
        const want = r.segments[i];
        ok = want === null ? raw[i] !== '' : want === lower[i];
      }
      if (!ok) continue;
      if (r.method !== method) {
        allowed.push(r.method);
        continue;
      }
      const params: Record<string, string> = {};
      let k = 0;
      for (let i = 0; i < raw.length; i++) if (r.segments[i] === null) params[r.names[k++]!] = normaliseName(decodeSegment(raw[i]!));
      return { route: { method: r.method as RouteDef['method'], path: r.path, handler: r.handler }, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalid('Malformed percent-encoding in the path');
  }
}
