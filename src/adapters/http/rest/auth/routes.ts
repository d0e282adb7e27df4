import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { TagwayError } from '../../../../domain/problems.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import { principalOf, SESSION_COOKIE } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { CurrentUser, currentUser } from '../users/user-info.js';

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const SessionReply = Type.Object({
  token: Type.String({ description: 'Send as Authorization: Bearer <token>' }),
  tokenType: Type.Literal('Bearer'),
  expiresAt: Type.String({ format: 'date-time', description: 'When the session ends if left idle (it slides with use)' }),
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token on state-changing requests authenticated by the cookie' }),
  user: CurrentUser,
});

/** Answers a new session as JSON and as the HttpOnly cookie. */
function sendSession(
  runtime: Runtime,
  reply: FastifyReply,
  token: string,
  username: string,
  csrfToken: string,
  expiresAt: number,
  secure: boolean,
) {
  const principal = runtime.sessions.authenticate(token);
  if (!principal || principal.username !== username) throw new TagwayError('INTERNAL_ERROR', 'The new session could not be read back');
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: runtime.config.basePath,
    maxAge: Math.floor(runtime.sessions.settings.absoluteLifetimeMs / 1000),
  });
  reply.header('cache-control', 'no-store');
  return { token, tokenType: 'Bearer' as const, expiresAt: new Date(expiresAt).toISOString(), csrfToken, user: currentUser(principal) };
}

export const authRoutes: ApiPlugin = async (app, { runtime }) => {
  const secure = !runtime.config.http;

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        summary: 'Log in',
        description: 'Returns a session token and sets the session cookie. Wrong user and wrong password get the same answer.',
        tags: ['auth'],
        security: [],
        body: LoginBody,
        response: { 200: SessionReply, ...problems(400, 401, 413, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body as { username: string; password: string };
      // Throttled (429 + Retry-After), audited, local users then LDAP; wrong user and wrong password answer alike.
      const user = await runtime.security.login(username, password, { clientAddress: request.ip });
      const { token, record } = runtime.sessions.create(user.username, request.ip);
      request.log.info({ user: user.username }, 'login');
      return sendSession(runtime, reply, token, user.username, record.csrfToken, runtime.sessions.expiresAt(record), secure);
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        summary: 'Log out',
        description: 'Revokes the session at once; its token and cookie stop working.',
        tags: ['auth'],
        response: { 204: Type.Null(), ...problems(401, 403) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId) runtime.sessions.revoke(p.sessionId);
      await runtime.security.audit.record({
        action: 'auth.logout',
        user: p.username,
        clientAddress: request.ip,
        details: { method: p.authMethod },
        result: 'OK',
      });
      reply.clearCookie(SESSION_COOKIE, { path: runtime.config.basePath });
      return reply.code(204).send();
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        summary: 'Renew the session',
        description: 'Replaces the session token (and cookie) by a new one; the old one stops working.',
        tags: ['auth'],
        response: { 200: SessionReply, ...problems(401, 403) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (!p.sessionId) throw new TagwayError('INVALID_STATE', 'Only session logins can be refreshed');
      const renewed = runtime.sessions.refresh(p.sessionId, request.ip);
      if (!renewed) throw new TagwayError('UNAUTHENTICATED', 'The session ended; log in again');
      await runtime.security.audit.record({ action: 'auth.refresh', user: p.username, clientAddress: request.ip, result: 'OK' });
      return sendSession(
        runtime,
        reply,
        renewed.token,
        p.username,
        renewed.record.csrfToken,
        runtime.sessions.expiresAt(renewed.record),
        secure,
      );
    },
  );
};
