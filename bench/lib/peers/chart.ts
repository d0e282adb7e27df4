import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../../../test/helpers/chromium.js';

export interface ChartData {
  title: string;
  /** One group per endpoint. */
  groups: string[];
  /** One bar series per product: its value in each group (NaN: not measured). */
  series: Array<{ name: string; color: string; values: number[] }>;
  yLabel: string;
}

/**
 * Renders a grouped bar chart to PNG with uPlot (the dashboard's charting library) in headless Chromium: the
 * figure in docs/performance.md is drawn from the measured data by a plotting library, never by hand.
 */
export async function renderBarChart(data: ChartData, pngFile: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'tagway-chart-'));
  const page = join(dir, 'chart.html');
  writeFileSync(
    page,
    `<!doctype html><html><head><meta charset="utf-8"><style>${uplotCss} body{margin:0;background:#fff;font:14px sans-serif}</style></head>
<body><div id="c"></div><script>${uplotJs}</script><script>
const data = ${JSON.stringify(data)};
// Grouped bars on one shared x scale: each group has one slot per series and one empty slot between groups.
const n = data.series.length;
const slots = data.groups.length * (n + 1);
const x = Array.from({ length: slots }, (_, i) => i);
const centres = data.groups.map((_, g) => g * (n + 1) + (n - 1) / 2);
const columns = data.series.map((s, k) => x.map((i) => (i % (n + 1) === k && Number.isFinite(s.values[Math.floor(i / (n + 1))]) ? s.values[Math.floor(i / (n + 1))] : null)));
const bars = uPlot.paths.bars({ size: [0.9, 40] });
new uPlot({
  title: data.title, width: 1100, height: 520,
  scales: { x: { time: false, range: [-1, slots - 1] }, y: { distr: 3, log: 10, range: (u, min, max) => [Math.max(1, 10 ** Math.floor(Math.log10(min))), 10 ** Math.ceil(Math.log10(max))] } },
  axes: [
    { splits: () => centres, values: (u, vals) => vals.map((v) => data.groups[centres.indexOf(v)] ?? ''), size: 50 },
    { label: data.yLabel, size: 80, values: (u, vals) => vals.map((v) => (v == null ? '' : v >= 1000 ? v / 1000 + 'k' : String(v))) },
  ],
  legend: { show: true, live: false },
  series: [{ label: 'endpoint' }, ...data.series.map((s) => ({ label: s.name, fill: s.color, stroke: s.color, width: 0, points: { show: false }, paths: bars }))],
}, [x, ...columns], document.getElementById('c'));
</script></body></html>`,
  );
  const browser = await launchChromium();
  try {
    const p = await browser.newPage({ viewport: { width: 1120, height: 620 } });
    await p.goto('file://' + page);
    await p.waitForSelector('.uplot canvas');
    await (await p.$('#c'))!.screenshot({ path: pngFile });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
