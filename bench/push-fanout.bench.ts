// Fan-out of 10,000 tag changes/s to 100 WebSocket clients, each subscribed to 1,000 tags: delivered value
// items and messages per second, p50/p99 change-to-client latency, server RSS. Two subscription layouts:
//   spread — client i watches a window of 1,000 of the 10,000 tags (each tag has 10 watchers), changes hit all
//            tags: every change goes to 10 clients (100,000 items/s offered).
//   hot    — every client watches the same 1,000 tags and every change hits them: each change goes to all
//            100 clients (1,000,000 items/s offered; the hub coalesces whatever the clients cannot take).
// Baseline, same run: a bare `ws` server over the same TLS certificate that, on the same ticks, builds one
// message from the tick's changes and sends that same pre-serialised text to every client that watches any of
// them — raw sends with the same message count and size, without the hub (no per-client batching, deadband,
// permissions, coalescing or backpressure).
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { report, type Figure } from './lib/report.js';
import { startBenchTagway } from './lib/servers.js';
import { ensureTls } from '../src/server/tls.js';
import { Quality } from '../src/domain/quality.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TAGS = 10_000;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const PER_CLIENT = 1_000;
const RATE = Number(process.env.BENCH_RATE ?? 10_000); // changes per second
const TICK_MS = 10; // a driver delivers its changes in batches, as a poll cycle does

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ClientReport {
  items: number;
  messages: number;
  p50: number;
  p99: number;
  max: number;
}

function startClients(
  url: string,
  token: string,
  ca: string,
  subscriptions: string[][],
  protocol: 'tagway' | 'raw',
): Promise<ChildProcess> {
  const child = fork(join(import.meta.dirname, 'lib', 'push-clients.ts'), [], { execArgv: ['--import', 'tsx'] });
  child.send({ cmd: 'start', url, token, ca, subscriptions, protocol });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { cmd: string }) => (m.cmd === 'ready' ? resolve(child) : reject(new Error(String(m.cmd)))));
    child.once('exit', (code) => reject(new Error(`clients exited ${code}`)));
  });
}

/** Runs `change(k)` for RATE changes/s in ticks for SECONDS; samples RSS; returns the client report. */
async function drive(
  child: ChildProcess,
  change: (count: number, value: number) => void,
): Promise<ClientReport & { rssMax: number; changes: number }> {
  const start = now();
  // Counted: changes made during the run and read by the clients before its end (+ 500 ms for the last tick).
  child.send({ cmd: 'measure', since: start, until: start + SECONDS * 1000 + 500 });
  let done = 0;
  let rssMax = process.memoryUsage().rss;
  while (now() - start < SECONDS * 1000) {
    const due = Math.floor(((now() - start) / 1000) * RATE) - done;
    if (due > 0) {
      change(due, now());
      done += due;
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    if (process.env.BENCH_DEBUG && Math.floor((now() - start) / 500) !== Math.floor((now() - start - TICK_MS) / 500))
      console.log(debugLine());
    await sleep(TICK_MS);
  }
  await sleep(500); // let the last ticks arrive
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  const rep = await new Promise<ClientReport>((resolve) => {
    child.on('message', (m: { cmd: string } & ClientReport) => {
      if (m.cmd === 'report') resolve(m);
    });
    child.send({ cmd: 'report' });
  });
  return { ...rep, rssMax, changes: done };
}

let debugLine = () => '';

function layout(kind: 'spread' | 'hot'): string[][] {
  return Array.from({ length: CLIENTS }, (_, c) =>
    Array.from({ length: PER_CLIENT }, (_, j) => {
      const idx = kind === 'hot' ? j : (c * (TAGS / CLIENTS) + j) % TAGS;
      return `Bench.T${idx}`;
    }),
  );
}

const t = await startBenchTagway(TAGS);
const engine = t.tagway.runtime.tags;
const ca = t.tagway.certificate!;
const wsUrl = `${t.url.replace('https:', 'wss:')}/ws`;
const figures: Figure[] = [];
const rssIdle = process.memoryUsage().rss;

// Baseline server: bare ws over the same certificate.
const tls = await ensureTls(t.dataDir);
const https = createServer({ cert: tls.cert, key: tls.key });
const wss = new WebSocketServer({ server: https, perMessageDeflate: false });
const rawClients: Array<import('ws').WebSocket | undefined> = [];
wss.on('connection', (ws) => {
  ws.once('message', (d) => {
    const [i, n] = String(d).split(':').map(Number) as [number, number];
    rawClients[i] = ws;
    // The "snapshot": as many value objects as the client subscribed to, so the client's handshake matches.
    const items = Array.from({ length: n }, (_, i) => engine.valueJson(engine.tags[i]!)).join(',');
    ws.send(`{"type":"values","id":"raw","items":[${items}]}`);
  });
});
await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
const rawUrl = `wss://127.0.0.1:${(https.address() as import('node:net').AddressInfo).port}`;

for (const kind of ['spread', 'hot'] as const) {
  const subs = layout(kind);
  const span = kind === 'hot' ? PER_CLIENT : TAGS;
  // --- Tagway hub ---
  const hub = t.tagway.engines.push.hub;
  const before = { ...hub.stats };
  const child = await startClients(wsUrl, t.token, ca, subs, 'tagway');
  debugLine = () => JSON.stringify(hub.currentStats());
  let next = 0;
  const r = await drive(child, (count, value) => {
    for (let i = 0; i < count; i++) {
      engine.update(next, value, Quality.GOOD);
      next = (next + 1) % span;
    }
  });
  const stats = hub.currentStats();
  const sentItems = stats.valueItems - before.valueItems;
  // --- Baseline: the same ticks, one pre-built message per tick to every client ---
  debugLine = () => '';
  const rawChild = await startClients(rawUrl, t.token, ca, subs, 'raw');
  // Which clients watch tag i (spread: windows of PER_CLIENT starting every TAGS/CLIENTS tags).
  const watches = (c: number, i: number) => kind === 'hot' || (i - c * (TAGS / CLIENTS) + TAGS) % TAGS < PER_CLIENT;
  let rawNext = 0;
  const rb = await drive(rawChild, (count, value) => {
    const first = rawNext;
    let body = '';
    const ts = new Date(value).toISOString();
    for (let k = 0; k < count; k++) {
      body +=
        (k ? ',' : '') +
        `{"name":"Bench.T${rawNext}","value":${value},"quality":"GOOD","qualityCode":192,"subStatus":"NON_SPECIFIC","timestamp":"${ts}"}`;
      rawNext = (rawNext + 1) % span;
    }
    const last = (rawNext - 1 + span) % span;
    const msg = `{"type":"values","id":"raw","items":[${body}]}`;
    for (let c = 0; c < rawClients.length; c++) if (watches(c, first) || watches(c, last)) rawClients[c]!.send(msg);
  });
  for (const ws of rawClients.splice(0)) ws?.terminate();
  const offered = (r.changes * (kind === 'hot' ? CLIENTS : (CLIENTS * PER_CLIENT) / TAGS)) / SECONDS;
  figures.push(
    { name: `${kind}: changes applied`, value: r.changes / SECONDS, unit: 'changes/s', target: `${RATE}` },
    { name: `${kind}: value items offered (changes × watchers)`, value: offered, unit: 'items/s' },
    {
      name: `${kind}: value items delivered`,
      value: r.items / SECONDS,
      unit: 'items/s',
      ratio: r.items / Math.max(1, rb.items),
      baseline: 'raw ws sends',
    },
    { name: `${kind}: values messages delivered`, value: r.messages / SECONDS, unit: 'msg/s' },
    { name: `${kind}: hub items written to sockets`, value: sentItems / SECONDS, unit: 'items/s' },
    { name: `${kind}: p50 change-to-client latency`, value: r.p50, unit: 'ms' },
    { name: `${kind}: p99 change-to-client latency`, value: r.p99, unit: 'ms', ratio: r.p99 / rb.p99, baseline: 'raw ws sends' },
    { name: `${kind}: server RSS max`, value: r.rssMax / 2 ** 20, unit: 'MiB' },
    { name: `${kind}: baseline raw items delivered`, value: rb.items / SECONDS, unit: 'items/s' },
    { name: `${kind}: baseline p99 latency`, value: rb.p99, unit: 'ms' },
    { name: `${kind}: baseline server RSS max`, value: rb.rssMax / 2 ** 20, unit: 'MiB' },
  );
}
figures.push({ name: 'server RSS before clients', value: rssIdle / 2 ** 20, unit: 'MiB' });
report(`push fan-out: ${RATE} changes/s to ${CLIENTS} WebSocket clients × ${PER_CLIENT} tags`, figures);
wss.close();
https.close();
await t.stop();
process.exit(0);
