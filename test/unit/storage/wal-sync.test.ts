import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toTagwayError } from '../../../src/adapters/http/rest/problem.js';
import { isStorageFault } from '../../../src/runtime/storage-health.js';
import { GroupCommit } from '../../../src/runtime/group-commit.js';
import { openSqliteStorage } from '../../../src/storage/sqlite/open-sqlite.js';
import { WalNotDurableError, WalSync } from '../../../src/storage/sqlite/wal-sync.js';

/**
 * A failing disk cannot be made here without root (device-mapper), so the one fake is the sync call itself: each
 * `datasync` of the descriptor waits until the test lets it succeed (a real fdatasync then runs) or fail (with the
 * EIO a failed writeback reports).
 */
function controlledDatasync() {
  const calls: Array<{ fh: FileHandle; succeed: () => void; fail: () => void }> = [];
  const datasync = (fh: FileHandle): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      calls.push({ fh, succeed: () => void fh.datasync().then(resolve, reject), fail: () => reject(eio()) });
    });
  return { calls, datasync };
}

function eio(): NodeJS.ErrnoException {
  return Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
}

/** Lets the thread pool and the promise chains run (the open of the WAL, the settling of syncs). */
async function settle(until: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !until(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(until()).toBe(true);
}

function outcome(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const o: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (o.state = 'resolved'),
    (error: unknown) => Object.assign(o, { state: 'rejected', error }),
  );
  return o;
}

describe('WalSync when a sync of the WAL fails', () => {
  let dir: string;
  let wal: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-walsync-'));
    wal = join(dir, 'tagway.db-wal');
    writeFileSync(wal, 'frames');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects the callers of the failed sync with an error that says to restart, the disk error as its cause', async () => {
    const { calls, datasync } = controlledDatasync();
    const sync = new WalSync(wal, { datasync });
    const a = outcome(sync.sync());
    const b = outcome(sync.sync());
    await settle(() => calls.length === 2);
    calls[0]!.fail();
    await settle(() => a.state !== 'pending');
    expect(a.state).toBe('rejected');
    expect(a.error).toBeInstanceOf(WalNotDurableError);
    expect((a.error as Error).message).toMatch(/could not be made durable.*EIO.*restarted/);
    expect((a.error as Error).cause).toMatchObject({ code: 'EIO' });
    expect(sync.failure).toBe(a.error);
    calls[1]!.succeed();
    await settle(() => b.state !== 'pending');
    await sync.close();
  });

  it('a sync in flight that succeeds after the failure rejects, and so do the queued and every later sync, with no new flush', async () => {
    const { calls, datasync } = controlledDatasync();
    const failures: Error[] = [];
    const sync = new WalSync(wal, { datasync, onFailure: (e) => failures.push(e) });
    const first = outcome(sync.sync());
    const second = outcome(sync.sync());
    // Both slots busy: these two share the next flush.
    const queued = [outcome(sync.sync()), outcome(sync.sync())];
    await settle(() => calls.length === 2);
    expect(calls[0]!.fh).toBe(calls[1]!.fh);
    calls[0]!.fail();
    await settle(() => first.state === 'rejected');
    // The other flush on the same descriptor now reports success (the kernel reported the error once, to the first).
    calls[1]!.succeed();
    await settle(() => second.state !== 'pending' && queued.every((q) => q.state !== 'pending'));
    expect(second.state).toBe('rejected');
    expect(second.error).toBe(first.error);
    for (const q of queued) expect(q).toMatchObject({ state: 'rejected', error: first.error });
    // Later syncs reject at once; none reuses the descriptor or opens a new one.
    await expect(sync.sync()).rejects.toBe(first.error);
    expect(sync.whenSlotFree()).toBeUndefined();
    expect(calls).toHaveLength(2);
    expect(sync.syncs).toBe(0);
    expect(failures).toEqual([first.error]);
    await sync.close();
    // The descriptor was given up (closed), not kept for reuse.
    expect(calls[0]!.fh.fd).toBe(-1);
    await expect(sync.sync()).rejects.toBe(first.error);
  });

  it('a sync that succeeded before the failure stays resolved; close() waits for the flush still running after one failed', async () => {
    const { calls, datasync } = controlledDatasync();
    const sync = new WalSync(wal, { datasync });
    const ok = outcome(sync.sync());
    const bad = outcome(sync.sync());
    await settle(() => calls.length === 2);
    calls[0]!.succeed();
    await settle(() => ok.state !== 'pending');
    expect(ok.state).toBe('resolved');
    const third = outcome(sync.sync());
    await settle(() => calls.length === 3);
    calls[1]!.fail();
    await settle(() => bad.state !== 'pending');
    expect(bad.state).toBe('rejected');
    let closed = false;
    const closing = sync.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    calls[2]!.succeed();
    await closing;
    expect(third).toMatchObject({ state: 'rejected', error: bad.error });
    expect(sync.syncs).toBe(1);
  });
});

describe('SQLite storage after a failed WAL sync', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagway-walfail-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses writes (503 STORAGE_UNAVAILABLE), says why in health, tells once; reads go on, and a restart takes writes again', async () => {
    let failing = false;
    const lost: Error[] = [];
    const storage = openSqliteStorage(
      { dataDir: dir, onDurabilityLost: (e) => lost.push(e) },
      { datasync: (fh) => (failing ? Promise.reject(eio()) : fh.datasync()) },
    );
    const write = (key: string) =>
      storage.transaction((t) => t.keyValues.setMany('internal', [{ key, value: key, at: 1 }]), { deferSync: true });
    await write('before');
    expect(storage.walSync.syncs).toBe(1);
    expect((await storage.health()).status).toBe('ok');

    failing = true;
    // Committed, but its sync failed: not answered as durable.
    const err = await write('during').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalNotDurableError);
    expect(isStorageFault(err)).toBe(true);
    const problem = toTagwayError(err);
    expect([problem.code, problem.status]).toEqual(['STORAGE_UNAVAILABLE', 503]);

    // The disk answers again: the storage still refuses, and commits nothing.
    failing = false;
    await expect(write('after')).rejects.toBe(err);
    await expect(storage.transaction((t) => t.keyValues.setMany('internal', [{ key: 'plain', value: 1, at: 1 }]))).rejects.toBe(err);
    // The ordinary repositories too (their statements meet `query_only`), with the same reason.
    await expect(storage.keyValues.set('internal', 'direct', 1, 1)).rejects.toBe(err);
    await expect(storage.keyValues.delete('internal', 'before')).rejects.toBe(err);
    const group = new GroupCommit(storage);
    await expect(
      group.appendMany([
        {
          at: '2026-12-07T04:00:00.000Z',
          action: 'tag.write',
          user: 'anna',
          clientAddress: '127.0.0.1',
          target: 'A',
          details: null,
          result: 'OK',
        },
      ]),
    ).rejects.toBe(err);
    expect(await storage.keyValues.get('internal', 'after')).toBeUndefined();
    expect(await storage.keyValues.get('internal', 'plain')).toBeUndefined();
    expect(await storage.keyValues.get('internal', 'direct')).toBeUndefined();
    expect((await storage.keyValues.get('internal', 'before'))?.value).toBe('before');
    expect(storage.walSync.syncs).toBe(1);

    const health = await storage.health();
    expect(health.status).toBe('degraded');
    expect(health.reason).toMatch(/write-ahead log could not be made durable.*restarted/);
    // Not only while the fault is recent (an ordinary fault is remembered for 5 s): until the restart.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 60_000);
      expect(await storage.health()).toMatchObject({ status: 'degraded', reason: health.reason });
    } finally {
      vi.useRealTimers();
    }
    expect(lost).toEqual([err]);

    await storage.close();
    // A restart: the clean close checkpointed the WAL into the database file; the new storage takes writes.
    const again = openSqliteStorage({ dataDir: dir });
    try {
      expect((await again.keyValues.get('internal', 'during'))?.value).toBe('during');
      await again.transaction((t) => t.keyValues.setMany('internal', [{ key: 'later', value: 2, at: 2 }]), { deferSync: true });
      expect((await again.health()).status).toBe('ok');
    } finally {
      await again.close();
    }
  });
});
