/**
 * The web dashboard in headless Chromium (Debian's, through playwright-core) against a real Tagway over HTTPS:
 * - JavaScript per built chunk, gzipped; the first-paint set (entry + its static imports) against ≤ 250 KB;
 * - first meaningful paint of Tags with the demo plant's 49 tags (navigation start → every visible row has a value);
 * - frame times while 2,000 subscribed tags change 10×/s on the Tags page (requestAnimationFrame deltas, p50/p95),
 *   and the JS heap at start and end of that window;
 * - memory over BENCH_MEMORY_SECONDS (default 120) of the same load: the JS heap after a forced GC every 10 s,
 *   as start, end, max and the least-squares slope in MB/min (flat ≈ 0; a leak shows as a steady positive slope);
 * - a 30-day trend of 1 s data (2.6 M samples of one tag) from navigation to a drawn chart (buckets, not raw).
 * Short by design (the machine is shared): BENCH_FRAME_SECONDS (default 10) sets the frame window.
 * Run: npm run bench -- dashboard
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium.js';
import { openSqliteStorage, sqliteDatabaseForTests } from '../src/storage/sqlite/open-sqlite.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../test/helpers/server.js';
import { percentile, report, type Figure } from './lib/report.js';

const ROOT = join(import.meta.dirname, '..');
const WEB = join(ROOT, 'dist', 'web');
const FRAME_SECONDS = Number(process.env.BENCH_FRAME_SECONDS ?? 10);
const MEMORY_SECONDS = Number(process.env.BENCH_MEMORY_SECONDS ?? 120);
const MEMORY_EVERY_SECONDS = 10;
const figures: Figure[] = [];

// 1. Bundle sizes.
if (spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-web.js')], { stdio: 'inherit' }).status !== 0) process.exit(1);
const html = readFileSync(join(WEB, 'index.html'), 'utf8');
const gz = (f: string) => gzipSync(readFileSync(join(WEB, 'assets', f)), { level: 9 }).length;
const entry = /src="\/assets\/([^"]+\.js)"/.exec(html)![1]!;
// The entry's static imports are what the browser fetches before first paint (lazy pages are dynamic imports).
const firstPaint = new Set([entry]);
for (const f of [...firstPaint])
  for (const m of readFileSync(join(WEB, 'assets', f), 'utf8').matchAll(/from\s*"\.\/([^"]+\.js)"/g)) firstPaint.add(m[1]!);
let firstPaintBytes = 0;
for (const f of readdirSync(join(WEB, 'assets')).filter((x) => x.endsWith('.js'))) {
  const size = gz(f);
  if (firstPaint.has(f)) firstPaintBytes += size;
  figures.push({
    name: `gzip ${f.replace(/-[A-Za-z0-9_-]{8}\.js$/, '.js')}${firstPaint.has(f) ? ' (first paint)' : ''}`,
    value: Math.round(size / 102.4) / 10,
    unit: 'KB',
  });
}
figures.push({ name: 'JS for first paint, gzipped', value: Math.round(firstPaintBytes / 102.4) / 10, unit: 'KB', target: '≤ 250 KB' });

const browser = await launchChromium();
/**
 * The page's JS heap after a full GC (CDP HeapProfiler.collectGarbage, then Performance.getMetrics' JSHeapUsedSize),
 * sampled every 10 s while the Tags page keeps receiving values: what stays reachable, not garbage not yet
 * collected. Reported as start, end, max and the least-squares slope.
 */
async function memoryOverTime(page: Page): Promise<Figure[]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize')!.value / 1e6;
  };
  const samples: Array<{ min: number; mb: number }> = [];
  const t0 = Date.now();
  for (let i = 0; i * MEMORY_EVERY_SECONDS <= MEMORY_SECONDS; i++) {
    const wait = t0 + i * MEMORY_EVERY_SECONDS * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    samples.push({ min: (Date.now() - t0) / 60_000, mb: await heap() });
  }
  // The page must still be receiving values at the end, or a flat heap would say nothing.
  const before = await page.locator('[data-tag="Bench.T0000"]').innerText();
  await page.waitForFunction((b) => document.querySelector('[data-tag="Bench.T0000"]')?.textContent !== b, before);
  await cdp.detach();
  const n = samples.length;
  const mx = samples.reduce((a, s) => a + s.min, 0) / n;
  const my = samples.reduce((a, s) => a + s.mb, 0) / n;
  const slope = samples.reduce((a, s) => a + (s.min - mx) * (s.mb - my), 0) / samples.reduce((a, s) => a + (s.min - mx) ** 2, 0);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const label = `after GC, 2,000 tags × 10/s, ${n} samples over ${MEMORY_SECONDS} s`;
  console.log(`JS heap samples (min → MB): ${samples.map((s) => `${s.min.toFixed(2)}→${s.mb.toFixed(2)}`).join(', ')}`);
  return [
    { name: `JS heap at start (${label})`, value: r1(samples[0]!.mb), unit: 'MB' },
    { name: `JS heap at end (${label})`, value: r1(samples[n - 1]!.mb), unit: 'MB' },
    { name: `JS heap max (${label})`, value: r1(Math.max(...samples.map((s) => s.mb))), unit: 'MB' },
    { name: `JS heap slope (${label})`, value: Math.round(slope * 100) / 100, unit: 'MB/min', target: 'flat (≈ 0)' },
  ];
}

async function signedIn(s: TestServer): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: s.url, ignoreHTTPSErrors: true, viewport: { width: 1920, height: 1080 } });
  const page = await ctx.newPage();
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  return page;
}

try {
  // 2. First meaningful paint of Tags, demo plant.
  const demo = await startTestServer({ projectFile: join(ROOT, 'projects', 'demo.yaml') });
  try {
    const page = await signedIn(demo);
    const tags = (await demo.request('GET', '/tags', { token: await demo.login() })).json.total as number;
    const paints: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto('/app/tags');
      await page.waitForFunction(() => {
        const cells = [...document.querySelectorAll('[data-tag]')];
        return cells.length > 0 && cells.every((c) => !c.textContent!.startsWith('…'));
      });
      paints.push(await page.evaluate(() => performance.now()));
    }
    figures.push({
      name: `first meaningful paint of Tags (${tags} tags), median of 5`,
      value: Math.round(percentile(paints, 50)),
      unit: 'ms',
      target: '≤ 1000 ms',
    });
  } finally {
    await demo.stop();
  }

  // 3 + 4. 2,000 tags changing 10×/s; a 30-day trend of 1 s data.
  const dataDir = mkdtempSync(join(tmpdir(), 'tagway-bench-dashboard-'));
  const now = Date.now();
  const DAY = 86_400_000;
  const storage = openSqliteStorage({ dataDir, sqliteSynchronous: 'NORMAL' });
  const db = sqliteDatabaseForTests(storage);
  db.prepare("INSERT INTO history_tags (id, name) VALUES (1, 'Bench.Trend')").run();
  db.exec(`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ${30 * 86_400 - 1})
    INSERT INTO history (tag_id, ts, value, quality) SELECT 1, ${now - 30 * DAY} + x * 1000, 50 + 40 * sin(x / 3600.0), 192 FROM c`);
  // Rows written with SQL have no roll-ups: summarise them, as the historian's writes would have.
  storage.history.store.rebuildRollups();
  await storage.close();
  const tagLines = Array.from(
    { length: 2000 },
    (_, i) =>
      `  - { name: Bench.T${String(i).padStart(4, '0')}, type: Float64, connection: sim, simulation: { kind: sine, cycleMs: 100, periodMs: ${5000 + i}, min: 0, max: 100 } }`,
  );
  const yaml = `name: Bench\nconnections:\n  - { name: sim, driver: simulator }\n  - { name: internal, driver: internal }\ntags:\n${tagLines.join('\n')}\n  - { name: Bench.Trend, type: Float64, connection: internal, history: { mode: onChange }, initial: 50 }\n`;
  // An aggregate reads every raw sample of the range: 2.6 M is over the default --max-history-samples (1 M).
  const big = await startTestServer({ projectYaml: yaml, dataDir, config: { maxHistorySamples: 3_000_000 } });
  try {
    const page = await signedIn(big);
    await page.goto('/app/tags');
    await page.locator('[data-tag="Bench.T0000"]').waitFor();
    const heapStart = await page.evaluate(
      () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
    );
    // A string, not a function: tsx would wrap a named arrow function in a helper the page does not have.
    const frames = (await page.evaluate(`new Promise((resolve) => {
      const out = [];
      let last = performance.now();
      const end = last + ${FRAME_SECONDS * 1000};
      function step(t) {
        out.push(t - last);
        last = t;
        if (t < end) requestAnimationFrame(step);
        else resolve(out);
      }
      requestAnimationFrame(step);
    })`)) as number[];
    const heapEnd = await page.evaluate(
      () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
    );
    figures.push({ name: `frame time p50, 2,000 tags × 10/s (${FRAME_SECONDS} s)`, value: percentile(frames, 50), unit: 'ms' });
    figures.push({
      name: `frame time p95, 2,000 tags × 10/s (${FRAME_SECONDS} s)`,
      value: percentile(frames, 95),
      unit: 'ms',
      target: '≤ 50 ms',
    });
    figures.push({ name: 'JS heap at start of the window', value: Math.round(heapStart / 1e5) / 10, unit: 'MB' });
    figures.push({ name: 'JS heap at end of the window', value: Math.round(heapEnd / 1e5) / 10, unit: 'MB' });
    if (MEMORY_SECONDS > 0) figures.push(...(await memoryOverTime(page)));

    const renders: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`/app/trends?tags=Bench.Trend&range=${30 * DAY}`);
      await page.locator('.trend-box canvas, figcaption[role=alert]').first().waitFor({ timeout: 60_000 });
      const refused = await page.locator('figcaption[role=alert]').count();
      if (refused) throw new Error(`the trend was refused: ${await page.locator('figcaption[role=alert]').innerText()}`);
      await page.waitForFunction(() => document.querySelector('.u-legend') !== null);
      renders.push(await page.evaluate(() => performance.now()));
    }
    figures.push({
      name: '30-day trend of 1 s data (2.6 M samples), navigation → chart, median of 3',
      value: Math.round(percentile(renders, 50)),
      unit: 'ms',
      target: '≤ 1000 ms',
    });
  } finally {
    await big.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
} finally {
  await browser.close();
}
// The machine is shared: the load average belongs beside every figure.
console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
report('dashboard', figures);
