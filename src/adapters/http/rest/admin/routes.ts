import Type from 'typebox';
import { hashPassword, verifyPassword } from '../../../../auth/passwords.js';
import { passwordProblems } from '../../../../auth/password-policy.js';
import { compileGlob } from '../../../../domain/glob.js';
import { PERMISSIONS, type Grant as GrantT, type Group } from '../../../../domain/permissions.js';
import { TagwayError } from '../../../../domain/problems.js';
import type { Runtime } from '../../../../runtime/runtime.js';
import type { UserRecord } from '../../../../storage/user-repository.js';
import { principalOf, requirePermission } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

/**
 * Administration (api.md): users, groups (read), API clients, and changing one's own password.
 * Every change is audited; a password is never returned, a client secret only once.
 */
const Username = Type.String({ pattern: '^[A-Za-z0-9_.@-]{1,64}$' });
const GroupName = Type.String({ minLength: 1, maxLength: 64 });

const UserView = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  groups: Type.Array(Type.String()),
  disabled: Type.Boolean(),
  source: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const CreateUser = Type.Object(
  {
    username: Username,
    displayName: Type.Optional(Type.String({ maxLength: 128 })),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    groups: Type.Array(GroupName, { maxItems: 64 }),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const PatchUser = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: 128 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    groups: Type.Optional(Type.Array(GroupName, { maxItems: 64 })),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ChangePassword = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const UserParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
const GroupParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const Grant = Type.Object(
  {
    permission: Type.Union(PERMISSIONS.map((p) => Type.Literal(p))),
    tags: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Tag-name glob (default: all tags)' })),
  },
  { additionalProperties: false },
);
const GroupView = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  permissions: Type.Array(Grant),
  source: Type.String(),
});
const GroupBody = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    permissions: Type.Array(Grant, { maxItems: 256 }),
  },
  { additionalProperties: false },
);
const GroupPatch = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 256 })),
    permissions: Type.Optional(Type.Array(Grant, { maxItems: 256 })),
  },
  { additionalProperties: false },
);
const ClientView = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  groups: Type.Array(Type.String()),
  source: Type.String(),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});
const CreateClient = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), groups: Type.Array(GroupName, { maxItems: 64 }) },
  { additionalProperties: false },
);
const ClientParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 128 }) });

/** Grants as given, with each tag glob compiled once to refuse a malformed one with a field error. */
function checkGrants(grants: GrantT[]): GrantT[] {
  grants.forEach((g, i) => {
    if (g.tags === undefined) return;
    try {
      compileGlob(g.tags);
    } catch (err) {
      throw new TagwayError('VALIDATION_FAILED', `permissions[${i}].tags is not a valid glob`, {
        errors: [{ field: `body.permissions.${i}.tags`, message: (err as Error).message }],
      });
    }
  });
  return grants.map((g) => (g.tags === undefined ? { permission: g.permission } : { permission: g.permission, tags: g.tags }));
}

function userView(u: UserRecord) {
  return {
    username: u.username,
    displayName: u.displayName,
    groups: u.groups,
    disabled: u.disabled,
    source: u.source,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

function checkPassword(password: string, username: string, field: string): void {
  const p = passwordProblems(password, username);
  if (p.length)
    throw new TagwayError('VALIDATION_FAILED', `${field} ${p.join('; ')}`, {
      errors: p.map((message) => ({ field: `body.${field}`, message })),
    });
}

function checkGroups(runtime: Runtime, groups: readonly string[]): void {
  const unknown = groups.filter((g) => !runtime.users.group(g));
  if (unknown.length)
    throw new TagwayError('VALIDATION_FAILED', `unknown group(s): ${unknown.join(', ')}`, {
      errors: unknown.map((g) => ({ field: 'body.groups', message: `no group '${g}'` })),
    });
}

/** Refuses a change that would leave nobody able to administer users (nobody could undo it). */
function keepAnAdmin(runtime: Runtime, username: string, next: { groups: string[]; disabled: boolean } | undefined): void {
  const remaining = runtime.users.list().some((u) => {
    const v = u.username === username ? next : u;
    return v !== undefined && !v.disabled && runtime.users.permissionsFor(v.groups).has('users:admin');
  });
  if (!remaining) throw new TagwayError('CONFLICT', 'This change would leave no enabled user with users:admin');
}

export const adminRoutes: ApiPlugin = async (app, { runtime }) => {
  const { users, security } = runtime;

  app.get(
    '/users',
    {
      schema: {
        summary: 'List users',
        tags: ['users'],
        response: { 200: Type.Object({ items: Type.Array(UserView) }), ...problems(401, 403) },
      },
    },
    async (request) => {
      requirePermission(request, 'users:admin');
      return { items: users.list().map(userView) };
    },
  );

  app.post(
    '/users',
    {
      schema: { summary: 'Create a user', tags: ['users'], body: CreateUser, response: { 201: UserView, ...problems(400, 401, 403, 409) } },
    },
    async (request, reply) => {
      const admin = requirePermission(request, 'users:admin');
      const b = request.body as { username: string; displayName?: string; password: string; groups: string[]; disabled?: boolean };
      if (users.get(b.username)) throw new TagwayError('CONFLICT', `User '${b.username}' exists`);
      checkGroups(runtime, b.groups);
      checkPassword(b.password, b.username, 'password');
      await users.upsertLocal({
        username: b.username,
        displayName: b.displayName ?? b.username,
        passwordHash: await hashPassword(b.password),
        groups: [...new Set(b.groups)],
        disabled: b.disabled ?? false,
        source: 'local',
      });
      await security.audit.record({
        action: 'user.create',
        user: admin.username,
        clientAddress: request.ip,
        target: b.username,
        details: { groups: b.groups, disabled: b.disabled ?? false },
        result: 'OK',
      });
      return reply.code(201).send(userView(users.get(b.username)!));
    },
  );

  app.get(
    '/users/:username',
    { schema: { summary: 'One user', tags: ['users'], params: UserParams, response: { 200: UserView, ...problems(401, 403, 404) } } },
    async (request) => {
      requirePermission(request, 'users:admin');
      const u = users.get((request.params as { username: string }).username);
      if (!u) throw new TagwayError('NOT_FOUND', 'No such user');
      return userView(u);
    },
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
    async (request) => {
      const admin = requirePermission(request, 'users:admin');
      const name = (request.params as { username: string }).username;
      const b = request.body as { displayName?: string; password?: string; groups?: string[]; disabled?: boolean };
      const u = users.get(name);
      if (!u) throw new TagwayError('NOT_FOUND', 'No such user');
      if (b.groups) checkGroups(runtime, b.groups);
      if (b.password !== undefined) checkPassword(b.password, name, 'password');
      const groups = b.groups ? [...new Set(b.groups)] : u.groups;
      const disabled = b.disabled ?? u.disabled;
      keepAnAdmin(runtime, name, { groups, disabled });
      const passwordHash = b.password !== undefined ? await hashPassword(b.password) : u.passwordHash;
      await users.upsertLocal({
        username: name,
        displayName: b.displayName ?? u.displayName,
        passwordHash,
        groups,
        disabled,
        source: u.source,
      });
      if (b.password !== undefined) runtime.sessions.revokeUser(name);
      if (b.disabled === false && u.disabled) security.throttle.reset(name);
      const changed = Object.keys(b);
      const action = b.disabled === true && !u.disabled ? 'user.disable' : b.password !== undefined ? 'user.password' : 'user.update';
      await security.audit.record({
        action,
        user: admin.username,
        clientAddress: request.ip,
        target: name,
        result: 'OK',
        details: {
          changed,
          ...(b.groups ? { oldGroups: u.groups, newGroups: groups } : {}),
          ...(b.disabled !== undefined ? { oldDisabled: u.disabled, newDisabled: disabled } : {}),
        },
      });
      return userView(users.get(name)!);
    },
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
      const admin = requirePermission(request, 'users:admin');
      const name = (request.params as { username: string }).username;
      const u = users.get(name);
      if (!u) throw new TagwayError('NOT_FOUND', 'No such user');
      keepAnAdmin(runtime, name, undefined);
      await users.delete(name);
      runtime.sessions.revokeUser(name);
      await security.audit.record({
        action: 'user.delete',
        user: admin.username,
        clientAddress: request.ip,
        target: name,
        details: { groups: u.groups },
        result: 'OK',
      });
      return reply.code(204).send();
    },
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
      const p = principalOf(request);
      const b = request.body as { currentPassword: string; newPassword: string };
      const u = users.get(p.username);
      if (!u || u.passwordHash === '')
        throw new TagwayError('INVALID_STATE', 'This account has no local password (directory or API client)');
      const v = security.throttle.check(p.username, request.ip);
      if (!v.allowed)
        throw new TagwayError('TOO_MANY_REQUESTS', 'Too many failed attempts', { headers: { 'Retry-After': String(v.retryAfterSeconds) } });
      if (!(await verifyPassword(u.passwordHash, b.currentPassword))) {
        security.throttle.recordFailure(p.username, request.ip);
        await security.audit.record({
          action: 'user.password',
          user: p.username,
          clientAddress: request.ip,
          target: p.username,
          result: 'UNAUTHENTICATED',
        });
        throw new TagwayError('VALIDATION_FAILED', 'currentPassword is wrong', {
          errors: [{ field: 'body.currentPassword', message: 'is wrong' }],
        });
      }
      checkPassword(b.newPassword, p.username, 'newPassword');
      await users.upsertLocal({
        username: u.username,
        displayName: u.displayName,
        passwordHash: await hashPassword(b.newPassword),
        groups: u.groups,
        disabled: u.disabled,
        source: u.source,
      });
      // Other sessions (perhaps an attacker's) end; the one making this request stays.
      const keep = p.sessionId;
      runtime.sessions.revokeUser(p.username, keep);
      await security.audit.record({
        action: 'user.password',
        user: p.username,
        clientAddress: request.ip,
        target: p.username,
        result: 'OK',
      });
      return reply.code(204).send();
    },
  );

  const groupView = (g: Group) => ({
    name: g.name,
    description: g.description,
    permissions: g.permissions,
    source: security.groups.isFixed(g.name) ? 'project' : 'admin',
  });
  app.get(
    '/groups',
    {
      schema: {
        summary: 'List groups',
        tags: ['users'],
        response: { 200: Type.Object({ items: Type.Array(GroupView) }), ...problems(401, 403) },
      },
    },
    async (request) => {
      requirePermission(request, 'users:admin');
      return { items: users.listGroups().map(groupView) };
    },
  );
  app.get(
    '/groups/:name',
    { schema: { summary: 'One group', tags: ['users'], params: GroupParams, response: { 200: GroupView, ...problems(401, 403, 404) } } },
    async (request) => {
      requirePermission(request, 'users:admin');
      const g = users.group((request.params as { name: string }).name);
      if (!g) throw new TagwayError('NOT_FOUND', 'No such group');
      return groupView(g);
    },
  );
  app.post(
    '/groups',
    {
      schema: {
        summary: 'Create a group',
        tags: ['users'],
        body: GroupBody,
        response: { 201: GroupView, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const admin = requirePermission(request, 'users:admin');
      const b = request.body as Group;
      const g: Group = {
        name: b.name,
        ...(b.description !== undefined ? { description: b.description } : {}),
        permissions: checkGrants(b.permissions),
      };
      await security.groups.create(g);
      await security.audit.record({
        action: 'group.create',
        user: admin.username,
        clientAddress: request.ip,
        target: g.name,
        details: { permissions: g.permissions },
        result: 'OK',
      });
      return reply.code(201).send(groupView(g));
    },
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
    async (request) => {
      const admin = requirePermission(request, 'users:admin');
      const name = (request.params as { name: string }).name;
      const cur = users.group(name);
      if (!cur) throw new TagwayError('NOT_FOUND', 'No such group');
      const b = request.body as Partial<Group>;
      const next: Group = {
        name,
        description: b.description ?? cur.description,
        permissions: b.permissions ? checkGrants(b.permissions) : cur.permissions,
      };
      const old = await security.groups.update(next);
      security.audit.record({
        action: 'group.update',
        user: admin.username,
        clientAddress: request.ip,
        target: name,
        details: { oldPermissions: old.permissions, newPermissions: next.permissions },
        result: 'OK',
      });
      return groupView(next);
    },
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
      const admin = requirePermission(request, 'users:admin');
      const name = (request.params as { name: string }).name;
      const old = await security.groups.delete(name);
      security.audit.record({
        action: 'group.delete',
        user: admin.username,
        clientAddress: request.ip,
        target: name,
        details: { permissions: old.permissions },
        result: 'OK',
      });
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
    async (request) => {
      requirePermission(request, 'users:admin');
      return { items: security.clients.list() };
    },
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
          201: Type.Object({
            clientId: Type.String(),
            clientSecret: Type.String(),
            name: Type.String(),
            groups: Type.Array(Type.String()),
          }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const admin = requirePermission(request, 'users:admin');
      const b = request.body as { name: string; groups: string[] };
      checkGroups(runtime, b.groups);
      const { client, clientSecret } = await security.clients.create({
        name: b.name,
        groups: [...new Set(b.groups)],
        createdBy: admin.username,
      });
      await security.audit.record({
        action: 'client.create',
        user: admin.username,
        clientAddress: request.ip,
        target: client.clientId,
        details: { name: b.name, groups: client.groups },
        result: 'OK',
      });
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
      const admin = requirePermission(request, 'users:admin');
      const id = (request.params as { clientId: string }).clientId;
      await security.clients.delete(id);
      await security.audit.record({ action: 'client.delete', user: admin.username, clientAddress: request.ip, target: id, result: 'OK' });
      return reply.code(204).send();
    },
  );
};
