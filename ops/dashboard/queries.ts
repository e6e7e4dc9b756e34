/**
 * Every query the sensor-data dashboard runs, as pure functions returning MongoDB filters and aggregation pipelines:
 * the only place its queries live, so the tests run exactly these documents through an independent engine (mingo)
 * and a real server, and `local --demo`'s in-memory store runs the same documents as production.
 *
 * What the sink's indexes serve (created in lambdas/sink/mongo/connection.ts):
 * - `devices`: `_id` (fleet pages by device, search, a device's latest state) and `last_seen` `{ts: -1, _id: -1}`
 *   (freshness counts and filters, pages by last seen with ties by id, in either direction).
 * - `readings`, regular collection: `device_time` `{deviceId: 1, ts: -1}`. A device's range is a bounded scan of it.
 *   Fleet-wide queries put a predicate on `deviceId` that matches every device id (`{$gte: ''}`: device ids are
 *   strings, and string comparison puts '' first) so the planner may use `device_time` with bounds on `ts`; the index
 *   scan then seeks from one device's slice of the range to the next instead of reading the whole collection.
 * - `readings`, time-series collection (metaField `deviceId`, timeField `ts`): the compound `{deviceId: 1, ts: 1}`
 *   index MongoDB creates on new time-series collections since 6.3 ("Add Secondary Indexes to Time Series
 *   Collections", https://www.mongodb.com/docs/manual/core/timeseries/timeseries-secondary-index/); the same
 *   predicates are pushed down to the buckets' `meta` and `control.min/max.ts`.
 * - `quarantine`: `reason_time` `{reason: 1, firstFailedAt: -1}`, with the same every-value predicate on `reason`.
 *
 * Buckets use `$dateTrunc` ("$dateTrunc (aggregation)",
 * https://www.mongodb.com/docs/manual/reference/operator/aggregation/dateTrunc/): for units other than `week` bins
 * count from 2000-01-01T00:00:00Z, so every bin size chosen here (each divides a day) starts on clock boundaries.
 */
import type { Document } from 'mongodb';

/** When a device counts as late or silent, from the age of its newest reading's device time. */
export interface FreshnessThresholds {
  /** Older than this (ms): late. */
  readonly lateAfterMs: number;
  /** Older than this (ms): silent. */
  readonly silentAfterMs: number;
}

export const FRESHNESS = ['fresh', 'late', 'silent'] as const;
export type Freshness = (typeof FRESHNESS)[number];

/** The freshness of a device last seen at `lastSeen`. */
export function freshnessOf(lastSeen: Date, now: Date, thresholds: FreshnessThresholds): Freshness {
  const age = now.getTime() - lastSeen.getTime();
  if (age > thresholds.silentAfterMs) return 'silent';
  if (age > thresholds.lateAfterMs) return 'late';
  return 'fresh';
}

/** The `devices` filter selecting one freshness state, by the newest reading's device time. */
export function freshnessFilter(state: Freshness, now: Date, thresholds: FreshnessThresholds): Document {
  const lateCut = new Date(now.getTime() - thresholds.lateAfterMs);
  const silentCut = new Date(now.getTime() - thresholds.silentAfterMs);
  if (state === 'fresh') return { ts: { $gte: lateCut } };
  if (state === 'late') return { ts: { $lt: lateCut, $gte: silentCut } };
  return { ts: { $lt: silentCut } };
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const FLEET_SORTS = ['deviceId', 'lastSeen'] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

export interface FleetQuery {
  /** Part of a device id, case-insensitive, taken literally. */
  readonly search?: string;
  readonly freshness?: Freshness;
  readonly sort: FleetSort;
  readonly order: 'asc' | 'desc';
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
}

/** The `devices` filter of a fleet page: search and freshness. */
export function fleetFilter(
  query: Pick<FleetQuery, 'search' | 'freshness'>,
  now: Date,
  thresholds: FreshnessThresholds,
) {
  const filter: Document = {};
  if (query.search) filter._id = { $regex: escapeRegex(query.search), $options: 'i' };
  if (query.freshness) Object.assign(filter, freshnessFilter(query.freshness, now, thresholds));
  return filter;
}

/** A page of `devices` (the latest state per device, one document each): the filter, and sort, skip and limit. */
export function fleetPage(query: FleetQuery, now: Date, thresholds: FreshnessThresholds) {
  const direction = query.order === 'asc' ? 1 : -1;
  // `_id` breaks ties between devices last seen at the same instant, so pages neither repeat nor skip a device
  const sort: Document = query.sort === 'deviceId' ? { _id: direction } : { ts: direction, _id: direction };
  return {
    filter: fleetFilter(query, now, thresholds),
    options: { sort, skip: (query.page - 1) * query.pageSize, limit: query.pageSize },
  } as const;
}

/** Readings stored per device, for the devices of one page. */
export function readingCounts(deviceIds: readonly string[]): Document[] {
  return [{ $match: { deviceId: { $in: [...deviceIds] } } }, { $group: { _id: '$deviceId', count: { $sum: 1 } } }];
}

/** A bucket size for `$dateTrunc`. */
export interface Bucket {
  readonly unit: 'second' | 'minute' | 'hour' | 'day';
  readonly binSize: number;
  readonly ms: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bucket sizes on offer, smallest first; each divides a day, so buckets start on clock boundaries. */
export const BUCKETS: readonly Bucket[] = [
  { unit: 'second', binSize: 1, ms: SECOND },
  { unit: 'second', binSize: 5, ms: 5 * SECOND },
  { unit: 'second', binSize: 10, ms: 10 * SECOND },
  { unit: 'second', binSize: 30, ms: 30 * SECOND },
  { unit: 'minute', binSize: 1, ms: MINUTE },
  { unit: 'minute', binSize: 5, ms: 5 * MINUTE },
  { unit: 'minute', binSize: 10, ms: 10 * MINUTE },
  { unit: 'minute', binSize: 15, ms: 15 * MINUTE },
  { unit: 'minute', binSize: 30, ms: 30 * MINUTE },
  { unit: 'hour', binSize: 1, ms: HOUR },
  { unit: 'hour', binSize: 2, ms: 2 * HOUR },
  { unit: 'hour', binSize: 3, ms: 3 * HOUR },
  { unit: 'hour', binSize: 6, ms: 6 * HOUR },
  { unit: 'hour', binSize: 12, ms: 12 * HOUR },
  { unit: 'day', binSize: 1, ms: DAY },
];

/** The start of the bucket holding `time` (as `$dateTrunc` computes it for these sizes). */
export const bucketStart = (time: number, bucket: Bucket) => Math.floor(time / bucket.ms) * bucket.ms;

/** The bucket starts covering [from, to): what a chart's x axis holds, empty buckets included. */
export function bucketStarts(from: Date, to: Date, bucket: Bucket): number[] {
  const starts: number[] = [];
  for (let t = bucketStart(from.getTime(), bucket); t < to.getTime(); t += bucket.ms) starts.push(t);
  return starts;
}

/**
 * The smallest bucket that splits [from, to) into at most `maxPoints` buckets, or undefined when even a day is too
 * small (the range is too long to draw).
 */
export function chooseBucket(from: Date, to: Date, maxPoints: number): Bucket | undefined {
  return BUCKETS.find(
    (bucket) =>
      (bucketStart(to.getTime() - 1, bucket) - bucketStart(from.getTime(), bucket)) / bucket.ms + 1 <= maxPoints,
  );
}

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** Per reading kind and bucket: min / avg / max / count of the readings matched by `match`, sorted by kind then time. */
function bucketedReadings(match: Document, bucket: Bucket): Document[] {
  return [
    { $match: match },
    {
      $project: {
        _id: 0,
        t: { $dateTrunc: { date: '$ts', unit: bucket.unit, binSize: bucket.binSize } },
        r: { $objectToArray: '$readings' },
      },
    },
    { $unwind: '$r' },
    {
      $group: {
        _id: { kind: '$r.k', t: '$t' },
        min: { $min: '$r.v' },
        avg: { $avg: '$r.v' },
        max: { $max: '$r.v' },
        n: { $sum: 1 },
      },
    },
    { $sort: { '_id.kind': 1, '_id.t': 1 } },
  ];
}

/** Every device id (a string) matches: lets the planner scan `device_time` with bounds on `ts` (module comment). */
const EVERY_DEVICE = { $gte: '' } as const;

const timeWindow = (range: TimeRange) => ({ $gte: range.from, $lt: range.to });

/** One device's readings in a range, bucketed: the device view's charts. */
export function deviceSeries(deviceId: string, range: TimeRange, bucket: Bucket): Document[] {
  return bucketedReadings({ deviceId, ts: timeWindow(range) }, bucket);
}

/** All devices' readings in a range, bucketed: the fleet trends. */
export function fleetTrends(range: TimeRange, bucket: Bucket): Document[] {
  return bucketedReadings({ deviceId: EVERY_DEVICE, ts: timeWindow(range) }, bucket);
}

/** One device's latest state (`devices`, `_id` = deviceId). */
export const deviceState = (deviceId: string): Document => ({ _id: deviceId });

/**
 * The sink's quarantined records since `range.from` per reason, most frequent first, with the newest failure. Only
 * the sink's quarantine: what the forwarder rejects is in the ingest dead-letter queue, which MongoDB does not hold.
 */
export function quarantineByReason(range: TimeRange): Document[] {
  return [
    { $match: { reason: EVERY_DEVICE, firstFailedAt: timeWindow(range) } },
    { $group: { _id: '$reason', count: { $sum: 1 }, last: { $max: '$firstFailedAt' } } },
    { $sort: { count: -1, _id: 1 } },
  ];
}

/** Quarantined records per reason and bucket of first failure. */
export function quarantineOverTime(range: TimeRange, bucket: Bucket): Document[] {
  return [
    { $match: { reason: EVERY_DEVICE, firstFailedAt: timeWindow(range) } },
    {
      $group: {
        _id: {
          reason: '$reason',
          t: { $dateTrunc: { date: '$firstFailedAt', unit: bucket.unit, binSize: bucket.binSize } },
        },
        count: { $sum: 1 },
      },
    },
    { $sort: { '_id.reason': 1, '_id.t': 1 } },
  ];
}

/**
 * Per device in the range, readings that never arrived and readings resent under one `seq`: a device numbers its
 * readings with `seq`, so between its lowest and highest `seq` every number should be stored once. A device that
 * resends a reading with another `ts` gives it another eventId, so the sink stores it again, under the same `seq`:
 * such a `seq` counts once towards what is missing, and each extra copy as `resent` (the store keeps them all).
 * Devices that send no `seq` (-1) are left out. Worst first, `limit`.
 */
export function sequenceGaps(range: TimeRange, limit: number): Document[] {
  return [
    { $match: { deviceId: EVERY_DEVICE, ts: timeWindow(range), seq: { $gte: 0 } } },
    { $group: { _id: { deviceId: '$deviceId', seq: '$seq' }, copies: { $sum: 1 } } },
    {
      $group: {
        _id: '$_id.deviceId',
        first: { $min: '$_id.seq' },
        last: { $max: '$_id.seq' },
        distinct: { $sum: 1 },
        stored: { $sum: '$copies' },
      },
    },
    {
      $project: {
        _id: 0,
        deviceId: '$_id',
        first: 1,
        last: 1,
        missing: { $subtract: [{ $add: [{ $subtract: ['$last', '$first'] }, 1] }, '$distinct'] },
        resent: { $subtract: ['$stored', '$distinct'] },
      },
    },
    { $match: { $or: [{ missing: { $gt: 0 } }, { resent: { $gt: 0 } }] } },
    { $sort: { missing: -1, resent: -1, deviceId: 1 } },
    { $limit: limit },
  ];
}

/**
 * Per device in the range, readings that reached IoT Core more than `lateAfterMs` after their device time (buffered
 * on the device, or a device clock behind): most first, `limit`.
 */
export function lateArrivals(range: TimeRange, lateAfterMs: number, limit: number): Document[] {
  const delay = { $subtract: ['$receivedAt', '$ts'] };
  return [
    { $match: { deviceId: EVERY_DEVICE, ts: timeWindow(range), $expr: { $gt: [delay, lateAfterMs] } } },
    { $group: { _id: '$deviceId', count: { $sum: 1 }, maxDelayMs: { $max: delay } } },
    { $project: { _id: 0, deviceId: '$_id', count: 1, maxDelayMs: 1 } },
    { $sort: { count: -1, deviceId: 1 } },
    { $limit: limit },
  ];
}
