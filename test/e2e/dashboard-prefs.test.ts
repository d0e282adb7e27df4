import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, USERS, type Dashboard } from './browser.js';

/**
 * The dashboard's preferences in headless Chromium against the demo plant over HTTPS: the alarm sound (off by
 * default, once per new high-priority alarm when on), German with alarm texts in German through the API's `lang`,
 * and the light and dark themes following the system.
 */

// Counts every sound the page starts, whichever way it makes it (Web Audio nodes or a media element).
const SPY_ON_SOUND = `
  window.__sounds = 0;
  for (const Node of [globalThis.OscillatorNode, globalThis.AudioBufferSourceNode]) {
    if (!Node) continue;
    const start = Node.prototype.start;
    Node.prototype.start = function (...args) { window.__sounds++; return start.apply(this, args); };
  }
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function (...args) { window.__sounds++; return play.apply(this, args); };
`;

describe('dashboard preferences: alarm sound, German, dark theme (Chromium)', () => {
  let d: Dashboard;
  let ctx: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    d = await startDashboard();
    ctx = await d.context();
    await ctx.addInitScript(SPY_ON_SOUND);
    page = await ctx.newPage();
    await d.signIn(page, 'operator', USERS.operator.password);
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
  });

  const sounds = () => page.evaluate(() => (window as unknown as { __sounds: number }).__sounds);
  const write = async (tag: string, value: unknown) =>
    expect((await d.server.request('PUT', `/tags/${tag}/value`, { token: d.adminToken, body: { value } })).status).toBe(200);

  it('plays nothing for a new high-priority alarm by default, and once when the sound is on', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alarms' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alarms' }).waitFor();
    const toggle = page.getByRole('checkbox', { name: 'Sound for new high-priority alarms' });
    expect(await toggle.isChecked()).toBe(false);

    // Priority 16, sound off: the row appears, nothing plays.
    await write('Line1.EmergencyStop', true);
    const stop = page.getByRole('row', { name: /Emergency stop pressed/ });
    await stop.waitFor();
    // Another list update after the new alarm (its acknowledgement) gives the page every chance to play late.
    await stop.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => stop.getByRole('button', { name: 'Acknowledge' }).isEnabled(), { timeout: 10_000 }).toBe(false);
    expect(await sounds()).toBe(0);

    // Sound on: a new priority-13 alarm (with a priority-7 one of the same tag) plays once.
    await toggle.check();
    await write('Line1.Recipe.CarbonationLevel', 900);
    const far = page.getByRole('row', { name: /Carbonation far too high/ });
    await far.waitFor();
    await page.getByRole('row', { name: /Carbonation high:/ }).waitFor();
    await expect.poll(sounds, { timeout: 10_000 }).toBe(1);
    await far.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => far.getByRole('button', { name: 'Acknowledge' }).isEnabled(), { timeout: 10_000 }).toBe(false);
    expect(await sounds()).toBe(1);
  });

  it('switches to German: navigation, headings and the alarm text (through the API’s lang), and back', async () => {
    await page.getByLabel('Language').selectOption('de');
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Übersicht', 'Variablen', 'Alarme', 'Trends', 'Verbindungen', 'Boards'])
      await nav.getByRole('link', { name }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Alarme' }).waitFor();
    await page.getByRole('heading', { name: /^Aktive Alarme/ }).waitFor();
    await page.getByRole('button', { name: 'Abmelden' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('de');
    // The project gives this alarm an English and a German text; the page asks for its language.
    const active = page.getByRole('table', { name: 'Aktive Alarme' });
    await active.getByRole('row', { name: /Not-Halt betätigt/ }).waitFor();
    expect(await active.getByRole('row', { name: /Emergency stop pressed/ }).count()).toBe(0);
    // The archive asks in the same language.
    await page
      .getByRole('table', { name: 'Archiv' })
      .getByRole('row', { name: /ACKNOWLEDGED Not-Halt betätigt/ })
      .waitFor();
    await nav.getByRole('link', { name: 'Verbindungen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Verbindungen' }).waitFor();
    await page.getByText('Neuverbindungen').first().waitFor();

    // The choice survives a reload (kept in web storage: the language only, never a token).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Verbindungen' }).waitFor();
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alarms' }).click();
    await page
      .getByRole('table', { name: 'Active alarms' })
      .getByRole('row', { name: /Emergency stop pressed/ })
      .waitFor();
  });

  it('follows the system theme: dark background in dark mode, light in light mode', async () => {
    // Relative luminance (sRGB, WCAG) of the page's background and text. A string: the page has no bundler helpers.
    const background = () =>
      page.evaluate(`(() => {
        const lum = (css) => {
          const [r, g, b] = css.match(/\\d+/g).map(Number).map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const s = getComputedStyle(document.body);
        return { bg: lum(s.backgroundColor), fg: lum(s.color) };
      })()`) as Promise<{ bg: number; fg: number }>;
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    expect(dark.bg).toBeLessThan(0.05);
    expect(dark.fg).toBeGreaterThan(0.6);
    // A card (the alarm rows) is dark too, not a light box on a dark page.
    const card = await page
      .getByRole('table', { name: 'Active alarms' })
      .getByRole('row', { name: /Emergency stop pressed/ })
      .evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(card).toBe('rgb(27, 32, 39)');
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    expect(light.bg).toBeGreaterThan(0.85);
    expect(light.fg).toBeLessThan(0.05);
  });
});
