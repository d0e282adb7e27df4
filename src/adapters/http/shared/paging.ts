import type { FastifyReply, FastifyRequest } from 'fastify';

/** The request's own path and query with `cursor` set to the next page's (other filters kept). */
export function nextPageUrl(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, 'http://x');
  url.searchParams.set('cursor', cursor);
  return url.pathname + url.search;
}

/**
 * Where the next page is for answers whose body has no room for it (CSV): the opaque cursor in X-Next-Cursor
 * and a ready link (RFC 8288 `rel="next"`). Nothing on the last page.
 */
export function setNextPage(reply: FastifyReply, request: FastifyRequest, next: string | null | undefined): FastifyReply {
  if (next) reply.header('x-next-cursor', next).header('link', `<${nextPageUrl(request, next)}>; rel="next"`);
  return reply;
}
