import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, USERS, type Dashboard } from './browser.js';

/**
 * The dashboard in headless Chromium against a real Tagway (the demo plant over HTTPS, temp data dir). With
 * TAGWAY_SCREENSHOTS=1 it also writes a desktop and a phone screenshot of every page into docs/images/.
 */
const SHOTS = process.env.TAGWAY_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'images') : undefined;

async function noHorizontalScroll(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
}

describe('web dashboard (Chromium)', () => {
  let d: Dashboard;
  let ctx: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    d = await startDashboard();
    ctx = await d.context();
    page = await ctx.newPage();
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
  });

  it('signs in, shows the navigation without Administration for an operator, and live values change', async () => {
    await d.signIn(page, 'operator', USERS.operator.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Overview', 'Tags', 'Alarms', 'Trends', 'Connections', 'Boards']) await nav.getByRole('link', { name }).waitFor();
    expect(await nav.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await page.locator('h1').count()).toBe(1);

    await nav.getByRole('link', { name: 'Tags' }).click();
    await page.getByLabel('Filter tags').fill('Line1.Filler.Speed');
    const cell = page.locator('[data-tag="Line1.Filler.Speed"]');
    await cell.waitFor();
    const first = await cell.innerText();
    // The simulator moves the filler speed every 500 ms: the page shows it without a reload.
    await expect.poll(() => cell.innerText(), { timeout: 10_000 }).not.toBe(first);
  });

  it('writes a setpoint through the type-aware dialog with an old → new review', async () => {
    await page.getByLabel('Filter tags').fill('Line1.Filler.SpeedSetpoint');
    const row = page.getByRole('row', { name: /Line1\.Filler\.SpeedSetpoint/ });
    await row.getByRole('button', { name: 'Write Line1.Filler.SpeedSetpoint' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Value').fill('700');
    // Above the tag's max (600): refused before sending, with the server's own rule text.
    await dialog.getByText('is above the maximum 600').waitFor();
    await expect.poll(() => dialog.getByRole('button', { name: 'Review' }).isEnabled(), { timeout: 10_000 }).toBe(false);
    await dialog.getByLabel('Value').fill('420');
    await dialog.getByRole('button', { name: 'Review' }).click();
    await dialog.getByText('→').waitFor();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => dialog.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.locator('[data-tag="Line1.Filler.SpeedSetpoint"]').innerText(), { timeout: 10_000 }).toMatch(/^420\b/);
    const r = await d.server.request('GET', '/tags/Line1.Filler.SpeedSetpoint/value', { token: d.adminToken });
    expect(r.json.value).toBe(420);
  });

  it('shows the server’s problem detail when the server refuses a write', async () => {
    await page.getByLabel('Filter tags').fill('Line1.Recipe.Name');
    await page.getByRole('button', { name: 'Write Line1.Recipe.Name' }).click();
    const dialog = page.getByRole('dialog');
    // The page does not know the String's maximum length (64); the server does.
    await dialog.getByLabel('Value').fill('x'.repeat(70));
    await dialog.getByRole('button', { name: 'Review' }).click();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText(), { timeout: 10_000 }).toContain('at most 64 are allowed');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count(), { timeout: 10_000 }).toBe(0);
  });

  it('shows a raised alarm live and acknowledges it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alarms' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor();
    const w = await d.server.request('PUT', '/tags/Line1.EmergencyStop/value', { token: d.adminToken, body: { value: true } });
    expect(w.status).toBe(200);
    const row = page.getByRole('row', { name: /Emergency stop pressed/ });
    const ack = row.getByRole('button', { name: 'Acknowledge' });
    await expect.poll(() => ack.isEnabled(), { timeout: 10_000 }).toBe(true);
    await ack.click();
    await expect.poll(() => ack.isEnabled(), { timeout: 10_000 }).toBe(false);
    const current = await d.server.request('GET', '/alarms/current?alarm=Line1.EmergencyStop', { token: d.adminToken });
    expect(current.json.items[0]).toMatchObject({ acknowledged: true, acknowledgedBy: 'operator' });
  });

  it('filters the archive and downloads the filtered set as CSV', async () => {
    const archive = page.getByRole('region', { name: 'Archive' });
    await archive.getByLabel('Alarm').fill('Line1.EmergencyStop');
    await archive.getByLabel('Event').selectOption('ACKNOWLEDGED');
    await archive.getByRole('button', { name: 'Apply' }).click();
    const rows = archive.getByRole('row');
    await expect.poll(() => rows.first().innerText(), { timeout: 10_000 }).toContain('ACKNOWLEDGED');
    expect(await rows.count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), archive.getByRole('link', { name: 'Download CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^eventId,/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('ACKNOWLEDGED');
    expect(lines[1]).toContain('operator');
  });

  it('renders a trend of a logged tag', async () => {
    await page.goto('/app/trends?tags=Tank1.Level&range=900000');
    const chart = page.getByRole('img', { name: /Tank1\.Level/ });
    await expect.poll(() => chart.locator('canvas').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => chart.locator('.u-legend').innerText(), { timeout: 10_000 }).toContain('Tank1.Level');
  });

  it('creates a board that survives a reload (the session too: cookie + GET /auth/session)', async () => {
    await page.goto('/app/boards');
    const editor = page.getByRole('form', { name: 'New board' });
    await editor.getByLabel('Name', { exact: true }).fill('Filler board');
    await editor.getByLabel('Widget').selectOption('value');
    await editor.getByLabel('Tags').selectOption('Line1.Filler.Speed');
    await editor.getByRole('button', { name: 'Add widget' }).click();
    await editor.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Filler board' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Filler board' }).waitFor();
    await expect
      .poll(() => page.getByRole('article', { name: 'Line1.Filler.Speed' }).innerText(), { timeout: 10_000 })
      .toContain('bottles/min');
    // A second tab of the same session works too.
    const tab = await ctx.newPage();
    await tab.goto('/app/boards');
    await tab.getByRole('link', { name: 'Filler board' }).waitFor();
    await tab.close();
    // The owner changes it (PUT /boards/{id}).
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('form', { name: 'Filler board' }).getByLabel('Name', { exact: true }).fill('Filler board v2');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Filler board v2' }).waitFor();
  });

  it('shows a viewer no write control and no Administration, and the server refuses the write anyway', async () => {
    const vctx = await d.context();
    const v = await vctx.newPage();
    try {
      await d.signIn(v, 'viewer', USERS.viewer.password);
      expect(await v.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).count()).toBe(0);
      await v.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tags' }).click();
      await v.getByRole('row', { name: /Line1\.Filler\.SpeedSetpoint/ }).waitFor();
      expect(await v.getByRole('button', { name: /^Write / }).count()).toBe(0);
      // Hidden is not closed: the page's own session (cookie + CSRF) calling the API directly gets 403.
      const status = await v.evaluate(async () => {
        const s = await (await fetch('/auth/session')).json();
        const r = await fetch('/tags/Line1.Filler.SpeedSetpoint/value', {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
          body: JSON.stringify({ value: 1 }),
        });
        return { status: r.status, code: (await r.json()).code };
      });
      expect(status).toEqual({ status: 403, code: 'FORBIDDEN' });
      await v.goto('/app/admin');
      await v.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    } finally {
      await vctx.close();
    }
  });

  it('lets an administrator scope a group and create an API client whose secret is shown once', async () => {
    const g = await d.server.request('POST', '/groups', {
      token: d.adminToken,
      body: { name: 'shift', permissions: [{ permission: 'tags:read' }] },
    });
    expect(g.status, g.text).toBe(201);
    const actx = await d.context();
    const a = await actx.newPage();
    try {
      await d.signIn(a, 'admin', 'admin-password-for-tests');
      await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
      // The grant editor in full is tested in admin.test.ts.
      await a.getByRole('region', { name: 'Groups' }).getByRole('button', { name: 'Edit shift' }).click();
      const dialog = a.getByRole('dialog', { name: 'Edit group shift' });
      await dialog.getByLabel('Tag scope (glob)').fill('Line1.**');
      await dialog.getByRole('button', { name: 'Add grant' }).click();
      await dialog.getByRole('group', { name: 'Permission 2' }).getByLabel('Permission').selectOption('history:read');
      await dialog.getByRole('group', { name: 'Permission 2' }).getByLabel('Tag scope (glob)').fill('Line1.**');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await expect
        .poll(async () => (await d.server.request('GET', '/groups/shift', { token: d.adminToken })).json.permissions, { timeout: 10_000 })
        .toEqual([
          { permission: 'tags:read', tags: 'Line1.**' },
          { permission: 'history:read', tags: 'Line1.**' },
        ]);
      const clients = a.getByRole('region', { name: 'API clients' });
      await clients.getByLabel('Name').fill('mes');
      await clients.getByRole('checkbox', { name: 'shift' }).check();
      await clients.getByRole('button', { name: 'Create' }).click();
      const secret = clients.getByRole('status');
      await expect.poll(() => secret.innerText(), { timeout: 10_000 }).toContain('shown this once');
      await a.reload();
      await a.getByRole('region', { name: 'API clients' }).getByText('mes').first().waitFor();
      expect(await a.getByRole('region', { name: 'API clients' }).getByRole('status').count()).toBe(0);
    } finally {
      await actx.close();
    }
  });

  it('sends an ended session back to sign-in and then to the page it was on', async () => {
    const ectx = await d.context();
    const e = await ectx.newPage();
    try {
      await d.signIn(e, 'operator', USERS.operator.password);
      await e.goto('/app/alarms');
      await e.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor();
      // The session ends behind the page's back (as an administrator's revocation or the idle timeout would).
      const code = await e.evaluate(async () => {
        const s = await (await fetch('/auth/session')).json();
        return (await fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': s.csrfToken } })).status;
      });
      expect(code).toBe(204);
      await e.getByText('Your session ended').waitFor();
      expect(new URL(e.url()).searchParams.get('next')).toBe('/app/alarms');
      await e.getByLabel('Username').fill('operator');
      await e.getByLabel('Password').fill(USERS.operator.password);
      await e.getByRole('button', { name: 'Sign in' }).click();
      await e.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor();
    } finally {
      await ectx.close();
    }
  });

  it('fits a 360×740 phone without horizontal scrolling, with touch targets of at least 44 px', async () => {
    const pctx = await d.context({ phone: true });
    const p = await pctx.newPage();
    try {
      await d.signIn(p, 'admin', 'admin-password-for-tests');
      for (const path of [
        '/app/overview',
        '/app/tags',
        '/app/alarms',
        '/app/trends?tags=Tank1.Level',
        '/app/connections',
        '/app/boards',
        '/app/admin',
      ]) {
        await p.goto(path);
        await p.locator('h1').waitFor();
        await p.waitForTimeout(300);
        const m = await noHorizontalScroll(p);
        expect(m.scrollWidth, path).toBeLessThanOrEqual(m.clientWidth);
      }
      await p.goto('/app/alarms');
      const small = await p.evaluate(
        () =>
          [...document.querySelectorAll('main button, header button, nav a')]
            .map((e) => e.getBoundingClientRect())
            .filter((r) => r.width > 0 && (r.height < 44 || r.width < 44)).length,
      );
      expect(small).toBe(0);
    } finally {
      await pctx.close();
    }
  });

  // Not a test but the screenshot generator (`npm run screenshots`): declared only when asked for, so that a normal run
  // reports nothing skipped.
  if (SHOTS !== undefined)
    it('screenshots every page, desktop and phone, into docs/images', { timeout: 120_000 }, async () => {
      mkdirSync(SHOTS!, { recursive: true });
      const pages: Array<[string, string]> = [
        ['overview', '/app/overview'],
        ['tags', '/app/tags?tag=Line1.Filler.Speed'],
        ['alarms', '/app/alarms'],
        ['trends', '/app/trends?tags=Tank1.Level,Line1.Filler.Speed&range=900000'],
        ['connections', '/app/connections'],
        ['boards', '/app/boards'],
        // Administration and Exports: their own suites write them (admin.test.ts, exports.test.ts).
      ];
      for (const phone of [false, true]) {
        const sctx = await d.context({ phone });
        const s = await sctx.newPage();
        await s.goto('/');
        await s.getByLabel('Username').waitFor();
        await s.screenshot({ path: join(SHOTS!, `sign-in-${phone ? 'phone' : 'desktop'}.png`) });
        await d.signIn(s, 'admin', 'admin-password-for-tests');
        for (const [name, path] of pages) {
          await s.goto(path);
          await s.locator('h1').waitFor();
          await s.waitForTimeout(800);
          await s.screenshot({ path: join(SHOTS!, `${name}-${phone ? 'phone' : 'desktop'}.png`) });
        }
        await sctx.close();
      }
    });
});
