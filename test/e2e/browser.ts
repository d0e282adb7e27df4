import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

export { CHROMIUM, launchChromium } from '../helpers/chromium.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const DEMO_PROJECT = join(ROOT, 'projects', 'demo.yaml');

/** Builds dist/web when its sources changed (cached by a hash of the inputs; a no-op otherwise). */
export function buildDashboard(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-web.js')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the dashboard failed:\n${r.stderr}`);
}

export interface Dashboard {
  server: TestServer;
  browser: Browser;
  /** A fresh browser context (own cookies) that accepts the test server's self-signed certificate. */
  context(opts?: { phone?: boolean }): Promise<BrowserContext>;
  signIn(page: Page, username: string, password: string): Promise<void>;
  adminToken: string;
  stop(): Promise<void>;
}

export const USERS = {
  operator: { password: 'Plant-Shift-2026!', groups: ['operators'] },
  viewer: { password: 'Look-Only-2026!', groups: ['viewers'] },
} as const;

/** The demo plant over HTTPS with a temp data dir, its dashboard built, an operator and a viewer, and Chromium. */
export async function startDashboard(): Promise<Dashboard> {
  buildDashboard();
  const browser = await launchChromium();
  let server: TestServer;
  try {
    server = await startTestServer({ projectFile: DEMO_PROJECT });
  } catch (err) {
    await browser.close();
    throw err;
  }
  const adminToken = await server.login('admin', ADMIN_PASSWORD);
  for (const [username, u] of Object.entries(USERS)) {
    const r = await server.request('POST', '/users', { token: adminToken, body: { username, password: u.password, groups: u.groups } });
    if (r.status !== 201) throw new Error(`creating ${username}: ${r.status} ${r.text}`);
  }
  return {
    server,
    browser,
    adminToken,
    context: async (opts = {}) => {
      const c = await browser.newContext({
        baseURL: server.url,
        // Only this browser context trusts the test server's certificate.
        ignoreHTTPSErrors: true,
        locale: 'en-US',
        acceptDownloads: true,
        ...(opts.phone
          ? { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
          : { viewport: { width: 1280, height: 800 } }),
      });
      // A step that does not happen fails within seconds, not at the test's 30 s bound.
      c.setDefaultTimeout(10_000);
      return c;
    },
    async signIn(page, username, password) {
      await page.goto('/');
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    },
    async stop() {
      await browser.close();
      await server.stop();
    },
  };
}
