/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a seeded store: the fleet
 * table, a device's bucketed chart, the data quality panel, a reading that appears without a reload, a click made
 * while a slow refresh is under way, and a page that logs no console error. Fails, never skips, in CI when chromium is missing (test/helpers/browser.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from 'mongodb';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../../lambdas/sink/mongo/collections';
import type { ReadableCollection, ReadableDb } from '../../../ops/dashboard/readable-db';
import { type RunningDashboard, serveDashboard } from '../../../ops/dashboard/server';
import type { MemoryDb } from '../../../tools/local/memory-store';
import { browserAvailable, launchChromium } from '../../helpers/browser';
import { deviceStates, knownFleet, MINUTE, memoryDbWith, readingDocument } from '../../helpers/dashboard-data';

/** `inner`, whose aggregations wait, while `hold()` is in effect, until `release()`: a slow MongoDB. */
class HeldDb implements ReadableDb {
  /** Aggregations waiting now. */
  public waiting = 0;
  private gate: Promise<void> | undefined;
  private open = () => {};

  public constructor(private readonly inner: ReadableDb) {}

  public hold() {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  public release() {
    this.gate = undefined;
    this.open();
  }

  public collection(name: string): ReadableCollection {
    const inner = this.inner.collection(name);
    return {
      find: (filter, options) => inner.find(filter, options),
      countDocuments: (filter) => inner.countDocuments(filter),
      aggregate: <R extends Document>(pipeline: Document[], options?: { maxTimeMS?: number }) => ({
        toArray: async () => {
          if (this.gate) {
            this.waiting += 1;
            await this.gate;
            this.waiting -= 1;
          }
          return inner.aggregate<R>(pipeline, options).toArray();
        },
      }),
    };
  }
}

// A whole 10 s, so the last hour is exactly 360 buckets of 10 s with sensor-a's readings one per bucket
const NOW = new Date(Math.floor(Date.now() / 10_000) * 10_000);

describe.runIf(browserAvailable)('dashboard in chromium', () => {
  let db: MemoryDb;
  const screenshots = mkdtempSync(join(tmpdir(), 'dashboard-browser-'));
  const problems: string[] = [];
  let dashboard: RunningDashboard;
  let browser: BrowserContext;
  let page: Page;
  /** A dashboard over `store` at NOW, refreshing every `refreshMs`; its failed queries are problems. */
  const serve = (store: ReadableDb, refreshMs: number) =>
    serveDashboard({
      db: store,
      port: 0,
      freshness: { lateAfterMs: MINUTE, silentAfterMs: 15 * MINUTE },
      collections: COLLECTIONS,
      refreshMs,
      clock: () => NOW,
      log: (line) => problems.push(`server: ${line}`),
    });

  beforeAll(async () => {
    db = await memoryDbWith(knownFleet(NOW));
    dashboard = await serve(db, 500);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
    await page.goto(dashboard.url);
  });

  afterAll(async () => {
    await page?.screenshot({ path: join(screenshots, 'dashboard.png'), fullPage: true });
    await browser?.close();
    await dashboard?.close();
  });

  it('lists every device with its state and reading count, and the freshness counts', async () => {
    // Given the dashboard page open in Chromium over the seeded fleet
    // When its fleet table fills
    const rows = page.locator('#fleet-table tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    // Then each device shows its state and reading count, and the counts per freshness are on the buttons
    expect(cells.map((c) => [c[0], c[2], c[4]])).toEqual([
      ['sensor-a', 'fresh', '331'],
      ['sensor-b', 'late', '3'],
      ['sensor-c', 'silent', '1'],
    ]);
    expect(await page.locator('#fleet-counts button').allTextContents()).toEqual([
      'all 3',
      'fresh 1',
      'late 1',
      'silent 1',
    ]);
  });

  it("draws a device's readings in 10 s buckets over the last hour, the five missing minutes as a gap", async () => {
    // Given the dashboard page open
    // When sensor-a is clicked
    await page.locator('#fleet-table tr[data-device="sensor-a"]').click();
    const chart = page.locator('[data-chart="device:sensor-a:temperature"]');
    // Then its chart has 330 points over 360 buckets, drawn on the canvas, and its state shows the latest reading
    await expect.poll(() => chart.getAttribute('data-points')).toBe('330');
    expect(await chart.getAttribute('data-buckets')).toBe('360');
    // uPlot drew it: a canvas of the chart's size holding more than the background
    const inked = await chart.locator('canvas').evaluate((canvas) => {
      // Runs in the page: typed structurally, the test program has no DOM types
      const board = canvas as unknown as {
        width: number;
        height: number;
        getContext(
          kind: '2d',
        ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
      };
      const pixels = board.getContext('2d')?.getImageData(0, 0, board.width, board.height).data ?? [];
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) count++;
      return count;
    });
    expect(inked).toBeGreaterThan(1_000);
    expect(await page.locator('#device-state').textContent()).toContain('temperature359');
  });

  it('shows the quarantine reasons, the sequence gaps and the late arrivals', async () => {
    // Given the dashboard page open
    const table = async (selector: string) =>
      page
        .locator(`${selector} tbody tr`)
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // When the data quality tables fill
    await expect
      .poll(async () => (await table('#quality-reasons')).map((r) => [r[0], r[1]]))
      // Then they show the quarantine reasons, the gap and the late arrivals, with the quarantine chart
      .toEqual([
        ['invalid_json', '3'],
        ['schema', '2'],
      ]);
    expect(await table('#quality-gaps')).toEqual([['sensor-a', '30', '1', '0–359']]);
    expect((await table('#quality-late')).map((r) => [r[0], r[1]])).toEqual([['sensor-b', '3']]);
    expect(await page.locator('[data-chart="quarantine"]').count()).toBe(1);
  });

  it('says the quarantine panel is the sink quarantine, where the dead letters are, and what the seq column counts', async () => {
    // Given the dashboard page open
    // The rejects of ingest (malformed JSON, bad schema at the forwarder) are dead letters, not in the sink quarantine
    // When the quality panels' titles and headers are read
    const quarantine = await page.locator('#quality-reasons-title').textContent();
    // Then the quarantine title says it is the sink's and where dead letters are, and the seq column counts resends
    expect(quarantine).toContain('Sink quarantine, by reason');
    expect(quarantine).toContain('npx telemetry-ops failures list');
    // Readings resent under one seq with another ts have another eventId: the sink stores both, it collapses nothing
    expect(await page.locator('#quality-gaps-title').textContent()).not.toContain('collapsed');
    expect(await page.locator('#quality-gaps thead th').allTextContents()).toEqual([
      'Device',
      'Missing',
      'Resent under one seq',
      'seq',
    ]);
  });

  it('shows a new reading on the next refresh, without reloading the page', async () => {
    // Given the dashboard page open, marked so a reload would show
    await page.evaluate(() => {
      (globalThis as unknown as { marker: string }).marker = 'same page';
    });
    // When a new device's reading is stored
    const reading = readingDocument({
      deviceId: 'sensor-new',
      ts: new Date(NOW.getTime() - 5_000),
      seq: 0,
      readings: { temperature: 21.5 },
    });
    await db.collection('readings').insertOne(reading);
    for (const state of deviceStates([reading])) await db.collection('devices').insertOne(state);
    const row = page.locator('#fleet-table tr[data-device="sensor-new"]');
    // Then it shows on the next refresh, on the same page
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator('td').nth(3).textContent()).toBe('temperature 21.50');
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe('same page');
  });

  it('shows a device clicked while a slow refresh is under way, in the next refresh it shows', async () => {
    // Given a page that refreshes only when the user changes the view (no poll within the test), over a slow store
    const slow = new HeldDb(await memoryDbWith(knownFleet(NOW)));
    const held = await serve(slow, 3_600_000);
    const second = await browser.newPage();
    second.on('pageerror', (error) => problems.push(`page: ${error.message}`));
    const status = second.locator('#status');
    try {
      await second.goto(held.url);
      await expect.poll(() => status.getAttribute('data-refreshes')).toBe('1');

      // When the user filters the fleet to late devices, and clicks a device while that refresh waits for the store
      slow.hold();
      await second.locator('#fleet-counts button[data-freshness="late"]').click();
      await expect.poll(() => slow.waiting).toBeGreaterThan(0);
      await second.locator('#fleet-table tr[data-device="sensor-a"]').click();
      slow.release();

      // Then the next refresh the page shows has both: the late devices and the device clicked
      await expect.poll(() => status.getAttribute('data-refreshes'), { timeout: 10_000 }).toBe('2');
      expect(await second.locator('#device-id').textContent()).toBe('sensor-a');
      expect(await second.locator('[data-chart="device:sensor-a:temperature"]').getAttribute('data-points')).toBe(
        '330',
      );
      expect(
        await second.locator('#fleet-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.device)),
      ).toEqual(['sensor-b']);
      expect(await status.getAttribute('data-state')).toBe('ok');
    } finally {
      slow.release();
      await second.close();
      await held.close();
    }
  });

  it('logged no console error or warning, and no query failed', () => {
    // Given every page of this file, watched for console errors and failed queries
    // When they have run / Then nothing was logged
    expect(problems).toEqual([]);
  });
});
