// `npm run bench -- sizing`: the sizing model of docs/performance.md. Runs Tagway at several sizes (tags, change
// rate, WebSocket clients, history share), each in its own process (bench/lib/sizing-run.ts), and fits by least
// squares:
//   CPU (share of one core) = base + a·changes/s + b·value items delivered/s + c·history samples/s
//   memory (RSS, MiB)       = base + d·tags + e·clients
// then writes the coefficients and a worked example into docs/performance.md (between the sizing markers).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { report, type Figure } from './lib/report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
interface Run {
  tags: number;
  rate: number;
  clients: number;
  window: number;
  historyShare: number;
}
interface Result extends Run {
  changesPerSecond: number;
  cpuShare: number;
  rssConnectedMiB: number;
  itemsPerSecond: number;
}
const runs: Run[] = [
  { tags: 1_000, rate: 1_000, clients: 0, window: 0, historyShare: 0 },
  { tags: 10_000, rate: 1_000, clients: 0, window: 0, historyShare: 0 },
  { tags: 100_000, rate: 1_000, clients: 0, window: 0, historyShare: 0 },
  { tags: 10_000, rate: 10_000, clients: 0, window: 0, historyShare: 0 },
  { tags: 10_000, rate: 20_000, clients: 0, window: 0, historyShare: 0 },
  { tags: 10_000, rate: 10_000, clients: 10, window: 100, historyShare: 0 },
  { tags: 10_000, rate: 10_000, clients: 100, window: 1_000, historyShare: 0 },
  { tags: 10_000, rate: 10_000, clients: 300, window: 300, historyShare: 0 },
  { tags: 10_000, rate: 5_000, clients: 0, window: 0, historyShare: 0.5 },
  { tags: 10_000, rate: 10_000, clients: 0, window: 0, historyShare: 1 },
];

const results: Result[] = [];
for (const r of runs) {
  const p = spawnSync('npx', ['tsx', join(import.meta.dirname, 'lib', 'sizing-run.ts'), JSON.stringify({ ...r, seconds: SECONDS })], {
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  const line = p.stdout.split('\n').find((l) => l.startsWith('SIZING '));
  if (!line) throw new Error(`sizing run ${JSON.stringify(r)} failed:\n${p.stdout}\n${p.stderr}`);
  const res = JSON.parse(line.slice(7)) as Result;
  results.push(res);
  console.log(
    `${r.tags} tags, ${r.rate}/s, ${r.clients} clients × ${r.window}, history ${r.historyShare}: CPU ${(res.cpuShare * 100).toFixed(1)} %, RSS ${res.rssConnectedMiB.toFixed(0)} MiB, ${Math.round(res.itemsPerSecond)} items/s`,
  );
}

/** Least squares: the coefficients x minimising |A·x − y| (normal equations, Gaussian elimination). */
function fit(rows: number[][], y: number[]): number[] {
  const n = rows[0]!.length;
  const m = Array.from({ length: n }, (_, i) => [
    ...Array.from({ length: n }, (_, j) => rows.reduce((s, r) => s + r[i]! * r[j]!, 0)),
    rows.reduce((s, r, k) => s + r[i]! * y[k]!, 0),
  ]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let k = col; k <= n; k++) m[r]![k]! -= f * m[col]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

const hist = (r: Result) => r.changesPerSecond * r.historyShare;
const [cpuBase, perChange, perItem, perSample] = fit(
  results.map((r) => [1, r.changesPerSecond, r.itemsPerSecond, hist(r)]),
  results.map((r) => r.cpuShare),
) as [number, number, number, number];
const [memBase, perTag, perClient] = fit(
  results.map((r) => [1, r.tags, r.clients]),
  results.map((r) => r.rssConnectedMiB),
) as [number, number, number];
const us = (share: number) => share * 1e6;

const figures: Figure[] = [
  { name: 'CPU base (idle, timers)', value: cpuBase * 100, unit: '% of one core' },
  { name: 'CPU per tag change', value: us(perChange), unit: 'µs' },
  { name: 'CPU per value item delivered to a WebSocket client', value: us(perItem), unit: 'µs' },
  { name: 'CPU per history sample', value: us(perSample), unit: 'µs' },
  { name: 'memory base', value: memBase, unit: 'MiB' },
  { name: 'memory per tag', value: perTag * 1024, unit: 'KiB' },
  { name: 'memory per WebSocket client', value: perClient * 1024, unit: 'KiB' },
];
for (const r of results) {
  const predicted = cpuBase + perChange * r.changesPerSecond + perItem * r.itemsPerSecond + perSample * hist(r);
  figures.push({
    name: `fit check: ${r.tags} tags ${r.rate}/s ${r.clients}×${r.window} hist ${r.historyShare}`,
    value: r.cpuShare * 100,
    unit: '% CPU measured',
    ratio: predicted / r.cpuShare,
    baseline: 'model / measured',
  });
}
report(`sizing model (${results.length} runs of ${SECONDS} s)`, figures);

// A worked example and the single-node limit, written into docs/performance.md.
const site = { tags: 20_000, changes: 5_000, items: 50_000, samples: 2_000, clients: 200 };
const siteCpu = cpuBase + perChange * site.changes + perItem * site.items + perSample * site.samples;
const siteMem = memBase + perTag * site.tags + perClient * site.clients;
const maxChanges = (0.7 - cpuBase) / (perChange + perSample * 0.2 + perItem * 2);
const fmt = (v: number, d = 1) => v.toLocaleString('en', { maximumFractionDigits: d });
const lines = [
  `Fitted ${new Date().toISOString().slice(0, 10)} from ${results.length} runs of ${SECONDS} s on ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'} (\`npm run bench -- sizing\`):`,
  '',
  '| resource | model |',
  '|---|---|',
  `| CPU (share of one core) | ${fmt(cpuBase * 100, 2)} % + ${fmt(us(perChange), 2)} µs × changes/s + ${fmt(us(perItem), 2)} µs × items delivered/s + ${fmt(us(perSample), 2)} µs × history samples/s |`,
  `| memory (RSS) | ${fmt(memBase, 0)} MiB + ${fmt(perTag * 1024, 2)} KiB × tags + ${fmt(perClient * 1024, 1)} KiB × WebSocket clients |`,
  '',
  '"Items delivered" is changes × the clients that watch each changed tag (the push hub coalesces what a slow client',
  "cannot take, so it is an upper bound). A history sample is a change that the tag's logging rule keeps. Changes are",
  'injected into the tag engine as a driver delivers them: the protocol work of a real driver comes on top (see',
  "`npm run bench -- modbus-poll` and `-- opcua-monitored`). The memory base is measured under the benchmark's",
  'TypeScript loader; `npm start` runs the compiled JavaScript and starts smaller.',
  '',
  `**Example**: ${fmt(site.tags, 0)} tags, ${fmt(site.changes, 0)} changes/s, ${fmt(site.clients, 0)} dashboard clients receiving ${fmt(site.items, 0)} items/s in`,
  `all, ${fmt(site.samples, 0)} history samples/s: CPU ≈ ${fmt(siteCpu * 100, 0)} % of one core, memory ≈ ${fmt(siteMem, 0)} MiB. HTTP requests add the`,
  'CPU per request of the table above (e.g. a dashboard polling 10 tags once a second per client costs far less than its push).',
  '',
  `**When one node is not enough**: keeping a node below 70 % of one core (Node runs the engine on one thread), with`,
  `each change watched by 2 clients and 20 % of changes logged, one node carries about ${fmt(maxChanges, 0)} changes/s. Beyond`,
  "that, and in practice long before it (drivers, HTTP clients and SQLite's single writer share the node), or when the",
  'site needs a node to fail without losing service, or history beyond one disk, move to',
  'PostgreSQL and a cluster of nodes (docs/postgresql.md, docs/scaling.md when present).',
];
const docFile = join(import.meta.dirname, '..', 'docs', 'performance.md');
const doc = readFileSync(docFile, 'utf8');
const begin = '<!-- sizing:begin (written by npm run bench -- sizing) -->';
const end = '<!-- sizing:end -->';
const i = doc.indexOf(begin);
const j = doc.indexOf(end);
if (i < 0 || j < i) throw new Error(`docs/performance.md lacks the markers ${begin} … ${end}`);
writeFileSync(docFile, doc.slice(0, i + begin.length) + '\n' + lines.join('\n') + '\n' + doc.slice(j));
console.log('Wrote the sizing model into docs/performance.md');
