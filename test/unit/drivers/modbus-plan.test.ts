import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModbusArea } from '../../../src/drivers/modbus-tcp/address.js';
import { planReads, type PlanItem, type PlanLimits } from '../../../src/drivers/modbus-tcp/plan.js';

const limits: PlanLimits = { maxGap: 10, maxBitGap: 100, maxRegisters: 125, maxBits: 2000 };
const reg = (start: number, count = 1, area: ModbusArea = 'holding', unitId = 1): PlanItem => ({ area, unitId, start, count });

describe('planReads', () => {
  it('reads 10,000 neighbouring registers in ceil(10000/125) = 80 requests', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => reg(i));
    const plan = planReads(items, limits);
    expect(plan).toHaveLength(80);
    expect(plan.every((r) => r.count === 125)).toBe(true);
  });

  it('reads 2,000 bits per request', () => {
    const plan = planReads(
      Array.from({ length: 4001 }, (_, i) => reg(i, 1, 'coil')),
      limits,
    );
    expect(plan.map((r) => r.count)).toEqual([2000, 2000, 1]);
  });

  it('bridges gaps up to maxGap, not beyond', () => {
    expect(planReads([reg(0), reg(11)], limits)).toHaveLength(1); // 10 unwanted registers between
    expect(planReads([reg(0), reg(12)], limits)).toHaveLength(2);
    expect(planReads([reg(0), reg(1)], { ...limits, maxGap: 0 })).toHaveLength(1);
  });

  it('never splits a value and never merges areas or units', () => {
    const plan = planReads([reg(0, 4), reg(120, 4), reg(0, 1, 'input'), reg(0, 1, 'holding', 2)], limits);
    expect(plan.map((r) => [r.area, r.unitId, r.start, r.count])).toEqual([
      ['holding', 1, 0, 4],
      ['holding', 1, 120, 4],
      ['input', 1, 0, 1],
      ['holding', 2, 0, 1],
    ]);
  });

  it('covers every item inside one request within the protocol limits (property)', () => {
    const item = fc.record({
      area: fc.constantFrom<ModbusArea>('coil', 'discrete', 'holding', 'input'),
      unitId: fc.integer({ min: 1, max: 2 }),
      start: fc.integer({ min: 0, max: 3000 }),
      count: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 300 }), fc.integer({ min: 0, max: 30 }), (items, maxGap) => {
        const l = { ...limits, maxGap, maxBitGap: maxGap };
        const plan = planReads(items, l);
        let covered = 0;
        for (const r of plan) {
          const isReg = r.area === 'holding' || r.area === 'input';
          expect(r.count).toBeLessThanOrEqual(isReg ? l.maxRegisters : l.maxBits);
          for (const it of r.items) {
            expect([it.area, it.unitId]).toEqual([r.area, r.unitId]);
            expect(it.start).toBeGreaterThanOrEqual(r.start);
            expect(it.start + it.count).toBeLessThanOrEqual(r.start + r.count);
          }
          covered += r.items.length;
        }
        expect(covered).toBe(items.length);
        // Two consecutive requests of one area and unit are apart by more than the gap, or would be too long together.
        for (let i = 1; i < plan.length; i++) {
          const a = plan[i - 1]!,
            b = plan[i]!;
          if (a.area !== b.area || a.unitId !== b.unitId) continue;
          const isReg = a.area === 'holding' || a.area === 'input';
          const firstOfB = Math.min(...b.items.map((it) => it.start));
          const merged = Math.max(...b.items.filter((it) => it.start === firstOfB).map((it) => it.start + it.count)) - a.start;
          expect(firstOfB - (a.start + a.count) > maxGap || merged > (isReg ? l.maxRegisters : l.maxBits)).toBe(true);
        }
      }),
    );
  });
});
