import { describe, expect, it } from 'vitest';
import type { AuditEntryFields } from '../../../src/domain/audit/chain.js';
import { ManualClock } from '../../../src/domain/clock.js';
import { AuditTrail, type AuditStore } from '../../../src/runtime/audit.js';
import { waitUntil } from '../../helpers/wait.js';

/** A store that refuses while `full` is set, as SQLite does on a full disk (an injected fault; nothing else faked). */
function refusingStore(): AuditStore & { full: boolean; rows: Array<Omit<AuditEntryFields, 'id'>> } {
  const s = {
    full: true,
    rows: [] as Array<Omit<AuditEntryFields, 'id'>>,
    appendMany: async (rows: ReadonlyArray<Omit<AuditEntryFields, 'id'>>) => {
      if (s.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      s.rows.push(...rows);
    },
  };
  return s as never;
}

describe('audit trail during a storage outage', () => {
  it('keeps refused rows, reports degraded, and commits them first, in order, with their times, once storage takes writes', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const store = refusingStore();
    const trail = new AuditTrail(store, clock);
    const told: string[] = [];
    trail.onCommitted = (e) => told.push(`${e.action}:${e.target}`);

    await expect(trail.record({ action: 'tag.write', user: 'anna', target: 'A', result: 'OK' })).rejects.toThrow(/disk is full/);
    clock.advance(1000);
    await expect(trail.record({ action: 'tag.write', user: 'anna', target: 'B', result: 'OK' })).rejects.toThrow(/disk is full/);
    expect(trail.storageState().ok).toBe(false);
    expect(trail.storageState().reason).toMatch(/2 audit rows wait for storage/);

    store.full = false;
    await waitUntil(() => store.rows.length === 2 || undefined, 'the held rows committed', 5000);
    expect(store.rows.map((r) => [r.target, r.at])).toEqual([
      ['A', '2026-12-06T12:00:00.000Z'],
      ['B', '2026-12-06T12:00:01.000Z'],
    ]);
    expect(told).toEqual(['tag.write:A', 'tag.write:B']);
    expect(trail.storageState()).toEqual({ ok: true });

    // A new row after recovery is committed behind them at once.
    await trail.record({ action: 'auth.login', user: 'anna', result: 'OK' });
    expect(store.rows.map((r) => r.action)).toEqual(['tag.write', 'tag.write', 'auth.login']);
    trail.stopRetrying();
  });
});
