import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; scripts/provision.js installs it for npm test as root). */
export const CHROMIUM = process.env.TAGWAY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium for the dashboard's end-to-end tests, its benchmark and the benchmark charts. A missing browser
 * fails with the package to install (never a skip). The background-networking flags keep Chromium from calling out
 * of this closed machine at every start.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install the Debian package 'chromium' (npm test does so as root, scripts/provision.js)`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
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
}
