/**
 * The dashboard's queries against a real MongoDB server, in both storage modes, with the indexes the sink creates:
 * the same answers as `local`'s in-memory store (mingo) on the same generated data, and winning plans that use an index. Runs when MONGODB_URI
 * is set (for example `MONGODB_URI=mongodb://127.0.0.1:27017 npx vitest run test/ops/dashboard`); reported as
 * skipped otherwise. Each run uses its own databases and drops them afterwards.
 */
import { type Db, type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../../lambdas/sink/mongo/collections';
import { MongoConnection } from '../../../lambdas/sink/mongo/connection';
import {
  chooseBucket,
  deviceSeries,
  type FreshnessThresholds,
  fleetPage,
  fleetTrends,
  freshnessFilter,
  lateArrivals,
  quarantineByReason,
  quarantineOverTime,
  readingCounts,
  sequenceGaps,
} from '../../../ops/dashboard/queries';
import type { ReadableDb } from '../../../ops/dashboard/readable-db';
import type { MemoryDb } from '../../../tools/local/memory-store';
import { HOUR, knownFleet, MINUTE, memoryDbWith } from '../../helpers/dashboard-data';
import { RecordingLogger } from '../../helpers/recorders';

const uri = process.env.MONGODB_URI;
const NOW = new Date('2026-12-01T09:00:00Z');
const THRESHOLDS: FreshnessThresholds = { lateAfterMs: MINUTE, silentAfterMs: 15 * MINUTE };
const LAST_HOUR = { from: new Date(NOW.getTime() - HOUR), to: NOW };
const TEN_SECONDS = chooseBucket(LAST_HOUR.from, LAST_HOUR.to, 500);
if (!TEN_SECONDS) throw new Error('no bucket for an hour');

interface Query {
  readonly name: string;
  readonly collection: keyof typeof COLLECTIONS;
  readonly find?: ReturnType<typeof fleetPage>;
  readonly count?: Document;
  readonly pipeline?: Document[];
}

/** Every query the dashboard runs, with the parameters its views use. */
const QUERIES: readonly Query[] = [
  ...(['deviceId', 'lastSeen'] as const).flatMap((sort) =>
    (['asc', 'desc'] as const).map((order) => ({
      name: `fleet page by ${sort} ${order}`,
      collection: 'devices' as const,
      find: fleetPage({ sort, order, page: 1, pageSize: 2 }, NOW, THRESHOLDS),
    })),
  ),
  {
    name: 'fleet page, searched and late',
    collection: 'devices',
    find: fleetPage(
      { sort: 'lastSeen', order: 'desc', page: 1, pageSize: 50, search: 'sensor', freshness: 'late' },
      NOW,
      THRESHOLDS,
    ),
  },
  ...(['fresh', 'late', 'silent'] as const).map((state) => ({
    name: `${state} devices`,
    collection: 'devices' as const,
    count: freshnessFilter(state, NOW, THRESHOLDS),
  })),
  { name: 'reading counts', collection: 'readings', pipeline: readingCounts(['sensor-a', 'sensor-b']) },
  { name: "a device's range", collection: 'readings', pipeline: deviceSeries('sensor-a', LAST_HOUR, TEN_SECONDS) },
  { name: 'fleet trends', collection: 'readings', pipeline: fleetTrends(LAST_HOUR, TEN_SECONDS) },
  { name: 'sequence gaps', collection: 'readings', pipeline: sequenceGaps(LAST_HOUR, 50) },
  { name: 'late arrivals', collection: 'readings', pipeline: lateArrivals(LAST_HOUR, MINUTE, 50) },
  { name: 'quarantine by reason', collection: 'quarantine', pipeline: quarantineByReason(LAST_HOUR) },
  {
    name: 'quarantine over time',
    collection: 'quarantine',
    pipeline: quarantineOverTime(LAST_HOUR, TEN_SECONDS),
  },
];

/** Time-series mode: queries whose plan must use an index there too (the device range and the `devices` ones). */
const INDEXED_IN_TIME_SERIES = (query: Query) => query.collection === 'devices' || query.name === "a device's range";

function run(db: ReadableDb, query: Query): Promise<unknown> {
  const collection = db.collection(COLLECTIONS[query.collection]);
  if (query.find) return collection.find(query.find.filter, query.find.options).toArray();
  if (query.count) return collection.countDocuments(query.count);
  return collection.aggregate(query.pipeline ?? []).toArray();
}

/** Results compared across engines: rounded floats, and groups (unordered by definition) sorted. */
function normal(value: unknown, query: Query): unknown {
  const round = (v: unknown): unknown =>
    typeof v === 'number'
      ? Math.round(v * 1e9) / 1e9
      : v instanceof Date
        ? v.toISOString()
        : Array.isArray(v)
          ? v.map(round)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)]))
            : v;
  const rounded = round(value);
  return query.name === 'reading counts' && Array.isArray(rounded)
    ? [...rounded].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    : rounded;
}

async function plan(db: Db, query: Query): Promise<string> {
  const collection = db.collection(COLLECTIONS[query.collection]);
  if (query.find) {
    return JSON.stringify(await collection.find(query.find.filter, query.find.options).explain('queryPlanner'));
  }
  if (query.count)
    return JSON.stringify(
      await collection.aggregate([{ $match: query.count }, { $count: 'n' }]).explain('queryPlanner'),
    );
  return JSON.stringify(await collection.aggregate(query.pipeline ?? []).explain('queryPlanner'));
}

describe.skipIf(!uri)('dashboard queries on a real MongoDB server (MONGODB_URI)', () => {
  const name = `telemetry_dashboard_${process.pid}_${Date.now()}`;
  let client: MongoClient;
  const modes = [
    { mode: 'regular collection', database: name, timeSeries: false },
    { mode: 'time-series collection', database: `${name}_ts`, timeSeries: true },
  ] as const;

  beforeAll(async () => {
    client = new MongoClient(uri ?? '');
    await client.connect();
    for (const { database, timeSeries } of modes) {
      // The sink's own index (and time-series collection) creation, as on its first cold start
      const connection = new MongoConnection({
        uri,
        database,
        maxPoolSize: 2,
        timeSeries,
        logger: new RecordingLogger(),
      });
      await connection.collections(20_000);
      await connection.close();
      const db = client.db(database);
      for (const [collection, documents] of Object.entries(knownFleet(NOW, timeSeries)))
        await db.collection(collection).insertMany(documents as Document[]);
    }
  });

  afterAll(async () => {
    for (const { database } of modes) await client?.db(database).dropDatabase();
    await client?.close();
  });

  for (const { mode, database, timeSeries } of modes) {
    describe(mode, () => {
      // `local`'s in-memory store (queries by mingo, an independent engine of the query language) must answer alike
      let memory: MemoryDb;
      beforeAll(async () => {
        memory = await memoryDbWith(knownFleet(NOW, timeSeries));
      });

      for (const query of QUERIES) {
        it(`${query.name}: the same answer as the in-memory store`, async () => {
          // Given the known fleet in a real MongoDB and in local's in-memory store
          // When the query runs on both
          const server = await run(client.db(database), query);
          // Then the answers are the same
          expect(normal(server, query)).toEqual(normal(await run(memory, query), query));
        });

        if (!timeSeries || INDEXED_IN_TIME_SERIES(query)) {
          it(`${query.name}: the winning plan uses an index`, async () => {
            // Given the known fleet in a real MongoDB, indexed as the sink creates it
            // When the query's plan is explained
            const explained = await plan(client.db(database), query);
            // Then the winning plan scans an index, not the collection
            expect(explained).not.toMatch(/"COLLSCAN"/);
            expect(explained).toMatch(/IXSCAN/);
          });
        }
      }
    });
  }
});
