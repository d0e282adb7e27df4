import { describe, expect, it } from 'vitest';
import { errorSignature, RepeatLimiter } from '../../../src/server/logger.js';
import { isStorageFault, sqliteCheck, StorageHealth } from '../../../src/runtime/storage-health.js';
import { ManualClock } from '../../../src/domain/clock.js';

describe('RepeatLimiter', () => {
  it('admits one line per signature per interval and counts the rest', () => {
    let now = 0;
    const l = new RepeatLimiter(60_000, () => now);
    expect(l.admit('a')).toEqual({ suppressed: 0 });
    for (let i = 0; i < 100; i++) expect(l.admit('a')).toBeUndefined();
    expect(l.admit('b')).toEqual({ suppressed: 0 });
    now = 60_000;
    expect(l.admit('a')).toEqual({ suppressed: 100 });
    expect(l.admit('a')).toBeUndefined();
  });

  it('forgets the oldest signature beyond its bound', () => {
    const l = new RepeatLimiter(60_000, () => 0, 2);
    l.admit('a');
    l.admit('b');
    l.admit('c');
    expect(l.admit('a')).toEqual({ suppressed: 0 });
  });

  it('gives errors that differ only in numbers the same signature', () => {
    const make = (n: number) => Object.assign(new Error(`row ${n} failed`), { code: 'SQLITE_FULL' });
    expect(errorSignature(make(1))).toBe(errorSignature(make(2)));
    expect(errorSignature(new TypeError('x'))).not.toBe(errorSignature(new RangeError('x')));
  });
});

describe('storage faults', () => {
  it('recognises full disks and I/O errors from SQLite and the OS, also as a cause', () => {
    expect(isStorageFault(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toBe(true);
    expect(isStorageFault(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }))).toBe(true);
    expect(isStorageFault(Object.assign(new Error('write'), { code: 'ENOSPC' }))).toBe(true);
    expect(isStorageFault(new Error('flush failed', { cause: new Error('database or disk is full') }))).toBe(true);
    expect(isStorageFault(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBe(false);
    expect(isStorageFault(new Error('boom'))).toBe(false);
    expect(isStorageFault(undefined)).toBe(false);
  });

  it('recognises PostgreSQL’s full disk, lost connections and shutdown, not refusals of the data', () => {
    expect(isStorageFault(Object.assign(new Error('could not extend file'), { code: '53100' }))).toBe(true);
    expect(isStorageFault(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isStorageFault(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isStorageFault(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStorageFault(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isStorageFault(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
  });

  it('reports registered checks, a failing check and a recent fault', async () => {
    const clock = new ManualClock(0);
    const health = new StorageHealth(clock, '.');
    const pragmas: Record<string, number> = { page_count: 10, max_page_count: 1000, freelist_count: 0 };
    health.register(sqliteCheck('database', { pragma: (s: string) => pragmas[s] }, health));
    const remove = health.register(() => ({ name: 'alarm journal', ok: false, reason: 'journal behind' }));
    health.register(() => {
      throw new Error('broken');
    });
    expect((await health.states()).slice(0, 3)).toEqual([
      { name: 'database', ok: true },
      { name: 'alarm journal', ok: false, reason: 'journal behind' },
      { name: 'unknown', ok: false, reason: 'check failed: broken' },
    ]);
    remove();
    health.fault(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    expect((await health.states())[0]).toEqual({
      name: 'database',
      ok: false,
      reason: 'writes fail: SQLITE_FULL: database or disk is full',
    });
    clock.advance(5_000);
    expect((await health.states())[0]).toEqual({ name: 'database', ok: true });
    pragmas.page_count = 1000;
    expect((await health.states())[0]).toMatchObject({ name: 'database', ok: false, reason: expect.stringMatching(/size limit/) });
  });
});
