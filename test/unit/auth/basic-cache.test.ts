import { hash, verify } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { BasicAuthCache, parseBasic } from '../../../src/auth/basic-cache.js';
import { ManualClock } from '../../../src/domain/clock.js';

describe('BasicAuthCache', () => {
  it('verifies once, then serves from the cache until the TTL ends', async () => {
    const clock = new ManualClock();
    const c = new BasicAuthCache<{ u: string }>(clock, { ttlMs: 30_000 });
    const stored = await hash('s3cret-pass', { memoryCost: 1024, timeCost: 1 });
    let calls = 0;
    const v = async (pw: string) => {
      calls++;
      return (await verify(stored, pw)) ? { u: 'alice' } : null;
    };
    expect(await c.resolve('alice', 's3cret-pass', () => v('s3cret-pass'))).toEqual({ u: 'alice' });
    expect(await c.resolve('alice', 's3cret-pass', () => v('s3cret-pass'))).toEqual({ u: 'alice' });
    expect(calls).toBe(1);
    clock.advance(30_000);
    expect(c.get('alice', 's3cret-pass')).toBeNull();
    await c.resolve('alice', 's3cret-pass', () => v('s3cret-pass'));
    expect(calls).toBe(2);
  });

  it('never caches a failure, and a wrong password never hits a right one', async () => {
    const c = new BasicAuthCache<string>(new ManualClock());
    let calls = 0;
    await c.resolve('alice', 'right', async () => 'alice');
    expect(
      await c.resolve('alice', 'wrong', async () => {
        calls++;
        return null;
      }),
    ).toBeNull();
    expect(
      await c.resolve('alice', 'wrong', async () => {
        calls++;
        return null;
      }),
    ).toBeNull();
    expect(calls).toBe(2);
    expect(c.get('alice', 'righ')).toBeNull();
    expect(c.get('alic', 'eright')).toBeNull();
  });

  it('shares one verification between concurrent identical requests', async () => {
    const c = new BasicAuthCache<string>(new ManualClock());
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return 'alice';
    };
    const all = await Promise.all(Array.from({ length: 10 }, () => c.resolve('alice', 'pw', slow)));
    expect(all.every((p) => p === 'alice')).toBe(true);
    expect(calls).toBe(1);
  });

  it('invalidate drops the user, including a verification already in flight', async () => {
    const c = new BasicAuthCache<string>(new ManualClock());
    await c.resolve('alice', 'old', async () => 'alice');
    await c.resolve('bob', 'pw', async () => 'bob');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const pending = c.resolve('alice', 'other', async () => {
      await gate;
      return 'alice';
    });
    c.invalidate('alice');
    release();
    await pending;
    expect(c.get('alice', 'old')).toBeNull();
    expect(c.get('alice', 'other')).toBeNull();
    expect(c.get('bob', 'pw')).toBe('bob');
    c.clear();
    expect(c.get('bob', 'pw')).toBeNull();
  });

  it('stays within maxEntries', async () => {
    const c = new BasicAuthCache<number>(new ManualClock(), { maxEntries: 10 });
    for (let i = 0; i < 50; i++) await c.resolve(`u${i}`, 'pw', async () => i);
    expect(c.size).toBe(10);
    expect(c.get('u49', 'pw')).toBe(49);
  });
});

describe('parseBasic', () => {
  it('parses RFC 7617 credentials; the password may contain colons', () => {
    expect(parseBasic('Basic ' + Buffer.from('alice:pa:ss').toString('base64'))).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(parseBasic('basic ' + Buffer.from('bob:').toString('base64'))).toEqual({ username: 'bob', password: '' });
    expect(parseBasic('Basic ' + Buffer.from('nocolon').toString('base64'))).toBeNull();
    expect(parseBasic('Bearer xyz')).toBeNull();
  });
});
