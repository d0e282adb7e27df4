import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDynamics, FakeSap, FakeWebhook } from '../helpers/fake-erp.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { exportsProject, SECRETS } from '../integration/exports/project.js';
import { buildDashboard, launchChromium } from './browser.js';

/**
 * The Exports page in headless Chromium against a real Tagway over HTTPS whose project has a shift calendar and
 * export reports, delivering to local HTTPS fakes of the ERP targets (the webhook receiver checks the HMAC). With
 * TAGWAY_SCREENSHOTS=1 it also writes desktop and phone screenshots of the page into docs/images/.
 */
const SHOTS = process.env.TAGWAY_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'images') : undefined;

describe('dashboard Exports page (Chromium)', () => {
  const hook = new FakeWebhook(SECRETS.TAGWAY_TEST_HOOK_SECRET);
  const sap = new FakeSap('x', 'y');
  const d365 = new FakeDynamics('x', 'y');
  let s: TestServer;
  let browser: Browser;
  let admin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    buildDashboard();
    await Promise.all([hook.start(), sap.start(), d365.start()]);
    s = await startTestServer({ projectYaml: exportsProject({ webhook: hook.url, sap: sap.url, dynamics: d365.url, ca: hook.caFile }) });
    admin = await s.login();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await Promise.all([hook.stop(), sap.stop(), d365.stop()]);
  });

  async function signedIn(username: string, password: string, phone = false): Promise<Page> {
    const ctx = await browser.newContext({
      baseURL: s.url,
      ignoreHTTPSErrors: true,
      locale: 'en-US',
      // The page's datetime-local inputs are read in the browser's zone: UTC keeps the test's arithmetic plain.
      timezoneId: 'UTC',
      ...(phone
        ? { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
        : { viewport: { width: 1280, height: 900 } }),
    });
    ctx.setDefaultTimeout(10_000);
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto('/');
    await page.getByLabel(/^Username/).fill(username);
    await page.getByLabel(/^Password/).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    return page;
  }

  const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const entryState = (page: Page) => page.getByTestId('entry-state').innerText();

  /** The computed report on the page shows each field's value and flags as the outbox entry's payload holds them. */
  async function expectFieldsAsSent(page: Page, id: number): Promise<void> {
    const payload = (await s.request('GET', `/exports/outbox/${id}`, { token: admin })).json.payload;
    const result = page.getByRole('region', { name: 'Computed report' });
    const names = Object.keys(payload.values);
    expect(names).toEqual(['bottles', 'avgSpeed', 'runSeconds', 'lot', 'stops']);
    for (const field of names) {
      const cells = await result
        .getByRole('row', { name: new RegExp(`^${field}\\b`) })
        .getByRole('cell')
        .allInnerTexts();
      const v = payload.values[field];
      const flags: string[] = payload.flags[field] ?? [];
      expect(cells).toEqual([field, v === null ? '—' : String(v), flags.length ? flags.join(', ') : 'ok']);
    }
  }

  it('runs a report for a range: values with quality flags, the outbox id, and the entry delivered', async () => {
    const page = await signedIn('admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
    const reports = page.getByRole('region', { name: 'Reports' });
    await reports.getByRole('article', { name: 'prod' }).getByText('bottles: delta(Line1.Count)').waitFor();
    await reports.getByRole('article', { name: 'prod' }).getByText('hook (webhook)').waitFor();

    const run = page.getByRole('region', { name: 'Run a report' });
    await run.getByLabel(/^Report/).selectOption('prod');
    await run.getByLabel(/^Period/).selectOption('range');
    const now = Date.now();
    await run.getByLabel(/^From/).fill(local(now - 3_600_000));
    await run.getByLabel(/^To/).fill(local(now + 120_000));
    await run.getByRole('button', { name: 'Run' }).click();
    const result = page.getByRole('region', { name: 'Computed report' });
    const entryButton = result.getByRole('button', { name: /^hook #\d+$/ });
    const id = Number((await entryButton.innerText()).split('#')[1]);
    // Every field is shown with what was sent: its value and its quality flags (the hour before the server started
    // has no samples, which is flagged, never filled in).
    await expectFieldsAsSent(page, id);
    expect(await result.getByRole('row', { name: /^lot/ }).innerText()).toContain('LOT-1');
    await entryButton.click();
    const detail = page.getByRole('region', { name: `Entry #${id}` });
    await expect.poll(() => entryState(page), { timeout: 10_000 }).toBe('delivered');
    await detail.getByRole('table', { name: 'Attempts' }).getByRole('cell', { name: '200', exact: true }).waitFor();
    expect(hook.bookings.map((b) => b.key)).toContain((await s.request('GET', `/exports/outbox/${id}`, { token: admin })).json.key);
    expect(await detail.locator('pre.payload').innerText()).toContain('"report": "prod"');
    // The outbox list shows it, and its state filter finds it.
    const outbox = page.getByRole('region', { name: 'Outbox' });
    await outbox.getByLabel(/^State/).selectOption('delivered');
    await outbox.getByRole('button', { name: 'Apply' }).click();
    await outbox.getByRole('row', { name: new RegExp(`^#${id} prod hook delivered$`) }).waitFor();
    await outbox.getByLabel(/^State/).selectOption('dead');
    await outbox.getByRole('button', { name: 'Apply' }).click();
    await outbox.getByText('No entries').waitFor();
  });

  it('a target answering 400 makes the entry dead with the attempt shown; Retry delivers once the receiver is fixed', async () => {
    const page = contexts[0]!.pages()[0]!;
    hook.script = [400];
    const run = page.getByRole('region', { name: 'Run a report' });
    await run.getByLabel(/^Report/).selectOption('prod');
    await run.getByLabel(/^Period/).selectOption('shift');
    await run.getByLabel(/^Shift/).selectOption('Early');
    await run.getByLabel(/^Date/).fill(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    await run.getByRole('button', { name: 'Run' }).click();
    const result = page.getByRole('region', { name: 'Computed report' });
    await result.getByRole('heading', { name: /prod · Early/ }).waitFor();
    const entryButton = result.getByRole('button', { name: /^hook #\d+$/ });
    const id = Number((await entryButton.innerText()).split('#')[1]);
    // The day before the server existed has no samples: flagged, never filled in.
    await expectFieldsAsSent(page, id);
    expect(await result.getByRole('row', { name: /^bottles/ }).innerText()).toContain('noData');
    await entryButton.click();
    const detail = page.getByRole('region', { name: `Entry #${id}` });
    await expect.poll(() => entryState(page), { timeout: 10_000 }).toBe('dead');
    const attempts = detail.getByRole('table', { name: 'Attempts' });
    await attempts.getByRole('cell', { name: '400', exact: true }).waitFor();
    expect(await attempts.innerText()).toContain('scripted 400');
    expect(hook.script).toEqual([]); // the receiver answers 200 from now on
    await detail.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => entryState(page), { timeout: 10_000 }).toBe('delivered');
    expect(await attempts.getByRole('row').count()).toBe(3); // header, the 400, the 200
    const key = (await s.request('GET', `/exports/outbox/${id}`, { token: admin })).json.key;
    expect(hook.bookings.filter((b) => b.key === key)).toHaveLength(1);
  });

  it('discards a retrying entry after a confirmation', async () => {
    const page = contexts[0]!.pages()[0]!;
    await hook.stop();
    try {
      const run = page.getByRole('region', { name: 'Run a report' });
      await run.getByLabel(/^Period/).selectOption('range');
      const now = Date.now();
      await run.getByLabel(/^From/).fill(local(now - 7_200_000));
      await run.getByLabel(/^To/).fill(local(now - 3_600_000));
      await run.getByRole('button', { name: 'Run' }).click();
      const entryButton = page.getByRole('region', { name: 'Computed report' }).getByRole('button', { name: /^hook #\d+$/ });
      await expect.poll(async () => (await entryButton.count()) === 1 && (await entryButton.innerText()), { timeout: 10_000 }).toBeTruthy();
      const id = Number((await entryButton.innerText()).split('#')[1]);
      await entryButton.click();
      const detail = page.getByRole('region', { name: `Entry #${id}` });
      await expect.poll(() => entryState(page), { timeout: 10_000 }).toBe('retrying');
      await detail.getByRole('button', { name: 'Discard' }).click();
      const dialog = page.getByRole('dialog', { name: 'Discard' });
      await dialog.getByText(`Discard entry #${id}?`).waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect((await s.request('GET', `/exports/outbox/${id}`, { token: admin })).json.state).toBe('retrying');
      await detail.getByRole('button', { name: 'Discard' }).click();
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => entryState(page), { timeout: 10_000 }).toBe('dead');
      await detail.getByText('discarded by admin').waitFor();
    } finally {
      await hook.start(hook.port);
    }
  });

  it('pages the outbox with Load more', async () => {
    // 55 more entries for the D365 target (the page shows 50 at a time).
    const base = Date.now() - 6 * 3_600_000;
    for (let i = 0; i < 55; i++) {
      const r = await s.request('POST', '/exports/reports/d365Report/run', {
        token: admin,
        body: { from: new Date(base + i * 60_000).toISOString(), to: new Date(base + (i + 1) * 60_000).toISOString() },
      });
      expect(r.status).toBe(200);
    }
    const page = contexts[0]!.pages()[0]!;
    const outbox = page.getByRole('region', { name: 'Outbox' });
    await outbox.getByLabel(/^State/).selectOption('');
    await outbox.getByLabel(/^Target/).selectOption('d365');
    await outbox.getByRole('button', { name: 'Apply' }).click();
    const rows = outbox.getByRole('row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(50);
    await outbox.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(55);
    expect(await outbox.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    expect(await rows.filter({ hasText: 'hook' }).count()).toBe(0);
  });

  it('a reader sees reports and entries without Run, Retry or Discard; a user without exports:read sees no Exports link', async () => {
    const viewer = await signedIn('viewer', 'viewer-password');
    await viewer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await viewer.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
    await viewer.getByRole('article', { name: 'prod' }).waitFor();
    expect(await viewer.getByRole('region', { name: 'Run a report' }).count()).toBe(0);
    const dead = viewer.getByRole('region', { name: 'Outbox' });
    await dead.getByLabel(/^State/).selectOption('dead');
    await dead.getByRole('button', { name: 'Apply' }).click();
    const row = dead.getByRole('row', { name: /prod hook dead$/ });
    await row.getByRole('button').click();
    await expect.poll(() => entryState(viewer), { timeout: 10_000 }).toBe('dead');
    expect(await viewer.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await viewer.getByRole('button', { name: 'Discard' }).count()).toBe(0);

    const outsider = await signedIn('outsider', 'outsider-password');
    const nav = outsider.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Overview' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Exports' }).count()).toBe(0);
    // Typing the address leads back to the overview; the API refuses the data anyway.
    await outsider.goto('/app/exports');
    await outsider.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect((await outsider.request.get('/exports/outbox')).status()).toBe(403);
  });

  it('fits a 360×740 phone: no horizontal scrolling, touch targets of at least 44 px, with a result and an entry open', async () => {
    const page = await signedIn('admin', ADMIN_PASSWORD, true);
    await page.goto('/app/exports');
    const run = page.getByRole('region', { name: 'Run a report' });
    await run.getByLabel(/^Period/).selectOption('shift');
    await run.getByLabel(/^Date/).fill(new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10));
    await run.getByRole('button', { name: 'Run' }).click();
    await page
      .getByRole('region', { name: 'Computed report' })
      .getByRole('button', { name: /^hook #\d+$/ })
      .click();
    await page.getByTestId('entry-state').waitFor();
    await page.getByRole('table', { name: 'Attempts' }).getByRole('row').nth(1).waitFor();
    const m = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(m.scrollWidth).toBeLessThanOrEqual(m.clientWidth);
    const small = await page.evaluate(
      () =>
        [...document.querySelectorAll('main button, main select, main input, header button, nav a')]
          .map((e) => e.getBoundingClientRect())
          .filter((r) => r.width > 0 && (r.height < 44 || r.width < 44)).length,
    );
    expect(small).toBe(0);
  });
  // Declared only when screenshots are asked for, so that a normal run skips nothing.
  if (SHOTS)
    it('writes screenshots of the page with a report run and its entry open (desktop and phone)', async () => {
      mkdirSync(SHOTS, { recursive: true });
      for (const phone of [false, true]) {
        const page = await signedIn('admin', ADMIN_PASSWORD, phone);
        await page.goto('/app/exports');
        const run = page.getByRole('region', { name: 'Run a report' });
        await run.getByLabel(/^Period/).selectOption('shift');
        await run.getByLabel(/^Date/).fill(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
        await run.getByRole('button', { name: 'Run' }).click();
        await page
          .getByRole('region', { name: 'Computed report' })
          .getByRole('button', { name: /^hook #\d+$/ })
          .click();
        await page.getByRole('table', { name: 'Attempts' }).getByRole('row').nth(1).waitFor();
        await page.waitForTimeout(500);
        await page.screenshot({ path: join(SHOTS, `exports-${phone ? 'phone' : 'desktop'}.png`) });
      }
    });
});
