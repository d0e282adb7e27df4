/**
 * JSON Pointer (RFC 6901): `""` is the whole document, `/a/b/0` walks object members and array indices,
 * `~1` stands for `/` and `~0` for `~` inside a token. Parsed once per tag; resolved per message.
 */
export type PointerResult = { ok: true; tokens: string[] } | { ok: false; message: string };

export function parsePointer(pointer: string): PointerResult {
  if (pointer === '') return { ok: true, tokens: [] };
  if (!pointer.startsWith('/')) return { ok: false, message: `JSON pointer '${pointer}' must be empty or start with "/"` };
  const tokens: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~(?![01])/.test(raw)) return { ok: false, message: `JSON pointer '${pointer}': "~" must be followed by 0 or 1` };
    // Order matters (RFC 6901, 4): ~1 first, so that "~01" becomes "~1" and not "/".
    tokens.push(raw.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return { ok: true, tokens };
}

export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** The value the pointer designates, or `undefined` when it designates nothing. */
export function resolvePointer(document: unknown, tokens: readonly string[]): unknown {
  let node: unknown = document;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      // "-" (the element after the last) and leading zeros designate nothing when reading.
      if (!ARRAY_INDEX.test(token)) return undefined;
      const i = Number(token);
      if (i >= node.length) return undefined;
      node = node[i];
    } else if (node !== null && typeof node === 'object') {
      if (!Object.prototype.hasOwnProperty.call(node, token)) return undefined;
      node = (node as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return node;
}

/**
 * The smallest document in which the pointer designates `value`: each token becomes an object member
 * (`/a/0` → `{"a":{"0":…}}`, since a publisher cannot know an array's other elements).
 */
export function documentAt(tokens: readonly string[], value: unknown): unknown {
  let doc: unknown = value;
  for (let i = tokens.length - 1; i >= 0; i--) doc = { [tokens[i]!]: doc };
  return doc;
}
