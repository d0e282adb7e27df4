/**
 * The lease table on a real PostgreSQL: one holder at a time, fencing tokens that grow with every acquisition,
 * renewal only with the current token, expiry by the database's clock, and a clean leave freeing everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/storage/postgres/open-postgres.js';
import { PgClusterRepository } from '../../../src/storage/postgres/pg-cluster-repository.js';
import { startTestCluster, type TestCluster } from '../../helpers/postgres.js';
import { waitUntil } from '../../helpers/wait.js';

let pg: TestCluster | undefined;
let repo: PgClusterRepository;

beforeAll(async () => {
  pg = await startTestCluster();
  repo = new PgClusterRepository(createPool(await pg.createDatabase('tagway_leases'), 3));
  // Nodes starting together create the tables once.
  await Promise.all([repo.init(), repo.init(), repo.init()]);
}, 60_000);

afterAll(async () => {
  await repo?.close();
  await pg?.stop();
});

describe('PgClusterRepository', () => {
  it('gives a lease to one node at a time, with a growing fencing token', async () => {
    await repo.ensure(['plc1', 'plc2']);
    await repo.ensure(['plc1']); // idempotent
    const [a, b] = await Promise.all([repo.acquire('plc1', 'node-a', 60_000), repo.acquire('plc1', 'node-b', 60_000)]);
    expect([a, b].filter((t) => t !== undefined)).toEqual([1]);
    const holder = a !== undefined ? 'node-a' : 'node-b';
    const other = holder === 'node-a' ? 'node-b' : 'node-a';
    // Only the holder with the current token renews.
    expect(await repo.renew(holder, [{ connection: 'plc1', token: 1 }], 60_000)).toEqual(['plc1']);
    expect(await repo.renew(other, [{ connection: 'plc1', token: 1 }], 60_000)).toEqual([]);
    expect(await repo.renew(holder, [{ connection: 'plc1', token: 0 }], 60_000)).toEqual([]);
    const leases = await repo.leases();
    expect(leases.find((l) => l.connection === 'plc1')).toMatchObject({ holder, token: 1 });
    expect(leases.find((l) => l.connection === 'plc1')!.remainingMs).toBeGreaterThan(0);
    expect(leases.find((l) => l.connection === 'plc2')).toMatchObject({ holder: null, token: 0 });
  });

  it('lets another node take an expired lease with a higher token; the old holder can no longer renew', async () => {
    await repo.ensure(['plc3']);
    expect(await repo.acquire('plc3', 'node-a', 200)).toBe(1);
    expect(await repo.acquire('plc3', 'node-b', 200)).toBeUndefined();
    const token = await waitUntil(async () => repo.acquire('plc3', 'node-b', 60_000), 'the lease to expire', 5000, 50);
    expect(token).toBe(2);
    expect(await repo.renew('node-a', [{ connection: 'plc3', token: 1 }], 60_000)).toEqual([]);
  });

  it('frees a released lease and every lease of a node that leaves, and reports nodes by heartbeat', async () => {
    await repo.ensure(['plc4', 'plc5']);
    const t4 = (await repo.acquire('plc4', 'node-c', 60_000))!;
    await repo.acquire('plc5', 'node-c', 60_000);
    await repo.release('plc4', 'node-c', t4 - 1); // a stale token releases nothing
    expect((await repo.leases()).find((l) => l.connection === 'plc4')!.holder).toBe('node-c');
    await repo.release('plc4', 'node-c', t4);
    expect((await repo.leases()).find((l) => l.connection === 'plc4')!.holder).toBeNull();
    await repo.heartbeat({ id: 'node-c', address: 'https://10.0.0.13:8443', state: 'up' });
    expect((await repo.nodes()).find((n) => n.id === 'node-c')).toMatchObject({ state: 'up', address: 'https://10.0.0.13:8443' });
    await repo.leave('node-c');
    expect((await repo.leases()).filter((l) => l.holder === 'node-c')).toEqual([]);
    expect((await repo.nodes()).find((n) => n.id === 'node-c')!.state).toBe('left');
  });
});
