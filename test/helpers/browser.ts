/**
 * Debian's chromium driven by playwright-core, for the dashboard's browser test and README screenshot: headless, no
 * sandbox (containers), background networking off, a fresh profile. `npx playwright install` is never needed. In CI
 * (`CI` set) a missing chromium is an error, never a skip.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether the browser tests can run here: chromium installed, or CI (where its absence must fail the run). */
export const browserAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);

/**
 * Starts chromium with a fresh profile in a temporary directory. Playwright takes the profile directory as the first
 * argument of `launchPersistentContext` (it refuses `--user-data-dir` among `args`); closing the context ends chromium.
 */
export function launchChromium(viewport = { width: 1400, height: 1800 }): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(`chromium is not installed at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`);
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dashboard-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
