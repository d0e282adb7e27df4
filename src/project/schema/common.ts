import Type from 'typebox';
import { TAG_TYPES } from '../../domain/tag-types.js';

/** Tag names: letters, digits, `_ . - : / [ ] #` and spaces (api.md), no leading/trailing space. */
export const TAG_NAME_PATTERN = '^[A-Za-z0-9_.:/\\[\\]#-](?:[A-Za-z0-9_.:/\\[\\]# -]{0,254}[A-Za-z0-9_.:/\\[\\]#-])?$';
export const IDENTIFIER_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';

export const USERNAME_PATTERN = '^[A-Za-z0-9_.@-]{1,64}$';
export const PASSWORD_HASH_PATTERN = '^\\$argon2id\\$';

/** What each pattern means, for problem messages (the regex itself helps nobody). */
export const PATTERN_MESSAGES: ReadonlyMap<string, string> = new Map([
  [
    TAG_NAME_PATTERN,
    'a tag name may contain letters, digits, spaces and _ . - : / [ ] # (no space at the start or end), at most 256 characters',
  ],
  [IDENTIFIER_PATTERN, 'must start with a letter and contain only letters, digits, _ . - (at most 64 characters)'],
  [USERNAME_PATTERN, 'a username may contain letters, digits and _ . @ - (1 to 64 characters)'],
  [PASSWORD_HASH_PATTERN, "must be an argon2id hash ('$argon2id$…'), as printed by `tagway hash-password`"],
]);

export const TagName = Type.String({
  pattern: TAG_NAME_PATTERN,
  description: 'Tag name: letters, digits, _ . - : / [ ] # and inner spaces, at most 256 characters',
});
export const Identifier = Type.String({
  pattern: IDENTIFIER_PATTERN,
  description: 'A name starting with a letter: letters, digits, _ . -',
});
export const TagTypeSchema = Type.Enum(TAG_TYPES, { description: 'Tag data type' });
export const ScalarValue = Type.Union([Type.Boolean(), Type.Number(), Type.String()]);
