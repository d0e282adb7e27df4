import { isRegisterArea, type ModbusArea } from './address.js';

/**
 * Request planning: merge the addresses of a polling group into as few read requests as the protocol
 * allows. Items are intervals (a Float64 covers four registers); sorted by start, each request takes the next
 * item while the item begins at most `maxGap` unrequested registers (or `maxBitGap` bits) after the request's
 * end and the request stays within the protocol maximum (125 registers for FC3/FC4, 2000 bits for FC1/FC2).
 * Left-to-right greedy packing is optimal for intervals sorted by start under a length bound: no plan with
 * fewer requests exists for the same gap rule.
 */
export interface PlanItem {
  area: ModbusArea;
  unitId: number;
  /** First register or bit. */
  start: number;
  /** Registers (or bits) the item covers, at least 1. */
  count: number;
}

export interface ReadRequest<T extends PlanItem> {
  area: ModbusArea;
  unitId: number;
  start: number;
  count: number;
  items: T[];
}

export interface PlanLimits {
  /** Largest run of unwanted registers worth reading to save a request. */
  maxGap: number;
  /** The same for coils and discrete inputs, in bits. */
  maxBitGap: number;
  /** At most 125 (the FC3/FC4 limit); lower for devices with small buffers. */
  maxRegisters: number;
  /** At most 2000 (the FC1/FC2 limit). */
  maxBits: number;
}

export const PROTOCOL_LIMITS = { maxRegisters: 125, maxBits: 2000 } as const;
export const DEFAULT_LIMITS: PlanLimits = { maxGap: 10, maxBitGap: 100, maxRegisters: 125, maxBits: 2000 };

const AREA_ORDER: Record<ModbusArea, number> = { coil: 0, discrete: 1, holding: 2, input: 3 };

export function planReads<T extends PlanItem>(items: readonly T[], limits: PlanLimits = DEFAULT_LIMITS): ReadRequest<T>[] {
  const sorted = [...items].sort(
    (a, b) => a.unitId - b.unitId || AREA_ORDER[a.area] - AREA_ORDER[b.area] || a.start - b.start || b.count - a.count,
  );
  const out: ReadRequest<T>[] = [];
  let cur: ReadRequest<T> | undefined;
  for (const it of sorted) {
    const regs = isRegisterArea(it.area);
    const maxCount = regs ? limits.maxRegisters : limits.maxBits;
    const maxGap = regs ? limits.maxGap : limits.maxBitGap;
    if (cur && cur.unitId === it.unitId && cur.area === it.area) {
      const curEnd = cur.start + cur.count;
      const newEnd = Math.max(curEnd, it.start + it.count);
      if (it.start - curEnd <= maxGap && newEnd - cur.start <= maxCount) {
        cur.count = newEnd - cur.start;
        cur.items.push(it);
        continue;
      }
    }
    cur = { area: it.area, unitId: it.unitId, start: it.start, count: it.count, items: [it] };
    out.push(cur);
  }
  return out;
}
