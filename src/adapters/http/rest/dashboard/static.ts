import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The policy of the dashboard's HTML: scripts and styles only from our own origin (no inline script, no eval), the
 * API and the WebSocket on the same origin, nothing may frame it. Style attributes set through the CSSOM (React's
 * `style`, uPlot) are not inline styles in CSP's sense, so `style-src 'self'` suffices.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where `npm run build` (vite) writes the dashboard: `<package root>/dist/web`, for tsx from src/ and for dist/ alike. */
export function defaultDashboardDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'web');
    dir = dirname(dir);
  }
  return undefined;
}

export interface Dashboard {
  /** Registers the asset routes (hashed, immutable) and the few unhashed public files. */
  register(app: FastifyInstance, prefix: string): Promise<void>;
  /** Answers the app's index.html (the SPA fallback and `/`). */
  index(request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

// Vite names every built asset `<name>-<8+ char content hash>.<ext>`.
const HASHED_ASSET = /^[A-Za-z0-9_.-]+-[A-Za-z0-9_-]{8,}\.(js|css|svg|png|woff2?)$/;

/**
 * The built dashboard, or undefined when there is none (a checkout where `npm run build` has not run: the root then
 * keeps leading to the API documentation). index.html is read once and served with `no-cache` (it names the hashed
 * assets of the current build); assets under /assets/ carry a content hash and are cached for a year.
 */
export function loadDashboard(dir: string | undefined, basePath: string): Dashboard | undefined {
  if (!dir || !existsSync(join(dir, 'index.html'))) return undefined;
  const prefix = basePath === '/' ? '' : basePath;
  // Built with base '/'; under a base path every root-relative URL of the page moves under it.
  let html: string;
  try {
    html = readFileSync(join(dir, 'index.html'), 'utf8');
  } catch {
    return undefined; // replaced by a build at this very moment: served from the next start
  }
  if (prefix) html = html.replace(/(src|href)="\/(?!\/)/g, `$1="${prefix}/`);
  html = html.replace('<head>', `<head>\n    <meta name="tagway-base" content="${prefix}">`);
  const publicFiles = ['manifest.webmanifest', 'icon.svg', 'icon-192.png', 'icon-512.png', 'favicon.ico'].filter((f) =>
    existsSync(join(dir, f)),
  );
  const route = { config: { public: true }, schema: { hide: true } } as const;
  return {
    async register(app, routePrefix) {
      await app.register(async (scoped) => {
        await scoped.register(fastifyStatic, { root: dir, serve: false, decorateReply: true });
        scoped.get(`${routePrefix}/assets/:file`, route, (request, reply) => {
          const file = (request.params as { file: string }).file;
          if (!/^[A-Za-z0-9._-]{1,200}$/.test(file) || file.startsWith('.')) return reply.callNotFound();
          // A hashed name never changes content: a year, immutable. Anything else revalidates.
          reply.header('cache-control', HASHED_ASSET.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
          return reply.sendFile(`assets/${file}`, { cacheControl: false, lastModified: false });
        });
        for (const f of publicFiles)
          scoped.get(`${routePrefix}/${f}`, route, (_request, reply) => {
            reply.header('cache-control', 'public, max-age=3600');
            return reply.sendFile(f, { cacheControl: false });
          });
      });
    },
    index(_request, reply) {
      return reply
        .code(200)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', DASHBOARD_CSP)
        .send(html);
    },
  };
}

/** A browser navigating (GET/HEAD that accepts HTML), as opposed to an API client that wants problem+json. */
export function wantsHtml(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}
