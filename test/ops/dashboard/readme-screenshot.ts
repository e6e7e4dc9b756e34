/**
 * Takes the README's dashboard screenshot (docs/dashboard.png), a script run by hand, not a test:
 * `npx tsx test/ops/dashboard/readme-screenshot.ts`. A demo fleet of 12 devices over the last hour (one with five
 * minutes that never arrived, one late, one silent, one whose readings arrive late), a few quarantined records, and
 * one device's view open.
 */
import { join } from 'node:path';
import { COLLECTIONS } from '../../../lambdas/sink/mongo/collections';
import { serveDashboard } from '../../../ops/dashboard/server';
import { launchChromium } from '../../helpers/browser';
import {
  deviceStates,
  HOUR,
  MINUTE,
  memoryDbWith,
  quarantineDocument,
  readingDocument,
} from '../../helpers/dashboard-data';

async function main() {
  const now = new Date(Math.floor(Date.now() / 10_000) * 10_000);
  const readings = [];
  for (let d = 0; d < 12; d++) {
    const deviceId = `greenhouse-${String(d + 1).padStart(2, '0')}`;
    const stopsAt = d === 10 ? 9 * MINUTE : d === 11 ? 40 * MINUTE : 0;
    for (let seq = 0; seq < 360; seq++) {
      const ts = new Date(now.getTime() - HOUR + seq * 10_000);
      if (now.getTime() - ts.getTime() < stopsAt) break;
      if (d === 2 && seq >= 150 && seq < 180) continue;
      const phase = seq / 60 + d;
      // every 20th reading a little off, as real sensors are
      const noise = seq % 20 === 0 ? 0.6 : 0;
      readings.push(
        readingDocument({
          deviceId,
          ts,
          seq,
          readings: {
            temperature: 21 + d * 0.4 + 2.5 * Math.sin(phase) + noise,
            humidity: 55 + 8 * Math.cos(phase / 2),
          },
          ...(d === 5 && seq % 40 === 0 ? { receivedAt: new Date(ts.getTime() + 4 * MINUTE) } : {}),
        }),
      );
    }
  }
  const reasons = ['invalid_json', 'invalid_json', 'schema', 'invalid_json', 'unsafe_key', 'schema', 'too_large'];
  const db = await memoryDbWith({
    [COLLECTIONS.readings]: readings,
    [COLLECTIONS.devices]: deviceStates(readings),
    [COLLECTIONS.quarantine]: reasons.map((reason, i) =>
      quarantineDocument(reason, new Date(now.getTime() - (5 + i * 8) * MINUTE)),
    ),
  });
  const dashboard = await serveDashboard({
    db,
    port: 0,
    freshness: { lateAfterMs: MINUTE, silentAfterMs: 15 * MINUTE },
    collections: COLLECTIONS,
    refreshMs: 60_000,
    clock: () => now,
  });
  const browser = await launchChromium({ width: 1280, height: 900 });
  try {
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    await page.locator('#fleet-table tr[data-device="greenhouse-03"]').click();
    await page.locator('[data-chart="device:greenhouse-03:temperature"]').waitFor();
    await page.waitForTimeout(500);
    const path = join(__dirname, '..', '..', '..', 'docs', 'dashboard.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`wrote ${path}`);
  } finally {
    await browser.close();
    await dashboard.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
