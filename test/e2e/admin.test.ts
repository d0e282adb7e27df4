import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../helpers/server.js';
import { startDashboard, USERS, type Dashboard } from './browser.js';

/**
 * The Administration page in headless Chromium against a real Tagway (the demo plant over HTTPS, temp data dir):
 * every change is made through the page and checked through the API, and the server stays the authority. With
 * TAGWAY_SCREENSHOTS=1 it also writes desktop and phone screenshots of the page into docs/images/.
 */
const SHOTS = process.env.TAGWAY_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'images') : undefined;
const LENA = { password: 'Bottle-Line-2026!', newPassword: 'Capper-Shift-2027!' };

describe('dashboard administration (Chromium)', () => {
  let d: Dashboard;
  let ctx: BrowserContext;
  let a: Page;
  const region = (name: string) => a.getByRole('region', { name, exact: true });
  const api = (method: string, path: string, body?: unknown) => d.server.request(method, path, { token: d.adminToken, body });

  beforeAll(async () => {
    d = await startDashboard();
    ctx = await d.context();
    a = await ctx.newPage();
    await d.signIn(a, 'admin', ADMIN_PASSWORD);
    await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
    await a.getByRole('heading', { level: 1, name: 'Administration' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
  });

  it('creates a group with a scoped grant and a user in it, who then sees only the tags in scope', async () => {
    expect(await a.locator('h1').count()).toBe(1);
    for (const name of ['Users', 'Groups', 'API clients', 'Audit trail'])
      await region(name).getByRole('heading', { level: 2, name }).waitFor();

    const form = region('Groups').getByRole('form', { name: 'New group' });
    await form.getByLabel('Name', { exact: true }).fill('line1');
    const first = form.getByRole('group', { name: 'Permission 1' });
    // A scope on a permission that is not about tags is refused before sending (the server's rule).
    await first.getByLabel('Tag scope (glob)').fill('Line1.**');
    await first.getByLabel('Permission').selectOption('users:admin');
    await first.getByText('users:admin is not about tags').waitFor();
    expect(await form.getByRole('button', { name: 'Create' }).isEnabled()).toBe(false);
    await first.getByLabel('Permission').selectOption('tags:read');
    await form.getByRole('button', { name: 'Add grant' }).click();
    const second = form.getByRole('group', { name: 'Permission 2' });
    await second.getByLabel('Permission').selectOption('history:read');
    await second.getByLabel('Tag scope (glob)').fill('Line1.**');
    await form.getByRole('button', { name: 'Create' }).click();
    await region('Groups').getByRole('listitem', { name: 'line1' }).waitFor();
    const g = await api('GET', '/groups/line1');
    expect(g.json.permissions).toEqual([
      { permission: 'tags:read', tags: 'Line1.**' },
      { permission: 'history:read', tags: 'Line1.**' },
    ]);

    const users = region('Users');
    const nu = users.getByRole('form', { name: 'New user' });
    await nu.getByLabel('Username').fill('lena');
    await nu.getByLabel('Password').fill('short');
    await nu.getByRole('checkbox', { name: 'line1' }).check();
    await nu.getByRole('button', { name: 'Create' }).click();
    // The server's password policy speaks.
    await expect.poll(() => nu.getByRole('alert').innerText()).toContain('at least 10 characters');
    await nu.getByLabel('Password').fill(LENA.password);
    await nu.getByRole('button', { name: 'Create' }).click();
    await users.getByRole('row', { name: /lena/ }).getByText('line1').waitFor();
    expect((await api('GET', '/users/lena')).json.groups).toEqual(['line1']);

    const lctx = await d.context();
    const l = await lctx.newPage();
    try {
      await d.signIn(l, 'lena', LENA.password);
      const nav = l.getByRole('navigation', { name: 'Main' });
      expect(await nav.getByRole('link', { name: 'Administration' }).count()).toBe(0);
      await nav.getByRole('link', { name: 'Tags' }).click();
      await l
        .getByRole('row', { name: /Line1\.Filler\.Speed/ })
        .first()
        .waitFor();
      await l.getByLabel('Filter tags').fill('Tank1');
      await expect.poll(() => l.getByRole('row', { name: /Line1\./ }).count()).toBe(0);
      expect(await l.getByRole('row', { name: /Tank1\./ }).count()).toBe(0);
      // The server answers the same scope.
      const names = await l.evaluate(async () =>
        (await (await fetch('/tags?limit=1000')).json()).items.map((t: { name: string }) => t.name),
      );
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n: string) => n.startsWith('Line1.'))).toBe(true);
    } finally {
      await lctx.close();
    }
  });

  it('edits a user, resets the password with the policy message on refusal, unlocks and deletes after confirmation', async () => {
    const users = region('Users');
    await users.getByRole('button', { name: 'Edit lena' }).click();
    let dialog = a.getByRole('dialog', { name: 'Edit lena' });
    await dialog.getByRole('checkbox', { name: 'viewers' }).check();
    await dialog.getByRole('checkbox', { name: 'Disabled (cannot sign in)' }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    await users.getByRole('row', { name: /lena/ }).getByText('disabled').waitFor();
    expect((await api('GET', '/users/lena')).json).toMatchObject({ groups: ['line1', 'viewers'], disabled: true });
    expect((await d.server.request('POST', '/auth/login', { body: { username: 'lena', password: LENA.password } })).status).toBe(401);

    await users.getByRole('button', { name: 'Unlock lena' }).click();
    await expect.poll(() => users.getByRole('status').innerText()).toContain('the account is enabled again');
    await users.getByRole('row', { name: /lena/ }).getByText('active').waitFor();
    expect((await api('GET', '/users/lena')).json.disabled).toBe(false);

    await users.getByRole('button', { name: 'Reset password lena' }).click();
    dialog = a.getByRole('dialog', { name: 'Reset the password of lena' });
    await dialog.getByLabel('New password').fill('lena-lena-lena-2026');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toContain('must not contain the user name');
    await dialog.getByLabel('New password').fill(LENA.newPassword);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await d.server.request('POST', '/auth/login', { body: { username: 'lena', password: LENA.newPassword } })).status).toBe(200);

    // A group in use is not deleted: the server says who is still in it.
    await region('Groups').getByRole('button', { name: 'Delete line1' }).click();
    dialog = a.getByRole('dialog', { name: 'Delete line1' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toContain('still has members: lena');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    expect((await api('POST', '/users', { username: 'temp', password: 'Short-Lived-2026!', groups: [] })).status).toBe(201);
    await a.reload();
    await users.getByRole('button', { name: 'Delete temp' }).click();
    dialog = a.getByRole('dialog', { name: 'Delete temp' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await api('GET', '/users/temp')).status).toBe(200);
    await users.getByRole('button', { name: 'Delete temp' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => users.getByRole('row', { name: /temp/ }).count()).toBe(0);
    expect((await api('GET', '/users/temp')).status).toBe(404);
  });

  it('creates an API client whose secret is shown once and works at /auth/token until it is revoked', async () => {
    const clients = region('API clients');
    const form = clients.getByRole('form', { name: 'New API client' });
    await form.getByLabel('Name').fill('mes');
    await form.getByRole('checkbox', { name: 'line1' }).check();
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = a.getByRole('dialog', { name: 'API client mes created' });
    await expect.poll(() => dialog.getByRole('status').innerText()).toContain('shown this once');
    const clientId = await dialog.getByLabel('Client ID').inputValue();
    const secret = await dialog.getByLabel('Client secret').inputValue();
    expect(secret.length).toBeGreaterThan(16);
    await dialog.getByRole('button', { name: 'Copy secret' }).click();
    await dialog.getByText(/^(Copied|Copying failed)/).waitFor();

    const grant = { grant_type: 'client_credentials', client_id: clientId, client_secret: secret };
    const tok = await d.server.request('POST', '/auth/token', { body: grant });
    expect(tok.status, tok.text).toBe(200);
    const jwt = tok.json.access_token as string;
    const tags = await d.server.request('GET', '/tags?limit=1000', { token: jwt });
    expect(tags.status).toBe(200);
    expect(tags.json.items.every((t: { name: string }) => t.name.startsWith('Line1.'))).toBe(true);

    await dialog.getByRole('button', { name: 'Close' }).click();
    await a.reload();
    await clients.getByRole('row', { name: /mes/ }).waitFor();
    expect(await a.content()).not.toContain(secret);
    expect(await a.getByRole('dialog').count()).toBe(0);

    await clients.getByRole('button', { name: 'Revoke mes' }).click();
    const confirm = a.getByRole('dialog', { name: 'Revoke mes' });
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => clients.getByRole('row', { name: /mes/ }).count()).toBe(0);
    expect((await d.server.request('POST', '/auth/token', { body: grant })).status).toBe(401);
    expect((await d.server.request('GET', '/tags', { token: jwt })).status).toBe(401);
  });

  it('filters the audit trail, pages with Load more, and downloads the filtered rows as CSV', async () => {
    // 55 writes: more than one page of 50.
    for (let i = 0; i < 55; i++) expect((await api('PUT', '/tags/Line1.Filler.SpeedSetpoint/value', { value: 300 + i })).status).toBe(200);
    await a.reload();
    const audit = region('Audit trail');
    const rows = audit.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(50);

    await audit.getByLabel('Action').fill('tag.write');
    await audit.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => audit.getByText('50 row(s)').count()).toBe(1);
    for (const text of await rows.allInnerTexts()) expect(text).toContain('tag.write');
    await audit.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBe(55);
    expect(await audit.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    await audit.getByLabel('Action').fill('auth.login');
    await audit.getByLabel('User').fill('lena');
    await audit.getByRole('button', { name: 'Apply' }).click();
    const expected = (await api('GET', '/audit?user=lena&action=auth.login')).json.items as Array<{ id: number }>;
    expect(expected.length).toBeGreaterThan(0);
    await expect.poll(() => rows.count()).toBe(expected.length);
    for (const text of await rows.allInnerTexts()) expect(text).toMatch(/auth\.login\s+lena/);

    const [download] = await Promise.all([a.waitForEvent('download'), audit.getByRole('link', { name: 'Download CSV' }).click()]);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(lines[0]).toMatch(/^id,at,action,user,/);
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(expected.map((e) => e.id));
    for (const l of lines.slice(1)) expect(l).toContain(',auth.login,lena,');

    // The tag filter finds the 55 writes above and a bulk write listing the tag among its items (a row without a
    // target); the CSV link carries it.
    const TAG = 'Line1.Filler.SpeedSetpoint';
    const bulk = {
      items: [
        { name: 'Line1.Filler.NozzleCount', value: 41 },
        { name: TAG, value: 399 },
      ],
    };
    expect((await api('PUT', '/tags/values', bulk)).status).toBe(200);
    const aboutTag = (await api('GET', `/audit?tag=${encodeURIComponent(TAG)}&limit=10000`)).json.items as Array<{
      id: number;
      target: string | null;
    }>;
    expect(aboutTag.length).toBeGreaterThan(55);
    expect(aboutTag[0]!.target).toBeNull();
    await audit.getByLabel('Action').fill('');
    await audit.getByLabel('User').fill('');
    await audit.getByLabel('Tag', { exact: true }).fill(TAG);
    await audit.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => audit.getByText('50 row(s)').count()).toBe(1);
    expect(await rows.first().innerText()).toContain('"name":"Line1.Filler.NozzleCount"');
    // A bulk row has no target of its own: the cell says how many tags it lists.
    expect(await rows.first().locator('td').nth(3).innerText()).toBe('2 tags');
    for (const text of (await rows.allInnerTexts()).slice(1)) expect(text).toContain(TAG);
    await audit.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBe(aboutTag.length);
    const [tagCsv] = await Promise.all([a.waitForEvent('download'), audit.getByRole('link', { name: 'Download CSV' }).click()]);
    const tagLines = readFileSync((await tagCsv.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(tagLines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(aboutTag.map((e) => e.id));
    await audit.getByLabel('Tag', { exact: true }).fill('');

    // A range that ends before it starts is not sent.
    await audit.getByLabel('From', { exact: true }).fill('2026-06-02T00:00:00');
    await audit.getByLabel('To', { exact: true }).fill('2026-06-01T00:00:00');
    await audit.getByRole('button', { name: 'Apply' }).click();
    await audit.getByRole('alert').getByText('“From” must be before “To”').waitFor();
  });

  it('shows an auditor (audit:read only) the audit trail and no user administration', async () => {
    expect((await api('POST', '/groups', { name: 'auditors', permissions: [{ permission: 'audit:read' }] })).status).toBe(201);
    expect((await api('POST', '/users', { username: 'audrey', password: 'Trail-Reader-2026!', groups: ['auditors'] })).status).toBe(201);
    const c = await d.context();
    const p = await c.newPage();
    try {
      await d.signIn(p, 'audrey', 'Trail-Reader-2026!');
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
      await p.getByRole('region', { name: 'Audit trail' }).locator('tbody tr').first().waitFor();
      expect(await p.getByRole('region', { name: 'Users' }).count()).toBe(0);
      expect(await p.getByRole('region', { name: 'API clients' }).count()).toBe(0);
      expect(await p.evaluate(async () => (await fetch('/users')).status)).toBe(403);
    } finally {
      await c.close();
    }
  });

  it('shows a viewer no Administration; /app/admin shows no admin data and the API answers 403', async () => {
    const c = await d.context();
    const v = await c.newPage();
    try {
      await d.signIn(v, 'viewer', USERS.viewer.password);
      expect(await v.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).count()).toBe(0);
      await v.goto('/app/admin');
      await v.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      expect(await v.getByRole('heading', { name: /Users|API clients|Audit trail/ }).count()).toBe(0);
      expect(await v.content()).not.toContain('lena');
      // Hidden is not closed: the page's own session calling the admin API directly is refused.
      const statuses = await v.evaluate(async () => {
        const s = await (await fetch('/auth/session')).json();
        const get = async (path: string) => (await fetch(path)).status;
        const post = await fetch('/clients', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
          body: JSON.stringify({ name: 'sneaky', groups: [] }),
        });
        return [await get('/users'), await get('/groups'), await get('/clients'), await get('/audit'), post.status];
      });
      expect(statuses).toEqual([403, 403, 403, 403, 403]);
    } finally {
      await c.close();
    }
  });

  it('fits a 360×740 phone without horizontal scrolling, dialogs included', async () => {
    const c = await d.context({ phone: true });
    const p = await c.newPage();
    const noScroll = async (what: string) => {
      const m = await p.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
      expect(m.sw, what).toBeLessThanOrEqual(m.cw);
    };
    try {
      await d.signIn(p, 'admin', ADMIN_PASSWORD);
      await p.goto('/app/admin');
      await p.getByRole('region', { name: 'Audit trail' }).locator('tbody tr').first().waitFor();
      await noScroll('page');
      await p.getByRole('button', { name: 'Edit line1' }).click();
      await p.getByRole('dialog', { name: 'Edit group line1' }).getByRole('button', { name: 'Add grant' }).click();
      await noScroll('group dialog');
      await p.getByRole('button', { name: 'Cancel' }).click();
      const small = await p.evaluate(
        () =>
          [...document.querySelectorAll('main button, main input:not([type="checkbox"]), main select')]
            .map((e) => e.getBoundingClientRect())
            .filter((r) => r.width > 0 && r.height < 44).length,
      );
      expect(small).toBe(0);
    } finally {
      await c.close();
    }
  });

  // Not a test but the screenshot generator (`npm run screenshots`): declared only when asked for, so that a normal run
  // reports nothing skipped. It runs last, on the users, groups, clients and audit rows the tests above made.
  if (SHOTS !== undefined)
    it('screenshots the administration page and the grant editor, desktop and phone, into docs/images', { timeout: 60_000 }, async () => {
      mkdirSync(SHOTS!, { recursive: true });
      expect((await api('POST', '/clients', { name: 'mes-line1', groups: ['line1'] })).status).toBe(201);
      for (const phone of [false, true]) {
        const c = await d.context({ phone });
        const s = await c.newPage();
        const suffix = phone ? 'phone' : 'desktop';
        await d.signIn(s, 'admin', ADMIN_PASSWORD);
        await s.goto('/app/admin');
        const audit = s.getByRole('region', { name: 'Audit trail' });
        // A few kinds of rows rather than 50 writes, so that the whole page fits one picture.
        await audit.getByLabel('Action').fill('user.create,group.create,client.create');
        await audit.getByRole('button', { name: 'Apply' }).click();
        await expect.poll(() => audit.locator('tbody tr').first().innerText()).toContain('client.create');
        await s.evaluate(() => window.scrollTo(0, 0));
        await s.screenshot({ path: join(SHOTS!, `admin-sections-${suffix}.png`), fullPage: !phone });
        await s.getByRole('button', { name: 'Edit line1' }).click();
        await s.getByRole('dialog', { name: 'Edit group line1' }).waitFor();
        await s.screenshot({ path: join(SHOTS!, `admin-grants-${suffix}.png`) });
        await c.close();
      }
    });
});
