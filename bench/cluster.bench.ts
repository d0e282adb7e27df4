/**
 * Value propagation between two cluster nodes (PostgreSQL + nats-server, both throw-away and local): the owner of
 * a simulator connection changes N tags 10 times a second; the other node applies them from NATS. Measured from
 * the owner's tag change to the same change on the other node (both nodes in this one process, so one clock; they
 * also share one CPU thread, which makes the figures pessimistic). Baseline: the same change seen by a second
 * listener on the owner itself (the in-process event path). Run: npm run bench -- cluster  (BENCH_RATES=10000,100000)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/main.js';
import { parseProject } from '../src/project/load.js';
import { registerBuiltIns } from '../src/server/built-ins.js';
import { createLogger } from '../src/server/logger.js';
import { startTestNats } from '../test/helpers/nats.js';
import { startTestCluster } from '../test/helpers/postgres.js';
import { waitUntil } from '../test/helpers/wait.js';
import { percentile, report, type Figure } from './lib/report.js';

const RATES = (process.env.BENCH_RATES ?? '10000,100000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);

registerBuiltIns();
process.env.TAGWAY_SECRET_KEY = randomBytes(32).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'tagway-bench-cluster-'));
const [nats, pg] = await Promise.all([startTestNats(), startTestCluster()]);
const figures: Figure[] = [];
try {
  for (const rate of RATES) {
    const tags = Math.max(1, Math.round(rate / 10));
    const yaml = [
      'name: Cluster bench',
      'connections:',
      '  - { name: sim, driver: simulator }',
      '  - { name: other, driver: internal }',
      'tags:',
      ...Array.from(
        { length: tags },
        (_, i) => `  - { name: S${i}, type: UInt32, connection: sim, simulation: { kind: counter, cycleMs: 100, min: 0, max: 100000000 } }`,
      ),
      '  - { name: O, type: Float64, connection: other }',
    ].join('\n');
    const url = await pg.createDatabase('bench_cluster');
    const nodes: RunningServer[] = [];
    for (const id of ['a', 'b']) {
      nodes.push(
        await startServer(
          {
            ...defaultConfig(),
            port: 0,
            host: '127.0.0.1',
            dataDir: join(dir, `${rate}-${id}`),
            databaseUrl: url,
            clusterUrl: nats.url,
            nodeId: `bench-${id}`,
            clusterLeaseMs: 3000,
            webDir: 'none',
            logLevel: 'silent',
            adminPassword: 'bench-admin-password',
          },
          { project: parseProject(yaml, 'bench.yaml'), print: () => undefined, logger: createLogger('silent') },
        ),
      );
    }
    const owner = await waitUntil(
      () => nodes.find((n) => n.runtime.connections.get('sim').owner === `bench-${n === nodes[0] ? 'a' : 'b'}`),
      'an owner for the simulator',
      30_000,
      50,
    );
    const other = nodes.find((n) => n !== owner)!;
    await waitUntil(() => other.runtime.tags.get('S0')!.quality === 0xc0 || undefined, 'values on the other node', 30_000, 50);
    const sent = new Map<string, number>();
    const local: number[] = [];
    const remote: number[] = [];
    let measuring = true;
    const offOwner = owner.runtime.tags.onChange((c) => {
      if (measuring && c.tag.def.connection === 'sim') sent.set(`${c.tag.index}:${c.tag.value}`, performance.now());
    });
    const offLocal = owner.runtime.tags.onChange((c) => {
      const t = sent.get(`${c.tag.index}:${c.tag.value}`);
      if (t !== undefined) local.push(performance.now() - t);
    });
    const offRemote = other.runtime.tags.onChange((c) => {
      const key = `${c.tag.index}:${c.tag.value}`;
      const t = sent.get(key);
      if (t !== undefined) {
        remote.push(performance.now() - t);
        sent.delete(key);
      }
    });
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    measuring = false;
    offOwner();
    offLocal();
    offRemote();
    const achieved = remote.length / SECONDS;
    figures.push(
      { name: `propagation p50 @ ${rate}/s target`, value: percentile(remote, 50), unit: 'ms', ratio: undefined },
      { name: `propagation p99 @ ${rate}/s target`, value: percentile(remote, 99), unit: 'ms' },
      {
        name: `changes received @ ${rate}/s target`,
        value: Math.round(achieved),
        unit: 'changes/s',
        ratio: achieved / rate,
        baseline: 'target rate',
      },
      { name: `changes not seen by the end @ ${rate}/s`, value: sent.size, unit: 'changes' },
      { name: `in-process listener p50 @ ${rate}/s (baseline)`, value: percentile(local, 50), unit: 'ms' },
    );
    for (const n of nodes.reverse()) await n.stop();
  }
} finally {
  await nats.stop();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
report('cluster', figures);
