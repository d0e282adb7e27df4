import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/auth/login-throttle.js';
import { ManualClock } from '../../src/domain/clock.js';

describe('LoginThrottle', () => {
  it('blocks a username after 5 failures in 10 min, even for the right password, then lifts', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    for (let i = 0; i < 4; i++) {
      expect(t.check('alice', '10.0.0.1').allowed).toBe(true);
      expect(t.recordFailure('alice', '10.0.0.1').blocked).toBeUndefined();
      clock.advance(1000);
    }
    expect(t.recordFailure('Alice', '10.0.0.2').blocked).toEqual({ scope: 'user', retryAfterSeconds: 60 });
    // From any address, any case of the name.
    expect(t.check('ALICE', '10.9.9.9')).toEqual({ allowed: false, scope: 'user', retryAfterSeconds: 60 });
    clock.advance(30_500);
    expect(t.check('alice', '10.0.0.1')).toEqual({ allowed: false, scope: 'user', retryAfterSeconds: 30 });
    clock.advance(29_500);
    expect(t.check('alice', '10.0.0.1').allowed).toBe(true);
    // Another user from the same address is not affected.
    expect(t.check('bob', '10.0.0.1').allowed).toBe(true);
  });

  it('counts only failures inside the sliding window', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    for (let i = 0; i < 4; i++) t.recordFailure('alice', 'a');
    clock.advance(10 * 60_000);
    expect(t.recordFailure('alice', 'a').blocked).toBeUndefined();
    expect(t.check('alice', 'a').allowed).toBe(true);
  });

  it('doubles the cooling-off on repeat and forgives after a quiet window', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    const burst = () => {
      let last;
      for (let i = 0; i < 5; i++) last = t.recordFailure('alice', 'a').blocked;
      return last;
    };
    expect(burst()?.retryAfterSeconds).toBe(60);
    clock.advance(60_000);
    expect(burst()?.retryAfterSeconds).toBe(120);
    clock.advance(120_000);
    expect(burst()?.retryAfterSeconds).toBe(240);
    clock.advance(240_000 + 10 * 60_000);
    expect(burst()?.retryAfterSeconds).toBe(60);
  });

  it('blocks a client address after 20 failures across usernames', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    for (let i = 0; i < 19; i++) expect(t.recordFailure(`user${i}`, '192.0.2.7').blocked).toBeUndefined();
    expect(t.recordFailure('user19', '192.0.2.7').blocked).toEqual({ scope: 'address', retryAfterSeconds: 60 });
    expect(t.check('someone-else', '192.0.2.7')).toMatchObject({ allowed: false, scope: 'address' });
    expect(t.check('someone-else', '192.0.2.8').allowed).toBe(true);
  });

  it('a success clears the user but not the address', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { maxFailuresPerAddress: 6 });
    for (let i = 0; i < 4; i++) t.recordFailure('alice', 'a');
    t.recordSuccess('alice');
    expect(t.recordFailure('alice', 'a').blocked).toBeUndefined();
    expect(t.recordFailure('alice', 'a').blocked?.scope).toBe('address');
  });

  it('optional lockout after N consecutive failures, across cooling-off periods', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { lockoutAfter: 8 });
    const locked: number[] = [];
    for (let i = 1; i <= 10; i++) {
      if (!t.check('alice', 'a').allowed) clock.advance(3_600_000);
      if (t.recordFailure('alice', 'a').lockedOut) locked.push(i);
    }
    expect(locked).toEqual([8]);
  });

  it('settings override the defaults', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { maxFailuresPerUser: 2, coolingOffMs: 5000 });
    t.recordFailure('x', 'a');
    expect(t.recordFailure('x', 'a').blocked).toEqual({ scope: 'user', retryAfterSeconds: 5 });
  });

  it('memory stays bounded under random usernames', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { maxEntries: 100 });
    for (let i = 0; i < 1000; i++) {
      t.recordFailure(`random${i}`, `10.0.${i >> 8}.${i & 255}`);
      clock.advance(10);
    }
    expect(t.size).toBeLessThanOrEqual(100);
  });
});
