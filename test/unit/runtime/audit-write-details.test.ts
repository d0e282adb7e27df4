import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/domain/audit/chain.js';
import { redact, writeDetails } from '../../../src/runtime/audit.js';

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
