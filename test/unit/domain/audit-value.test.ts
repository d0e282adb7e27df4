import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_VALUE_MAX_BYTES, auditValue, jsonDigest } from '../../../src/domain/audit/value.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('auditValue', () => {
  it('keeps scalars and small values as they are', () => {
    expect([auditValue(1.5), auditValue(true), auditValue(null), auditValue(undefined), auditValue('abc')]).toEqual([
      1.5,
      true,
      null,
      null,
      'abc',
    ]);
    expect([auditValue(12n), auditValue(new Date(0)), auditValue(Number.NaN)]).toEqual(['12', '1970-01-01T00:00:00.000Z', 'NaN']);
    expect(auditValue({ a: [1, 2], b: 'x' })).toEqual({ a: [1, 2], b: 'x' });
  });
  it('replaces a value whose JSON exceeds the limit by its size and hash', () => {
    const edge = 'y'.repeat(AUDIT_VALUE_MAX_BYTES - 2);
    expect(auditValue(edge)).toBe(edge);
    const s = 'ü'.repeat(200);
    expect(auditValue(s)).toEqual({ truncated: true, bytes: Buffer.byteLength(JSON.stringify(s)), sha256: sha(JSON.stringify(s)) });
    const o = { list: Array.from({ length: 100 }, (_, i) => i), 'k"ey': null };
    expect(auditValue(o)).toEqual({ truncated: true, bytes: JSON.stringify(o).length, sha256: sha(JSON.stringify(o)) });
  });
  it('summarises a value nested 100,000 deep without recursion', () => {
    for (const text of ['['.repeat(100_000) + ']'.repeat(100_000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)]) {
      const v = JSON.parse(text);
      expect(jsonDigest(v)).toEqual({ bytes: text.length, sha256: sha(text) });
      expect(auditValue(v)).toEqual({ truncated: true, bytes: text.length, sha256: sha(text) });
    }
  });
  it('digests like JSON.stringify for ordinary values', () => {
    const v = { a: [1, 'two', { three: [null, true, false, -0.5e-7] }], é: '\u2028"\\', skip: undefined, d: new Date(0) };
    const text = JSON.stringify(v);
    expect(jsonDigest(v)).toEqual({ bytes: Buffer.byteLength(text), sha256: sha(text) });
  });
  it('digests a deep mixed value exactly as its JSON text', () => {
    const inner = { a: [1, 'two', { three: [null, true, false, -0.5e-7] }], é: '\u2028"\\', skip: undefined, n: 12n, d: new Date(0) };
    let v: unknown = inner;
    let text = `{"a":[1,"two",{"three":[null,true,false,-5e-8]}],"é":"\u2028\\"\\\\","n":"12","d":"1970-01-01T00:00:00.000Z"}`;
    for (let i = 0; i < 100_000; i++) v = [v, i, { k: undefined, j: 'q' }];
    text = `${'['.repeat(100_000)}${text}${Array.from({ length: 100_000 }, (_, i) => `,${i},{"j":"q"}]`).join('')}`;
    expect(() => JSON.stringify(v)).toThrow(RangeError);
    expect(jsonDigest(v)).toEqual({ bytes: Buffer.byteLength(text), sha256: sha(text) });
  });
});
