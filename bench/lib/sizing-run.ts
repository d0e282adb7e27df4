// One configuration of bench/sizing.bench.ts, in its own process so that its memory is its own:
//   tsx bench/lib/sizing-run.ts '{"tags":10000,"rate":10000,"clients":100,"window":100,"historyShare":0,"seconds":5}'
// Starts Tagway with `tags` internal Float64 tags (a share of them logging every change), opens `clients` WebSocket
// clients in a child process (each watching a window of `window` tags), drives `rate` changes/s through the tag
// engine as a driver would, and prints one JSON line: CPU share of one core, RSS, delivered items.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Quality } from '../../src/domain/quality.js';
import { startBenchTagway } from './servers.js';

interface Config {
  tags: number;
  rate: number;
  clients: number;
  window: number;
  historyShare: number;
  seconds: number;
}
const c = JSON.parse(process.argv[2]!) as Config;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const logged = Math.round(c.tags * c.historyShare);
// All clients come from loopback: lift the per-address connection cap (64 by default).
const t = await startBenchTagway(c.tags, { maxConnectionsPerAddress: 10_000 }, (i) =>
  i < logged ? ', history: { mode: onChange, deadband: 0 }' : '',
);
const engine = t.tagway.runtime.tags;
global.gc?.();
const rssIdle = process.memoryUsage().rss;

let child: ReturnType<typeof fork> | undefined;
if (c.clients > 0) {
  const subs = Array.from({ length: c.clients }, (_, k) =>
    Array.from({ length: c.window }, (_, j) => `Bench.T${(k * Math.max(1, Math.floor(c.tags / c.clients)) + j) % c.tags}`),
  );
  child = fork(join(import.meta.dirname, 'push-clients.ts'), [], { execArgv: ['--import', 'tsx'] });
  child.send({
    cmd: 'start',
    url: `${t.url.replace('https:', 'wss:')}/ws`,
    token: t.token,
    ca: t.tagway.certificate,
    subscriptions: subs,
    protocol: 'tagway',
  });
  await new Promise<void>((resolve, reject) => {
    child!.once('message', (m: { cmd: string }) => (m.cmd === 'ready' ? resolve() : reject(new Error(m.cmd))));
    child!.once('exit', (code) => reject(new Error(`clients exited ${code}`)));
  });
}
const rssConnected = process.memoryUsage().rss;

// Warm up for a second, then measure.
const run = async (seconds: number) => {
  const start = now();
  let done = 0;
  let next = 0;
  let rssMax = 0;
  while (now() - start < seconds * 1000) {
    const due = Math.floor(((now() - start) / 1000) * c.rate) - done;
    for (let k = 0; k < due; k++) {
      engine.update(next, now() + k * 1e-6, Quality.GOOD);
      next = (next + 1) % c.tags;
    }
    done += Math.max(0, due);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    await sleep(10);
  }
  return { done, rssMax };
};
await run(1);
if (child) child.send({ cmd: 'measure', since: now(), until: now() + c.seconds * 1000 + 500 });
const cpu0 = process.cpuUsage();
const wall0 = now();
const r = await run(c.seconds);
const used = process.cpuUsage(cpu0);
const wall = now() - wall0;
await sleep(500);
let items = 0;
if (child) {
  const rep = await new Promise<{ items: number }>((resolve) => {
    child!.on('message', (m: { cmd: string; items: number }) => m.cmd === 'report' && resolve(m));
    child!.send({ cmd: 'report' });
  });
  items = rep.items;
  child.kill();
}
console.log(
  'SIZING ' +
    JSON.stringify({
      ...c,
      changesPerSecond: r.done / (wall / 1000),
      cpuShare: (used.user + used.system) / 1000 / wall,
      rssIdleMiB: rssIdle / 2 ** 20,
      rssConnectedMiB: rssConnected / 2 ** 20,
      rssMaxMiB: r.rssMax / 2 ** 20,
      itemsPerSecond: items / c.seconds,
    }),
);
await t.stop();
process.exit(0);
