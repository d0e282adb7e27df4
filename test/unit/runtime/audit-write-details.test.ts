import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/domain/audit/chain.js';
import { auditValue } from '../../../src/domain/audit/value.js';
import { bulkWriteDetails, redact, writeDetails } from '../../../src/runtime/audit.js';

describe("a write's audit details written directly", () => {
  const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.string());

  it('are byte for byte the canonical JSON of the redacted details (the text the chain hashes)', () => {
    fc.assert(
      fc.property(scalar, scalar, fc.option(fc.string(), { nil: undefined }), (oldValue, newValue, error) => {
        const details = error === undefined ? { oldValue, newValue } : { oldValue, newValue, error };
        expect(writeDetails(oldValue, newValue, error)).toBe(canonicalJson(redact(details)));
      }),
    );
  });

  it('leave non-scalar values (a truncated value, an array) to the general path', () => {
    expect(writeDetails({ truncated: true, bytes: 300, sha256: 'x' }, 1, undefined)).toBeUndefined();
    expect(writeDetails(1, [1, 2], undefined)).toBeUndefined();
  });
});

describe("a bulk write's audit row", () => {
  const value = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.constant(undefined),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'password', 'z'), fc.integer(), { maxKeys: 3 }),
  );
  const item = fc.record({
    name: fc.string({ minLength: 1 }),
    oldValue: value,
    newValue: value,
    error: fc.option(fc.string(), { nil: undefined }),
  });

  it('lists every item, byte for byte the canonical JSON of the redacted items', () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 2, maxLength: 6 }), (items) => {
        const events = items.map((i) => ({
          tag: { def: { name: i.name } },
          oldValue: i.oldValue,
          newValue: i.newValue,
          ok: i.error === undefined,
          error: i.error,
        }));
        const expected = canonicalJson(
          redact({
            items: items.map((i) => ({ name: i.name, oldValue: auditValue(i.oldValue), newValue: auditValue(i.newValue), error: i.error })),
          }),
        );
        expect(bulkWriteDetails(events as never)).toBe(expected);
      }),
    );
  });
});
