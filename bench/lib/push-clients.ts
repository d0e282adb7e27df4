// Child process of bench/push-fanout.bench.ts: opens the WebSocket clients, so that their JSON parsing does not
// run in (and their memory does not count for) the server process. Latency is measured from the value itself:
// the driver writes the wall-clock time of the change (ms, fractional) as the tag value.
import { WebSocket } from 'ws';

interface Start {
  url: string;
  token: string;
  ca: string;
  subscriptions: string[][];
  protocol: 'tagway' | 'raw';
}

const BUCKET_MS = 0.05;
const hist = new Uint32Array(200_000); // 0–10 s in 50 µs buckets
let items = 0;
let messages = 0;
let measuring = false;
let since = 0;
let until = Infinity;
const now = () => performance.timeOrigin + performance.now();

function onMessage(data: Buffer): void {
  const m = JSON.parse(data.toString()) as { type: string; items?: Array<{ value: number }> };
  if (m.type !== 'values' || !measuring) return;
  const t = now();
  // What a client reads after the window was queued during it: counting it would credit unbounded queues.
  if (t > until) return;
  messages++;
  for (const it of m.items!) {
    if (typeof it.value !== 'number' || it.value < since) continue; // the initial snapshot is not a change
    items++;
    const b = Math.min(hist.length - 1, Math.max(0, Math.floor((t - it.value) / BUCKET_MS)));
    hist[b]!++;
  }
}

function percentile(p: number): number {
  let total = 0;
  for (const c of hist) total += c;
  const want = Math.ceil((p / 100) * total);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= want && want > 0) return (i + 1) * BUCKET_MS;
  }
  return NaN;
}

process.on('message', async (msg: { cmd: string } & Partial<Start>) => {
  if (msg.cmd === 'start') {
    const s = msg as Start;
    const sockets: WebSocket[] = [];
    await Promise.all(
      s.subscriptions.map(async (tags, i) => {
        const ws = new WebSocket(s.url, { ca: s.ca, headers: { authorization: `Bearer ${s.token}` }, perMessageDeflate: false });
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        let snapshotItems = 0;
        await new Promise<void>((resolve) => {
          ws.on('message', (d: Buffer) => {
            if (snapshotItems >= tags.length) {
              onMessage(d);
              return;
            }
            const m = JSON.parse(d.toString()) as { type: string; items?: unknown[] };
            if (m.type === 'values') snapshotItems += m.items!.length;
            if (snapshotItems >= tags.length) resolve();
          });
          if (s.protocol === 'tagway') ws.send(JSON.stringify({ type: 'subscribe', id: `c${i}`, tags }));
          else ws.send(`${i}:${tags.length}`);
        });
      }),
    );
    process.send!({ cmd: 'ready' });
    process.on('message', (m: { cmd: string; since?: number; until?: number }) => {
      if (m.cmd === 'measure') {
        since = m.since!;
        until = m.until!;
        measuring = true;
      }
      if (m.cmd === 'report') {
        measuring = false;
        process.send!({ cmd: 'report', items, messages, p50: percentile(50), p99: percentile(99), max: percentile(100) });
        for (const ws of sockets) ws.terminate();
        setTimeout(() => process.exit(0), 100);
      }
    });
  }
});
