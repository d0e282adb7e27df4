import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyReply } from 'fastify';

/**
 * The security headers @fastify/helmet would set, computed once at start-up. They are the same for every answer,
 * and helmet's per-request middleware chain cost a fifth of the throughput of a single-tag read; setting a
 * precomputed map costs almost nothing. Helmet stays the source of the values.
 */
export async function securityHeaders(options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify();
  await probe.register(helmet, options);
  probe.get('/', async () => 'probe');
  const plain = Fastify();
  plain.get('/', async () => 'probe');
  const [withHelmet, without] = await Promise.all([probe.inject('/'), plain.inject('/')]);
  await Promise.all([probe.close(), plain.close()]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(withHelmet.headers)) {
    if (without.headers[k] === undefined && typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * Sets precomputed headers (lower-case names, none of them Set-Cookie) on a reply. On a reply that has no headers
 * yet, as at the start of every request, the reply's header map becomes a copy of `headers`: one allocation of the
 * same shape every time, instead of a lower-casing, keyed store per header (`reply.headers`) into a map whose shape
 * differs per request. Fastify keeps that map under a symbol of its own; if a version has none, `reply.headers`.
 */
export function headerSetter(headers: Readonly<Record<string, string>>): (reply: FastifyReply) => void {
  let key: symbol | null | undefined;
  return (reply) => {
    if (key === undefined) key = replyHeadersKey(reply);
    if (key !== null) {
      const r = reply as unknown as Record<symbol, Record<string, unknown>>;
      const current = r[key]!;
      for (const _ in current) {
        Object.assign(current, headers);
        return;
      }
      r[key] = { ...headers };
      return;
    }
    reply.headers(headers);
  };
}

function replyHeadersKey(reply: FastifyReply): symbol | null {
  const key = Object.getOwnPropertySymbols(reply).find((s) => s.description === 'fastify.reply.headers');
  if (key === undefined) return null;
  // Only if it really is the map getHeader reads: probe with a header no answer carries.
  const map = (reply as unknown as Record<symbol, unknown>)[key];
  if (map === null || typeof map !== 'object') return null;
  (map as Record<string, unknown>)['x-tagway-probe'] = '1';
  const seen = reply.getHeader('x-tagway-probe') === '1';
  reply.removeHeader('x-tagway-probe');
  return seen ? key : null;
}
