/**
 * Names as classic WinCC clients send them, made comparable: NFC (a name typed on a Mac arrives decomposed) and
 * without the invisible characters that copy and paste from Excel or a PDF leave behind (byte order mark,
 * zero-width space/joiners, word joiner, soft hyphen). A known trap in the field: the name looks right and is not
 * found. Spaces are kept: they may be part of a tag name.
 */
const INVISIBLE = /[\uFEFF\u200B-\u200D\u2060\u00AD]/g;

export function normaliseName(name: string): string {
  return name.normalize('NFC').replace(INVISIBLE, '');
}
