import Type from 'typebox';
import { PERMISSIONS } from '../../domain/permissions.js';
import { Identifier, PASSWORD_HASH_PATTERN, USERNAME_PATTERN } from './common.js';

export const GrantSchema = Type.Object(
  {
    permission: Type.Enum(PERMISSIONS),
    tags: Type.Optional(Type.String({ minLength: 1, description: 'Tag-name glob limiting the grant (default: all tags)' })),
  },
  { additionalProperties: false },
);

export const GroupSchema = Type.Object(
  {
    name: Identifier,
    description: Type.Optional(Type.String()),
    permissions: Type.Array(GrantSchema),
  },
  { additionalProperties: false },
);

export const UserSchema = Type.Object(
  {
    username: Type.String({ pattern: USERNAME_PATTERN }),
    displayName: Type.Optional(Type.String({ maxLength: 128 })),
    passwordHash: Type.Optional(
      Type.String({ pattern: PASSWORD_HASH_PATTERN, description: 'argon2id hash, e.g. from `tagway hash-password`' }),
    ),
    password: Type.Optional(Type.String({ minLength: 1, description: 'Plain password: only for demos and tests; prefer passwordHash' })),
    groups: Type.Array(Identifier),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** An API client for the OAuth2 client-credentials grant, defined in the project (secret as argon2id hash). */
export const ClientSchema = Type.Object(
  {
    clientId: Type.String({ pattern: '^[A-Za-z0-9._~-]{3,64}$' }),
    name: Type.Optional(Type.String({ maxLength: 128 })),
    secretHash: Type.String({
      pattern: '^\\$argon2id\\$',
      description: 'argon2id hash of the client secret, e.g. from `tagway hash-password`',
    }),
    groups: Type.Array(Identifier),
  },
  { additionalProperties: false },
);
