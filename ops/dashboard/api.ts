/**
 * The dashboard's read-only JSON API: parses and checks the query parameters (every problem reported at once, as a
 * 400), runs the queries of `queries.ts` through a ReadableDb, and shapes the answers for the page: series on a full
 * axis of bucket starts with `null` where a bucket has no reading, so charts draw gaps as gaps.
 */
import type { Document } from 'mongodb';
import { UserError } from '../../contracts/errors';
import {
  type Bucket,
  bucketStarts,
  chooseBucket,
  deviceSeries,
  deviceState,
  FLEET_SORTS,
  type FleetQuery,
  FRESHNESS,
  type FreshnessThresholds,
  fleetPage,
  fleetTrends,
  freshnessFilter,
  freshnessOf,
  lateArrivals,
  quarantineByReason,
  quarantineOverTime,
  readingCounts,
  sequenceGaps,
  type TimeRange,
} from './queries';
import type { ReadableDb } from './readable-db';

/** Collection names the dashboard reads (the sink's `COLLECTIONS`). */
export interface DashboardCollections {
  readonly readings: string;
  readonly devices: string;
  readonly quarantine: string;
}

export interface ApiDependencies {
  readonly db: ReadableDb;
  readonly collections: DashboardCollections;
  readonly freshness: FreshnessThresholds;
  /** How often the page refreshes its views (ms). */
  readonly refreshMs: number;
  readonly clock: () => Date;
}

/** Most points a chart receives per series: the bucket size is chosen so that a range never exceeds it. */
export const MAX_POINTS = 500;
/** Longest a query may run on the server. */
const MAX_TIME_MS = 15_000;
const MAX_PAGE_SIZE = 200;
/** Rows of the gap and late-arrival tables. */
const QUALITY_ROWS = 50;

/** Query parameters the caller must fix: each problem, one line each. */
export class BadRequestError extends UserError {
  public override readonly name = 'BadRequestError';
  public constructor(public readonly problems: readonly string[]) {
    super(`bad query parameters: ${problems.join('; ')}`);
  }
}

/** A device id that names no device. */
export class NotFoundError extends UserError {
  public override readonly name = 'NotFoundError';
}

/** Reads parameters, collecting every problem; `done()` throws them all at once. */
class Parameters {
  private readonly problems: string[] = [];

  public constructor(
    private readonly params: URLSearchParams,
    allowed: readonly string[],
  ) {
    for (const name of new Set(params.keys())) {
      const given = params.getAll(name).length;
      if (!allowed.includes(name)) this.problems.push(`unknown parameter "${name}" (expected: ${allowed.join(', ')})`);
      // Reading only the first of `id=a&id=b` would answer for a and silently drop b
      else if (given > 1) this.problems.push(`${name}: given ${given} times; give it once`);
    }
  }

  public text(name: string, maxLength: number): string | undefined {
    const value = this.params.get(name) ?? undefined;
    if (value !== undefined && value.length > maxLength)
      this.problems.push(`${name}: longer than ${maxLength} characters`);
    return value || undefined;
  }

  public required(name: string, maxLength: number): string {
    const value = this.text(name, maxLength);
    if (value === undefined) this.problems.push(`${name}: required`);
    return value ?? '';
  }

  public choice<T extends string>(name: string, choices: readonly T[]): T | undefined;
  public choice<T extends string>(name: string, choices: readonly T[], fallback: T): T;
  public choice<T extends string>(name: string, choices: readonly T[], fallback?: T): T | undefined {
    const value = this.params.get(name);
    if (value === null || value === '') return fallback;
    if (!(choices as readonly string[]).includes(value)) {
      this.problems.push(`${name}: "${value}" is not one of ${choices.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  public whole(name: string, min: number, max: number, fallback: number): number {
    const text = this.params.get(name);
    if (text === null || text === '') return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      this.problems.push(`${name}: "${text}" is not a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  public date(name: string): Date | undefined {
    const text = this.params.get(name);
    if (text === null || text === '') return undefined;
    const value = new Date(/^\d+$/.test(text) ? Number(text) : text);
    if (Number.isNaN(value.getTime())) {
      this.problems.push(`${name}: "${text}" is not a date (ISO 8601 or epoch milliseconds)`);
      return undefined;
    }
    return value;
  }

  public problem(text: string) {
    this.problems.push(text);
  }

  public done() {
    if (this.problems.length > 0) throw new BadRequestError(this.problems);
  }
}

export const RANGES = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;
const RANGE_NAMES = [...(Object.keys(RANGES) as (keyof typeof RANGES)[]), 'custom'] as const;
const RANGE_PARAMETERS = ['range', 'from', 'to'];

/** `range` = hour / day / week (ending now), or custom with `from` and `to`; and the bucket that draws it. */
function readRange(p: Parameters, now: Date): TimeRange & { bucket: Bucket } {
  const name = p.choice('range', RANGE_NAMES, 'hour');
  const from = p.date('from');
  const to = p.date('to');
  let range: TimeRange = { from: new Date(now.getTime() - RANGES.hour), to: now };
  if (name === 'custom') {
    if (!from) p.problem('from: required with range=custom');
    if (!to) p.problem('to: required with range=custom');
    if (from && to && from >= to) p.problem('from: must be before to');
    if (from && to) range = { from, to };
  } else {
    if (from || to) p.problem(`from, to: only with range=custom (range is ${name})`);
    range = { from: new Date(now.getTime() - RANGES[name]), to: now };
  }
  const bucket = chooseBucket(range.from, range.to, MAX_POINTS) ?? { unit: 'day', binSize: 1, ms: RANGES.day };
  if (range.from < range.to && !chooseBucket(range.from, range.to, MAX_POINTS))
    p.problem(`from, to: a range of more than ${MAX_POINTS} days cannot be drawn; choose a shorter one`);
  return { ...range, bucket };
}

interface DeviceStateRow {
  readonly _id: string;
  readonly ts: Date;
  readonly seq: number;
  readonly receivedAt: Date;
  readonly readings: Readonly<Record<string, number>>;
}

/** A device's latest state as the page shows it. */
function deviceRow(state: DeviceStateRow, now: Date, thresholds: FreshnessThresholds) {
  return {
    deviceId: state._id,
    lastSeen: state.ts,
    receivedAt: state.receivedAt,
    seq: state.seq,
    freshness: freshnessOf(state.ts, now, thresholds),
    readings: state.readings,
  };
}

interface BucketRow {
  readonly _id: { readonly kind: string; readonly t: Date };
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  readonly n: number;
}

/** Bucketed rows on a full axis: one entry per bucket start, `null` where a kind has no reading in a bucket. */
function seriesOnAxis(rows: readonly BucketRow[], range: TimeRange & { bucket: Bucket }) {
  const times = bucketStarts(range.from, range.to, range.bucket);
  const index = new Map(times.map((t, i) => [t, i]));
  const series = new Map<
    string,
    { kind: string; min: (number | null)[]; avg: (number | null)[]; max: (number | null)[]; count: number[] }
  >();
  for (const row of rows) {
    const i = index.get(new Date(row._id.t).getTime());
    if (i === undefined) continue;
    let entry = series.get(row._id.kind);
    if (!entry) {
      entry = {
        kind: row._id.kind,
        min: times.map(() => null),
        avg: times.map(() => null),
        max: times.map(() => null),
        count: times.map(() => 0),
      };
      series.set(row._id.kind, entry);
    }
    entry.min[i] = row.min;
    entry.avg[i] = row.avg;
    entry.max[i] = row.max;
    entry.count[i] = row.n;
  }
  return {
    from: range.from,
    to: range.to,
    bucket: range.bucket,
    times,
    series: [...series.values()].sort((a, b) => a.kind.localeCompare(b.kind)),
  };
}

export class DashboardApi {
  public constructor(private readonly deps: ApiDependencies) {}

  private collection(name: keyof DashboardCollections) {
    return this.deps.db.collection(this.deps.collections[name]);
  }

  private aggregate<R extends Document>(name: keyof DashboardCollections, pipeline: Document[]) {
    return this.collection(name).aggregate<R>(pipeline, { maxTimeMS: MAX_TIME_MS }).toArray();
  }

  /** Answers `GET /api/<route>?…`; throws BadRequestError, NotFoundError, or the store's error. */
  public async get(route: string, params: URLSearchParams): Promise<unknown> {
    const now = this.deps.clock();
    switch (route) {
      case 'config':
        new Parameters(params, []).done();
        return {
          refreshMs: this.deps.refreshMs,
          freshness: this.deps.freshness,
          maxPoints: MAX_POINTS,
          ranges: RANGES,
        };
      case 'fleet':
        return this.fleet(params, now);
      case 'device':
        return this.device(params, now);
      case 'trends':
        return this.trends(params, now);
      case 'quality':
        return this.quality(params, now);
      default:
        throw new NotFoundError(`no API route /api/${route} (routes: config, fleet, device, trends, quality)`);
    }
  }

  private async fleet(params: URLSearchParams, now: Date) {
    const p = new Parameters(params, ['search', 'freshness', 'sort', 'order', 'page', 'pageSize']);
    const query: FleetQuery = {
      search: p.text('search', 100),
      freshness: p.choice('freshness', FRESHNESS),
      sort: p.choice('sort', FLEET_SORTS, 'deviceId'),
      order: p.choice('order', ['asc', 'desc'] as const, 'asc'),
      page: p.whole('page', 1, 1_000_000, 1),
      pageSize: p.whole('pageSize', 1, MAX_PAGE_SIZE, 50),
    };
    p.done();
    const { freshness } = this.deps;
    const devices = this.collection('devices');
    const page = fleetPage(query, now, freshness);
    // Every device is in exactly one freshness state: their sum is the fleet, without counting the whole collection
    // (an empty filter scans it; the freshness filters are ranges of `last_seen`)
    const filtered = Object.keys(page.filter).length > 0;
    const [states, byState, matchedCount] = await Promise.all([
      devices.find(page.filter, page.options).toArray() as Promise<DeviceStateRow[]>,
      Promise.all(FRESHNESS.map((state) => devices.countDocuments(freshnessFilter(state, now, freshness)))),
      filtered ? devices.countDocuments(page.filter) : undefined,
    ]);
    const all = byState.reduce((sum, count) => sum + count, 0);
    const matched = matchedCount ?? all;
    const counts = await this.aggregate<{ _id: string; count: number }>(
      'readings',
      readingCounts(states.map((s) => s._id)),
    );
    const countOf = new Map(counts.map((c) => [c._id, c.count]));
    return {
      now,
      freshness,
      counts: { all, ...Object.fromEntries(FRESHNESS.map((state, i) => [state, byState[i] ?? 0])) },
      matched,
      page: query.page,
      pageSize: query.pageSize,
      devices: states.map((state) => ({ ...deviceRow(state, now, freshness), count: countOf.get(state._id) ?? 0 })),
    };
  }

  private async device(params: URLSearchParams, now: Date) {
    const p = new Parameters(params, ['id', ...RANGE_PARAMETERS]);
    const id = p.required('id', 200);
    const range = readRange(p, now);
    p.done();
    const [state] = (await this.collection('devices')
      .find(deviceState(id), { limit: 1 })
      .toArray()) as DeviceStateRow[];
    if (!state) throw new NotFoundError(`no device "${id}" in ${this.deps.collections.devices}`);
    const rows = await this.aggregate<BucketRow>('readings', deviceSeries(id, range, range.bucket));
    return { now, device: deviceRow(state, now, this.deps.freshness), ...seriesOnAxis(rows, range) };
  }

  private async trends(params: URLSearchParams, now: Date) {
    const p = new Parameters(params, RANGE_PARAMETERS);
    const range = readRange(p, now);
    p.done();
    const rows = await this.aggregate<BucketRow>('readings', fleetTrends(range, range.bucket));
    return { now, ...seriesOnAxis(rows, range) };
  }

  private async quality(params: URLSearchParams, now: Date) {
    const p = new Parameters(params, RANGE_PARAMETERS);
    const range = readRange(p, now);
    p.done();
    const lateAfterMs = this.deps.freshness.lateAfterMs;
    const [reasons, overTime, gaps, late] = await Promise.all([
      this.aggregate<{ _id: string; count: number; last: Date }>('quarantine', quarantineByReason(range)),
      this.aggregate<{ _id: { reason: string; t: Date }; count: number }>(
        'quarantine',
        quarantineOverTime(range, range.bucket),
      ),
      this.aggregate('readings', sequenceGaps(range, QUALITY_ROWS)),
      this.aggregate('readings', lateArrivals(range, lateAfterMs, QUALITY_ROWS)),
    ]);
    const times = bucketStarts(range.from, range.to, range.bucket);
    const index = new Map(times.map((t, i) => [t, i]));
    const perReason = new Map<string, number[]>();
    for (const row of overTime) {
      const i = index.get(new Date(row._id.t).getTime());
      if (i === undefined) continue;
      const counts = perReason.get(row._id.reason) ?? times.map(() => 0);
      counts[i] = row.count;
      perReason.set(row._id.reason, counts);
    }
    return {
      now,
      from: range.from,
      to: range.to,
      bucket: range.bucket,
      reasons: reasons.map((r) => ({ reason: r._id, count: r.count, last: r.last })),
      quarantineOverTime: { times, series: [...perReason].map(([reason, counts]) => ({ reason, counts })) },
      gaps,
      late: { afterMs: lateAfterMs, devices: late },
    };
  }
}
