import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatestValues } from '../../../../src/runtime/push/latest-values.js';

describe('LatestValues', () => {
  it('holds each position once, in order of first mark, whatever the sequence of marks', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 40 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.array(fc.oneof(fc.integer({ min: 0, max: n - 1 }), fc.constant(-1)), { maxLength: 300 })),
          ),
        ([n, ops]) => {
          const lv = new LatestValues(n);
          const model: number[] = [];
          for (const op of ops) {
            if (op === -1) {
              expect(lv.take()).toBe(model.length > 0 ? model.shift() : -1);
            } else {
              const fresh = !model.includes(op);
              expect(lv.mark(op)).toBe(fresh);
              if (fresh) model.push(op);
            }
            expect(lv.size).toBe(model.length);
            expect(lv.size).toBeLessThanOrEqual(n);
          }
        },
      ),
    );
  });
});
