import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../src/auth/login-throttle.js';
import { ManualClock } from '../../../src/domain/clock.js';

describe('LoginThrottle', () => {
  it('blocks a username at one address after 5 failures in 10 min, even for the right password, then lifts; the owner elsewhere is not locked out', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    for (let i = 0; i < 4; i++) {
      expect(t.check('alice', '10.0.0.1').allowed).toBe(true);
      expect(t.recordFailure('alice', '10.0.0.1').blocked).toBeUndefined();
      clock.advance(1000);
    }
    expect(t.recordFailure('Alice', '10.0.0.1').blocked).toEqual({ scope: 'user', retryAfterSeconds: 60 });
    // Any case of the name, from that address.
    expect(t.check('ALICE', '10.0.0.1')).toEqual({ allowed: false, scope: 'user', retryAfterSeconds: 60 });
    // The attacker's failures do not lock the owner out at another address (issue 11, finding 8).
    expect(t.check('alice', '10.9.9.9').allowed).toBe(true);
    clock.advance(30_500);
    expect(t.check('alice', '10.0.0.1')).toEqual({ allowed: false, scope: 'user', retryAfterSeconds: 30 });
    clock.advance(29_500);
    expect(t.check('alice', '10.0.0.1').allowed).toBe(true);
    // Another user from the same address is not affected.
    expect(t.check('bob', '10.0.0.1').allowed).toBe(true);
  });

  it('counts IPv6 clients by their /64 and IPv4-mapped addresses as IPv4', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { maxFailuresPerAddress: 3 });
    t.recordFailure('a', '2001:db8:1:2::1');
    t.recordFailure('b', '2001:db8:1:2:ffff::9');
    expect(t.recordFailure('c', '2001:0db8:0001:0002:0:0:0:abcd').blocked?.scope).toBe('address');
    expect(t.check('d', '2001:db8:1:2::77')).toMatchObject({ allowed: false, scope: 'address' });
    expect(t.check('d', '2001:db8:1:3::1').allowed).toBe(true);
    t.recordFailure('a', '::ffff:192.0.2.1');
    t.recordFailure('b', '192.0.2.1');
    expect(t.recordFailure('c', '192.0.2.1').blocked?.scope).toBe('address');
    expect(t.check('d', '192.0.2.2').allowed).toBe(true);
  });

  it('reserves attempts before verification: concurrent attempts get at most the budget', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    const attempts = [];
    for (let i = 0; i < 100; i++) {
      const r = t.reserve('alice', '10.0.0.1');
      if (r.allowed) attempts.push(r.attempt);
    }
    expect(attempts).toHaveLength(5);
    for (const a of attempts) a.fail();
    expect(t.reserve('alice', '10.0.0.1')).toMatchObject({ allowed: false, scope: 'user' });
    // A success releases its reservation and clears the pair.
    const b = t.reserve('bob', '10.0.0.1');
    expect(b.allowed).toBe(true);
    if (b.allowed) b.attempt.succeed();
    expect(t.reserve('bob', '10.0.0.1').allowed).toBe(true);
  });

  it('a global budget bounds failures across users and addresses per minute', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { maxFailuresGlobal: 10 });
    for (let i = 0; i < 10; i++) t.recordFailure(`u${i}`, `10.0.${i}.1`);
    expect(t.reserve('someone', '10.1.1.1')).toMatchObject({ allowed: false, scope: 'global' });
    clock.advance(60_001);
    expect(t.reserve('someone', '10.1.1.1').allowed).toBe(true);
  });

  it('the global budget does not refuse a user at a network where they logged in before', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock, { maxFailuresGlobal: 10 });
    const ok = t.reserve('owner', '192.0.2.5');
    if (ok.allowed) ok.attempt.succeed();
    for (let i = 0; i < 10; i++) t.recordFailure(`u${i}`, `10.0.${i}.1`);
    expect(t.reserve('owner', '198.51.100.1')).toMatchObject({ allowed: false, scope: 'global' });
    expect(t.reserve('owner', '192.0.2.5').allowed).toBe(true);
  });

  it('an unlock (reset) clears the user at every address', () => {
    const clock = new ManualClock();
    const t = new LoginThrottle(clock);
    for (const addr of ['10.0.0.1', '10.0.0.2']) for (let i = 0; i < 5; i++) t.recordFailure('alice', addr);
    expect(t.check('alice', '10.0.0.2').allowed).toBe(false);
    expect(t.reset('alice')).toBe(2);
    expect(t.check('alice', '10.0.0.1').allowed).toBe(true);
    expect(t.check('alice', '10.0.0.2').allowed).toBe(true);
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
