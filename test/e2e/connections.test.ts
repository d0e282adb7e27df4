import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { ModbusPeer } from '../integration/drivers/modbus-peer.js';
import { freePort } from '../integration/drivers/support.js';
import { buildDashboard, launchChromium } from './browser.js';

/** The Connections page in headless Chromium while a real Modbus TCP peer drops and comes back. */
describe('dashboard Connections page (Chromium)', () => {
  let modbus: ModbusPeer;
  let s: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    buildDashboard();
    modbus = new ModbusPeer(await freePort());
    await modbus.start();
    s = await startTestServer({
      projectYaml: `
name: Connections page
connections:
  - { name: mb, driver: modbus-tcp, host: 127.0.0.1, port: ${modbus.port}, pollMs: 100, timeoutMs: 500, reconnectMinMs: 100, reconnectMaxMs: 300 }
tags:
  - { name: Mb.Value, type: Int16, connection: mb, address: "holding:0" }
`,
    });
    browser = await launchChromium();
    const ctx = await browser.newContext({ baseURL: s.url, ignoreHTTPSErrors: true, locale: 'en-US' });
    ctx.setDefaultTimeout(10_000);
    page = await ctx.newPage();
    await page.goto('/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await modbus?.stop().catch(() => undefined);
  });

  it('shows state, last error, the reconnect count going up after a drop, and the poll figures', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    const card = page.getByRole('article', { name: 'mb' });
    const reconnects = card.getByTestId('reconnects');
    await expect.poll(() => card.innerText(), { timeout: 15_000 }).toContain('CONNECTED');
    expect(await reconnects.innerText()).toBe('0');
    // The second refresh gives a rate: the 100 ms poll shows as some reads per second.
    await expect.poll(async () => /Reads\/s\s+\d+\.\d/.test(await card.innerText()), { timeout: 15_000 }).toBe(true);

    await modbus.stop();
    await expect.poll(async () => /(DISCONNECTED|ERROR|CONNECTING) ·/.test(await card.innerText()), { timeout: 15_000 }).toBe(true);
    await modbus.start();
    await expect.poll(() => reconnects.innerText(), { timeout: 20_000 }).toBe('1');
    expect(await card.innerText()).toContain('CONNECTED ·');
    // The reason of the drop stays visible after the return.
    const lastError = (await s.request('GET', '/connections/mb', { token: await s.login() })).json.lastError as string;
    expect(lastError.length).toBeGreaterThan(0);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain(lastError);
  });
});
