import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { parseBasic } from '../../../../auth/basic-cache.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { ApiPlugin } from '../plugin.js';
import { isLoopback, overTls } from './authenticators.js';

/**
 * POST /auth/token (OAuth2 client-credentials grant, RFC 6749 §4.4) and GET /.well-known/jwks.json.
 * Errors here follow RFC 6749 §5.2 (`{"error","error_description"}`), not problem+json, because OAuth client
 * libraries parse that shape; the route therefore validates by hand instead of with a schema.
 */
type OAuthError = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';

function oauthError(reply: FastifyReply, status: number, error: OAuthError, description: string, basic = false) {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  // RFC 6749 §5.2: a client that tried Basic gets the scheme it should use back.
  if (status === 401 && basic) reply.header('www-authenticate', 'Basic realm="tagway", charset="UTF-8"');
  return reply.code(status).type('application/json').send({ error, error_description: description });
}

/** application/x-www-form-urlencoded decoding of one Basic credential part; undefined when malformed. */
function formDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export const TokenReply = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});
export const OAuthErrorReply = Type.Object({ error: Type.String(), error_description: Type.String() });

export const tokenRoutes: ApiPlugin = async (app, { runtime }) => {
  // The grant's standard encoding; parsed only inside this plugin.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post(
    '/auth/token',
    {
      config: { public: true },
      schema: {
        summary: 'OAuth2 client-credentials grant',
        description:
          'Credentials as client_id/client_secret in the form or JSON body, or as HTTP Basic. Answers a short-lived JWT (EdDSA, with kid; keys at /.well-known/jwks.json). Errors follow RFC 6749.',
        tags: ['auth'],
        security: [],
        response: { 200: TokenReply, 400: OAuthErrorReply, 401: OAuthErrorReply, 429: OAuthErrorReply },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body))
        return oauthError(reply, 400, 'invalid_request', 'The body must be a form or a JSON object');
      const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
      const h = request.headers.authorization;
      const basic = h && /^Basic\s/i.test(h) ? parseBasic(h) : undefined;
      if (basic === null) return oauthError(reply, 401, 'invalid_client', 'Malformed Basic credentials', true);
      let clientId = str('client_id');
      let secret = str('client_secret');
      if (basic) {
        // RFC 6749 §2.3.1: Basic carries form-encoded id and secret; one method per request.
        if (secret !== undefined)
          return oauthError(reply, 400, 'invalid_request', 'Send the client secret either as Basic or in the body, not both');
        if (!overTls(request) && !isLoopback(request.socket.remoteAddress))
          return oauthError(reply, 400, 'invalid_request', 'Client credentials over plain HTTP are accepted only from loopback', true);
        clientId = formDecode(basic.username);
        secret = formDecode(basic.password);
        // A malformed escape (`%zz`, a lone `%`) is the client's error, not ours: 400, never 500.
        if (clientId === undefined || secret === undefined)
          return oauthError(reply, 400, 'invalid_request', 'Malformed percent-encoding in the Basic client credentials', true);
      }
      const grant = str('grant_type');
      if (grant === undefined) return oauthError(reply, 400, 'invalid_request', 'grant_type is required');
      if (grant !== 'client_credentials')
        return oauthError(reply, 400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported');
      if (!clientId || !secret) return oauthError(reply, 401, 'invalid_client', 'Client authentication failed', Boolean(basic));
      if (clientId.length > 128 || secret.length > 1024)
        return oauthError(reply, 401, 'invalid_client', 'Client authentication failed', Boolean(basic));
      let issued;
      try {
        issued = await runtime.security.issueToken(clientId, secret, { clientAddress: request.ip });
      } catch (err) {
        if (err instanceof TagwayError && err.code === 'TOO_MANY_REQUESTS') {
          reply.header('retry-after', err.headers?.['Retry-After'] ?? '60');
          return oauthError(reply, 429, 'invalid_client', err.message);
        }
        throw err;
      }
      if (!issued) return oauthError(reply, 401, 'invalid_client', 'Client authentication failed', Boolean(basic));
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return { access_token: issued.token, token_type: 'Bearer' as const, expires_in: issued.expiresIn };
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { public: true },
      schema: { summary: 'Public keys of JWT access tokens (JWK Set)', tags: ['auth'], security: [] },
    },
    async (_request, reply) => {
      // Verifiers may cache briefly; a rotated-in key is published at once and the old one stays until its tokens expired.
      reply.header('cache-control', 'public, max-age=300');
      return runtime.security.keys.jwks();
    },
  );
};
