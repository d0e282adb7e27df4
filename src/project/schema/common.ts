import Type from 'typebox';
import { TAG_TYPES } from '../../domain/tag-types.js';

/** Tag names: letters, digits, `_ . - : / [ ] #` and spaces (api.md), no leading/trailing space. */
export const TAG_NAME_PATTERN = '^[A-Za-z0-9_.:/\\[\\]#-](?:[A-Za-z0-9_.:/\\[\\]# -]{0,254}[A-Za-z0-9_.:/\\[\\]#-])?$';
export const IDENTIFIER_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';

export const TagName = Type.String({ pattern: TAG_NAME_PATTERN, description: 'Tag name: letters, digits, _ . - : / [ ] # and inner spaces, at most 256 characters' });
export const Identifier = Type.String({ pattern: IDENTIFIER_PATTERN, description: 'A name starting with a letter: letters, digits, _ . -' });
export const TagTypeSchema = Type.Enum(TAG_TYPES, { description: 'Tag data type' });
export const ScalarValue = Type.Union([Type.Boolean(), Type.Number(), Type.String()]);
