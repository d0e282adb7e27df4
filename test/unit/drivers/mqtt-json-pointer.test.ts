import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { documentAt, formatPointer, parsePointer, resolvePointer } from '../../../src/drivers/mqtt/json-pointer.js';

describe('JSON pointer (RFC 6901)', () => {
  // The examples of RFC 6901, section 5.
  const doc = { foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'c%d': 2, 'e^f': 3, 'g|h': 4, 'i\\j': 5, 'k"l': 6, ' ': 7, 'm~n': 8 };
  it.each([
    ['', doc],
    ['/foo', ['bar', 'baz']],
    ['/foo/0', 'bar'],
    ['/', 0],
    ['/a~1b', 1],
    ['/c%d', 2],
    ['/e^f', 3],
    ['/g|h', 4],
    ['/i\\j', 5],
    ['/k"l', 6],
    ['/ ', 7],
    ['/m~0n', 8],
  ])('resolves %j', (pointer, expected) => {
    const p = parsePointer(pointer);
    if (!p.ok) throw new Error(p.message);
    expect(resolvePointer(doc, p.tokens)).toEqual(expected);
  });

  it('designates nothing for missing members, bad indices and inherited properties', () => {
    const t = (p: string) => {
      const r = parsePointer(p);
      if (!r.ok) throw new Error(r.message);
      return r.tokens;
    };
    expect(resolvePointer(doc, t('/nope'))).toBeUndefined();
    expect(resolvePointer(doc, t('/foo/2'))).toBeUndefined();
    expect(resolvePointer(doc, t('/foo/-'))).toBeUndefined();
    expect(resolvePointer(doc, t('/foo/01'))).toBeUndefined();
    expect(resolvePointer(doc, t('/foo/0/x'))).toBeUndefined();
    expect(resolvePointer({}, t('/constructor'))).toBeUndefined();
    expect(resolvePointer({}, t('/__proto__'))).toBeUndefined();
  });

  it('refuses malformed pointers', () => {
    expect(parsePointer('foo').ok).toBe(false);
    expect(parsePointer('/a~2').ok).toBe(false);
    expect(parsePointer('/a~').ok).toBe(false);
  });

  it('round-trips any tokens through format, parse and a built document', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }), fc.jsonValue(), (tokens, value) => {
        const p = parsePointer(formatPointer(tokens));
        expect(p).toEqual({ ok: true, tokens });
        const built = JSON.parse(JSON.stringify(documentAt(tokens, value))) as unknown;
        expect(resolvePointer(built, tokens)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
