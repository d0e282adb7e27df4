import Type from 'typebox';
import { PERMISSIONS, type Grant as GrantT, type Group } from '../../../../domain/permissions.js';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

/**
 * Administration (api.md): users, groups (read), API clients, and changing one's own password.
 * Every change is audited; a password is never returned, a client secret only once.
 */
export const Username = Type.String({ pattern: '^[A-Za-z0-9_.@-]{1,64}$' });
export const GroupName = Type.String({ minLength: 1, maxLength: 64 });

export const UserView = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  groups: Type.Array(Type.String()),
  disabled: Type.Boolean(),
  source: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const CreateUser = Type.Object(
  {
    username: Username,
    displayName: Type.Optional(Type.String({ maxLength: 128 })),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    groups: Type.Array(GroupName, { maxItems: 64 }),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const PatchUser = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: 128 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    groups: Type.Optional(Type.Array(GroupName, { maxItems: 64 })),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const ChangePassword = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export const UserParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
export const GroupParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
export const Grant = Type.Object(
  {
    permission: Type.Union(PERMISSIONS.map((p) => Type.Literal(p))),
    tags: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description:
          'Tag-name glob (default: all tags); only for tag permissions (tags:*, alarms:*, history:read), refused on users:admin and audit:read',
      }),
    ),
  },
  { additionalProperties: false },
);
export const GroupView = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  permissions: Type.Array(Grant),
  source: Type.String(),
});
export const GroupBody = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    permissions: Type.Array(Grant, { maxItems: 256 }),
  },
  { additionalProperties: false },
);
export const GroupPatch = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 256 })),
    permissions: Type.Optional(Type.Array(Grant, { maxItems: 256 })),
  },
  { additionalProperties: false },
);
export const ClientView = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  groups: Type.Array(Type.String()),
  source: Type.String(),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});
export const CreateClient = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), groups: Type.Array(GroupName, { maxItems: 64 }) },
  { additionalProperties: false },
);
export const ClientParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 128 }) });

export const ClientCreated = Type.Object({
  clientId: Type.String(),
  clientSecret: Type.String(),
  name: Type.String(),
  groups: Type.Array(Type.String()),
});
export const UnlockReply = Type.Object({ username: Type.String(), clearedCounters: Type.Integer(), enabled: Type.Boolean() });

export const adminRoutes: ApiPlugin = async (app, { services }) => {
  const service = services.users;

  app.get(
    '/users',
    {
      schema: {
        summary: 'List users',
        tags: ['users'],
        response: { 200: Type.Object({ items: Type.Array(UserView) }), ...problems(401, 403) },
      },
    },
    async (request) => ({ items: service.listUsers(actorOf(request)) }),
  );

  app.post(
    '/users',
    {
      schema: { summary: 'Create a user', tags: ['users'], body: CreateUser, response: { 201: UserView, ...problems(400, 401, 403, 409) } },
    },
    async (request, reply) => {
      const b = request.body as { username: string; displayName?: string; password: string; groups: string[]; disabled?: boolean };
      return reply.code(201).send(await service.createUser(actorOf(request), b));
    },
  );

  app.get(
    '/users/:username',
    { schema: { summary: 'One user', tags: ['users'], params: UserParams, response: { 200: UserView, ...problems(401, 403, 404) } } },
    async (request) => service.getUser(actorOf(request), (request.params as { username: string }).username),
  );

  app.patch(
    '/users/:username',
    {
      schema: {
        summary: 'Change a user',
        description: '`"disabled": true` ends the user\'s sessions at once; a new password ends them too.',
        tags: ['users'],
        params: UserParams,
        body: PatchUser,
        response: { 200: UserView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      service.updateUser(
        actorOf(request),
        (request.params as { username: string }).username,
        request.body as { displayName?: string; password?: string; groups?: string[]; disabled?: boolean },
      ),
  );

  app.delete(
    '/users/:username',
    {
      schema: {
        summary: 'Delete a user',
        tags: ['users'],
        params: UserParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await service.deleteUser(actorOf(request), (request.params as { username: string }).username);
      return reply.code(204).send();
    },
  );

  app.post(
    '/users/:username/unlock',
    {
      schema: {
        summary: 'Unlock a user',
        description:
          'Clears the login throttle of the user at every address and enables the user if a lockout (or an admin) disabled it. Audited as user.unlock.',
        tags: ['users'],
        params: UserParams,
        response: { 200: UnlockReply, ...problems(401, 403, 404) },
      },
    },
    async (request) => service.unlockUser(actorOf(request), (request.params as { username: string }).username),
  );

  app.post(
    '/users/current/password',
    {
      schema: {
        summary: 'Change your own password',
        description: 'Ends your other sessions.',
        tags: ['users'],
        body: ChangePassword,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const b = request.body as { currentPassword: string; newPassword: string };
      await service.changeOwnPassword(actorOf(request), b.currentPassword, b.newPassword);
      return reply.code(204).send();
    },
  );

  app.get(
    '/groups',
    {
      schema: {
        summary: 'List groups',
        tags: ['users'],
        response: { 200: Type.Object({ items: Type.Array(GroupView) }), ...problems(401, 403) },
      },
    },
    async (request) => ({ items: service.listGroups(actorOf(request)) }),
  );
  app.get(
    '/groups/:name',
    { schema: { summary: 'One group', tags: ['users'], params: GroupParams, response: { 200: GroupView, ...problems(401, 403, 404) } } },
    async (request) => service.getGroup(actorOf(request), (request.params as { name: string }).name),
  );
  app.post(
    '/groups',
    {
      schema: {
        summary: 'Create a group',
        description: 'A `tags` scope is allowed only on tag permissions; on users:admin or audit:read it is refused (400).',
        tags: ['users'],
        body: GroupBody,
        response: { 201: GroupView, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await service.createGroup(actorOf(request), request.body as Group)),
  );
  app.patch(
    '/groups/:name',
    {
      schema: {
        summary: 'Change a group',
        description: "Applies to its members' next request.",
        tags: ['users'],
        params: GroupParams,
        body: GroupPatch,
        response: { 200: GroupView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      service.updateGroup(
        actorOf(request),
        (request.params as { name: string }).name,
        request.body as { description?: string; permissions?: GrantT[] },
      ),
  );
  app.delete(
    '/groups/:name',
    {
      schema: {
        summary: 'Delete a group',
        description: 'Only groups without members, not defined in the project file.',
        tags: ['users'],
        params: GroupParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await service.deleteGroup(actorOf(request), (request.params as { name: string }).name);
      return reply.code(204).send();
    },
  );

  app.get(
    '/clients',
    {
      schema: {
        summary: 'List API clients',
        tags: ['users'],
        response: { 200: Type.Object({ items: Type.Array(ClientView) }), ...problems(401, 403) },
      },
    },
    async (request) => ({ items: service.listClients(actorOf(request)) }),
  );

  app.post(
    '/clients',
    {
      schema: {
        summary: 'Create an API client',
        description: 'For the client-credentials grant at POST /auth/token. The secret is shown in this answer only.',
        tags: ['users'],
        body: CreateClient,
        response: {
          201: ClientCreated,
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const { client, clientSecret } = await service.createClient(actorOf(request), request.body as { name: string; groups: string[] });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ clientId: client.clientId, clientSecret, name: client.name, groups: client.groups });
    },
  );

  app.delete(
    '/clients/:clientId',
    {
      schema: {
        summary: 'Delete an API client',
        description: 'Its tokens stop working at once.',
        tags: ['users'],
        params: ClientParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await service.deleteClient(actorOf(request), (request.params as { clientId: string }).clientId);
      return reply.code(204).send();
    },
  );
};
