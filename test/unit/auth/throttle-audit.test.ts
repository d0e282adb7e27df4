import { describe, expect, it } from 'vitest';
import { ThrottleAudit } from '../../../src/auth/throttle-audit.js';
import { ManualClock } from '../../../src/domain/clock.js';
import type { AuditEvent } from '../../../src/runtime/audit.js';

describe('ThrottleAudit', () => {
  const setup = (maxEntries = 10_000) => {
    const clock = new ManualClock();
    const rows: AuditEvent[] = [];
    const t = new ThrottleAudit((e) => rows.push(e), clock, 60_000, maxEntries);
    t.start();
    return { clock, rows, t };
  };
  const v = { scope: 'user' as const, retryAfterSeconds: 60 };

  it('writes the first refusal of a window at once and counts the others into the next row', () => {
    const { clock, rows, t } = setup();
    for (let i = 0; i < 1000; i++) t.refused('auth.login_throttled', `u${i}`, '192.0.2.1', v);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'auth.login_throttled', user: 'u0', clientAddress: '192.0.2.1', details: { count: 1 } });
    clock.advance(60_000); // the sweep
    expect(rows).toHaveLength(2);
    expect(rows[1]!.details).toMatchObject({ count: 999, users: ['u1', 'u2', 'u3', 'u4', 'u5'] });
    // Quiet now: the next sweep writes nothing and forgets the network.
    clock.advance(120_000);
    expect(rows).toHaveLength(2);
  });

  it('one row per window per network: an IPv6 /64 is one network; token and login refusals are separate', () => {
    const { rows, t } = setup();
    t.refused('auth.login_throttled', 'a', '2001:db8::1', v);
    t.refused('auth.login_throttled', 'a', '2001:db8::2', v);
    t.refused('auth.login_throttled', 'a', '2001:db8:0:1::1', v);
    t.refused('auth.token_failed', 'c', '2001:db8::1', v);
    expect(rows.map((r) => [r.action, r.clientAddress])).toEqual([
      ['auth.login_throttled', '2001:db8::1'],
      ['auth.login_throttled', '2001:db8:0:1::1'],
      ['auth.token_failed', '2001:db8::1'],
    ]);
  });

  it('stop writes what is counted; memory stays bounded, evicted counts are written, not lost', () => {
    const { rows, t } = setup(10);
    t.refused('auth.login_throttled', 'a', '10.0.0.1', v);
    t.refused('auth.login_throttled', 'a', '10.0.0.1', v);
    for (let i = 2; i <= 30; i++) t.refused('auth.login_throttled', 'a', `10.0.0.${i}`, v);
    const counted = () => rows.reduce((n, r) => n + (r.details!.count as number), 0);
    t.stop();
    expect(counted()).toBe(31);
  });
});
