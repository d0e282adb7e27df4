import cookie from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import type { Runtime } from '../../../../runtime/runtime.js';
import type { IssuedSession } from '../../../../services/auth-service.js';
import { actorOf, principalOf, SESSION_COOKIE } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { CurrentUser, currentUser } from '../users/user-info.js';

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const SessionReply = Type.Object({
  token: Type.String({ description: 'Send as Authorization: Bearer <token>' }),
  tokenType: Type.Literal('Bearer'),
  expiresAt: Type.String({ format: 'date-time', description: 'When the session ends if left idle (it slides with use)' }),
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token on state-changing requests authenticated by the cookie' }),
  user: CurrentUser,
});

/** Answers a new session as JSON and as the HttpOnly cookie. */
function sendSession(runtime: Runtime, reply: FastifyReply, s: IssuedSession, secure: boolean) {
  reply.setCookie(SESSION_COOKIE, s.token, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: runtime.config.basePath,
    maxAge: Math.floor(runtime.sessions.settings.absoluteLifetimeMs / 1000),
  });
  reply.header('cache-control', 'no-store');
  return {
    token: s.token,
    tokenType: 'Bearer' as const,
    expiresAt: new Date(s.expiresAt).toISOString(),
    csrfToken: s.csrfToken,
    user: currentUser(s.principal),
  };
}

export const SessionInfo = Type.Object({
  csrfToken: Type.Optional(
    Type.String({ description: 'Send as X-CSRF-Token on state-changing requests authenticated by the cookie; absent for Basic and JWT' }),
  ),
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the session ends if left idle' })),
  user: CurrentUser,
});

export const authRoutes: ApiPlugin = async (app, { runtime, services }) => {
  // The cookie plugin (setCookie / clearCookie) only in this plugin's scope: registered for the whole app it adds an
  // onSend hook that every answer runs through, while only these routes set cookies. Reading the session cookie
  // needs no plugin hook (see sessionCookie).
  await app.register(cookie, { hook: false });
  const secure = !runtime.config.http;
  const service = services.auth;

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
      const s = await service.login({ clientAddress: request.ip }, username, password);
      request.log.info({ user: s.principal.username }, 'login');
      return sendSession(runtime, reply, s, secure);
    },
  );

  app.get(
    '/auth/session',
    {
      schema: {
        summary: 'The current session',
        description:
          'The caller, their grants and the CSRF token of their session: a page reloaded (or opened in a second tab) with the session cookie gets what it needs without logging in again. Never cached.',
        tags: ['auth'],
        response: { 200: SessionInfo, ...problems(401) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      reply.header('cache-control', 'no-store');
      return {
        ...(p.csrfToken !== undefined ? { csrfToken: p.csrfToken } : {}),
        ...(p.sessionExpiresAt !== undefined ? { expiresAt: new Date(p.sessionExpiresAt).toISOString() } : {}),
        user: currentUser(p),
      };
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
      await service.logout(actorOf(request));
      reply.clearCookie(SESSION_COOKIE, { path: runtime.config.basePath });
      return reply.code(204).send();
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        summary: 'Renew the session',
        description:
          'Replaces the session token (and cookie) by a new one; the old one stops working. The new session ends no later than the first one would have (absolute lifetime).',
        tags: ['auth'],
        response: { 200: SessionReply, ...problems(401, 403) },
      },
    },
    async (request, reply) => sendSession(runtime, reply, await service.refresh(actorOf(request)), secure),
  );
};
