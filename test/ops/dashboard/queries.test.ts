/** The dashboard's queries on generated data with known answers, run by mingo (test/helpers/dashboard-data.ts). */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  chooseBucket,
  deviceSeries,
  fleetPage,
  fleetTrends,
  freshnessFilter,
  lateArrivals,
  quarantineByReason,
  quarantineOverTime,
  readingCounts,
  sequenceGaps,
} from '../../../ops/dashboard/queries';
import { HOUR, knownFleet, MINUTE, memoryDbWith } from '../../helpers/dashboard-data';

const NOW = new Date('2026-12-01T09:00:00Z');
const THRESHOLDS = { lateAfterMs: MINUTE, silentAfterMs: 15 * MINUTE };
const LAST_HOUR = { from: new Date(NOW.getTime() - HOUR), to: NOW };
const bucket = (ms: number) => {
  const found = chooseBucket(new Date(0), new Date(ms), 1);
  if (!found) throw new Error(`no bucket of ${ms} ms`);
  return found;
};

// Both storage modes: time-series readings carry a copy of `_id` in `eventId` (lambdas/sink/mongo/reading-stores.ts)
const MODE = { timeSeries: false };
const seeded = () => memoryDbWith(knownFleet(NOW, MODE.timeSeries));

describe('chooseBucket', () => {
  it('keeps every range within the points a chart can draw, with the smallest bucket that does', () => {
    // Given the preset ranges and 500 points at most
    const range = (ms: number) => chooseBucket(new Date(NOW.getTime() - ms), NOW, 500);
    // Then an hour gets 10 s buckets (360), a day 5 min (288), a week 30 min (336)
    expect(range(HOUR)).toMatchObject({ unit: 'second', binSize: 10 });
    expect(range(24 * HOUR)).toMatchObject({ unit: 'minute', binSize: 5 });
    expect(range(7 * 24 * HOUR)).toMatchObject({ unit: 'minute', binSize: 30 });
    // And a range that even daily buckets cannot draw has none
    expect(range(600 * 24 * HOUR)).toBeUndefined();
  });
});

describe.each([
  { mode: 'regular collection', timeSeries: false },
  { mode: 'time-series collection', timeSeries: true },
])('$mode', ({ timeSeries }) => {
  beforeEach(() => {
    MODE.timeSeries = timeSeries;
  });

  describe('fleet overview queries', () => {
    it('pages the latest state per device by id or last seen, searches ids and filters by freshness', async () => {
      // Given the seeded fleet: sensor-a fresh, sensor-b late, sensor-c silent
      const devices = (await seeded()).collection('devices');
      // When pages are asked for by id and by last seen, by search and by freshness
      const ids = async (query: Partial<Parameters<typeof fleetPage>[0]>) => {
        const page = fleetPage({ sort: 'deviceId', order: 'asc', page: 1, pageSize: 2, ...query }, NOW, THRESHOLDS);
        return (await devices.find(page.filter, page.options).toArray()).map((d) => d._id);
      };
      // Then each holds the devices it should, a regex search matching nothing literal
      expect(await ids({})).toEqual(['sensor-a', 'sensor-b']);
      expect(await ids({ page: 2 })).toEqual(['sensor-c']);
      expect(await ids({ sort: 'lastSeen', order: 'asc', pageSize: 3 })).toEqual(['sensor-c', 'sensor-b', 'sensor-a']);
      expect(await ids({ search: 'R-B' })).toEqual(['sensor-b']);
      expect(await ids({ search: '.*' })).toEqual([]);
      expect(await ids({ freshness: 'fresh' })).toEqual(['sensor-a']);
      expect(await ids({ freshness: 'late' })).toEqual(['sensor-b']);
      expect(await ids({ freshness: 'silent' })).toEqual(['sensor-c']);
      expect(await devices.countDocuments(freshnessFilter('late', NOW, THRESHOLDS))).toBe(1);
    });

    it('counts the readings stored per device of a page', async () => {
      // Given the seeded fleet
      // When the readings of a page's devices are counted
      const rows = await (await seeded())
        .collection('readings')
        .aggregate(readingCounts(['sensor-a', 'sensor-b']))
        .toArray();
      // Then each device has its count
      expect(Object.fromEntries(rows.map((r) => [r._id, r.count]))).toEqual({ 'sensor-a': 331, 'sensor-b': 3 });
    });
  });

  describe('time series queries', () => {
    it("buckets one device's range per kind with min, avg and max, leaving buckets without readings out", async () => {
      // When sensor-a's last hour is bucketed by minute
      const rows = await (await seeded())
        .collection('readings')
        .aggregate(deviceSeries('sensor-a', LAST_HOUR, bucket(MINUTE)))
        .toArray();
      const temperature = rows.filter((r) => r._id.kind === 'temperature');
      // Then minutes 17–20 (seq 102–125) are missing: 56 buckets of 60
      expect(temperature).toHaveLength(56);
      expect(rows.filter((r) => r._id.kind === 'humidity')).toHaveLength(56);
      const minute = (k: number) => temperature.find((r) => r._id.t.getTime() === NOW.getTime() - HOUR + k * MINUTE);
      expect(minute(0)).toMatchObject({ min: 0, max: 5, avg: 2.5, n: 6 });
      expect(minute(16)).toMatchObject({ min: 96, max: 99, avg: 97.5, n: 4 });
      expect(minute(17)).toBeUndefined();
      expect(minute(21)).toMatchObject({ min: 130, max: 131, n: 2 });
      // And the duplicate seq 200 (another eventId) is a reading like any other here
      expect(minute(33)).toMatchObject({
        min: 198,
        max: 203,
        n: 7,
        avg: (198 + 199 + 200 + 200 + 201 + 202 + 203) / 7,
      });
    });

    it('aggregates the whole fleet per kind and bucket, only within the range', async () => {
      // Given the seeded fleet
      // When the last hour is bucketed for the whole fleet
      const rows = await (await seeded())
        .collection('readings')
        .aggregate(fleetTrends(LAST_HOUR, bucket(HOUR)))
        .toArray();
      // Then each kind counts only the readings within the range
      const temperature = rows.find((r) => r._id.kind === 'temperature');
      // sensor-a's 331 readings and sensor-b's 3; sensor-c's reading is 90 minutes old
      expect(temperature).toMatchObject({ min: 0, max: 359, n: 334 });
      expect(rows.find((r) => r._id.kind === 'humidity')).toMatchObject({ min: 50, max: 50, avg: 50, n: 331 });
    });
  });

  describe('data quality queries', () => {
    it('counts quarantined records per reason within the range, and per reason over time', async () => {
      // Given the seeded quarantine
      const quarantine = (await seeded()).collection('quarantine');
      // When it is counted per reason, and per reason over 30-minute buckets
      const reasons = await quarantine.aggregate(quarantineByReason(LAST_HOUR)).toArray();
      // Then each reason in the range has its count and latest time, and each bucket its count
      expect(reasons).toEqual([
        { _id: 'invalid_json', count: 3, last: new Date(NOW.getTime() - 10 * MINUTE) },
        { _id: 'schema', count: 2, last: new Date(NOW.getTime() - 40 * MINUTE) },
      ]);
      const overTime = await quarantine.aggregate(quarantineOverTime(LAST_HOUR, bucket(30 * MINUTE))).toArray();
      expect(overTime).toEqual([
        { _id: { reason: 'invalid_json', t: new Date(NOW.getTime() - 30 * MINUTE) }, count: 3 },
        { _id: { reason: 'schema', t: new Date(NOW.getTime() - HOUR) }, count: 2 },
      ]);
    });

    it('finds the readings that never arrived per device, a seq stored twice counted once and as resent', async () => {
      // Given the seeded readings, with a gap in sensor-a's seq and one seq stored twice
      // When sequence gaps are looked for
      const gaps = await (await seeded()).collection('readings').aggregate(sequenceGaps(LAST_HOUR, 10)).toArray();
      // Then the missing readings are counted and the twice-stored seq is resent once
      expect(gaps).toEqual([{ deviceId: 'sensor-a', first: 0, last: 359, missing: 30, resent: 1 }]);
    });

    it('finds readings received long after their device time', async () => {
      // Given the seeded readings, sensor-b's received ten minutes after their device time
      // When late arrivals are looked for
      const late = await (await seeded())
        .collection('readings')
        .aggregate(lateArrivals(LAST_HOUR, MINUTE, 10))
        .toArray();
      // Then sensor-b is listed with its count and largest delay
      expect(late).toEqual([{ deviceId: 'sensor-b', count: 3, maxDelayMs: 10 * MINUTE }]);
    });
  });
});
