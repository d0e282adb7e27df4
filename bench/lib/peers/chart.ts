import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

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
const n = data.series.length;
const x = data.groups.map((_, i) => i);
const bars = uPlot.paths.bars({ size: [0.85 / n, 60], align: 0 });
const series = [{ label: 'endpoint' }, ...data.series.map((s, k) => ({
  label: s.name, fill: s.color, stroke: s.color, width: 0, points: { show: false },
  paths: (u, sidx, i0, i1) => { const off = (k - (n - 1) / 2) * (0.85 / n); return bars(u, sidx, i0, i1, off); },
  value: (u, v) => v == null ? '—' : Math.round(v).toLocaleString('en'),
}))];
// uPlot's bars take an offset through a wrapper: shift each series' x by its slot in the group.
const shifted = [x, ...data.series.map((s) => s.values.map((v) => (Number.isFinite(v) ? v : null)))];
new uPlot({
  title: data.title, width: 1100, height: 520,
  scales: { x: { time: false, range: [-0.5, data.groups.length - 0.5] }, y: { distr: 3, log: 10 } },
  axes: [{ values: (u, vals) => vals.map((v) => data.groups[v] ?? ''), splits: () => x, size: 50 },
         { label: data.yLabel, size: 80, values: (u, vals) => vals.map((v) => v >= 1000 ? (v / 1000) + 'k' : String(v)) }],
  legend: { show: true, live: false },
  series,
}, shifted, document.getElementById('c'));
</script></body></html>`,
  );
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
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
