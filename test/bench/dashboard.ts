/**
 * Dashboard benchmark (a script, not a test): `npm run bench:dashboard`.
 *
 * 1,000 devices × one day at one reading per 10 s (8,640,000 readings, two kinds each), their device states and 1,000
 * quarantined records, in the in-memory store (mingo over arrays, as `local --demo` runs it) and, when MONGODB_URI is
 * set, in a fresh database of that server with the indexes the sink creates (`--time-series`: readings in a
 * time-series collection). Times what each view's API call takes, through the dashboard's own API code: the fleet
 * overview (first page by last seen, with the freshness counts and reading counts), one device's week, the fleet
 * trends over the day and over the last hour, and the data quality panel over the last hour. On a server: median of 3
 * runs after a warm-up. In memory: one run each (mingo has no indexes: every view reads every reading, about a minute
 * each at this size). The database is dropped afterwards.
 *
 * Options: `--devices N` (default 1000), `--hours H` (default 24).
 */
import { performance } from 'node:perf_hooks';
import { type Document, MongoClient } from 'mongodb';
import type { DeviceStateDocument, ReadingDocument } from '../../lambdas/sink/documents';
import { COLLECTIONS } from '../../lambdas/sink/mongo/collections';
import { MongoConnection } from '../../lambdas/sink/mongo/connection';
import { DashboardApi } from '../../ops/dashboard/api';
import type { ReadableDb } from '../../ops/dashboard/readable-db';
import { keepNewest, quarantineDocument } from '../helpers/dashboard-data';
import { MingoDb } from '../helpers/mingo-db';
import { RecordingLogger } from '../helpers/recorders';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const DEVICES = argument('--devices', 1_000);
const HOURS = argument('--hours', 24);
const TIME_SERIES = process.argv.includes('--time-series');
const INTERVAL_MS = 10_000;
const NOW = new Date(Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS);

/** Generates the readings device by device, in chunks (a server takes them in batches). */
function* readingChunks(chunk: number): Generator<ReadingDocument[]> {
  const perDevice = (HOURS * 3_600_000) / INTERVAL_MS;
  const start = NOW.getTime() - HOURS * 3_600_000;
  let batch: ReadingDocument[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const deviceId = `sensor-${String(d).padStart(4, '0')}`;
    const sourceTopic = `devices/${deviceId}/telemetry`;
    const kafka = { partition: d % 6, offset: 0 };
    for (let seq = 0; seq < perDevice; seq++) {
      // Every 100th device lost a minute of readings (seq gaps) and is a little late about the rest
      if (d % 100 === 0 && seq % 1_000 < 6) continue;
      const ts = new Date(start + seq * INTERVAL_MS + (d % 10) * 100);
      const receivedAt = new Date(ts.getTime() + (d % 100 === 0 ? 90_000 : 150));
      const _id = `${deviceId}:${ts.getTime()}:${seq}`;
      batch.push({
        _id,
        deviceId,
        ts,
        seq,
        receivedAt,
        readings: { temperature: 20 + 5 * Math.sin((seq + d) / 300), humidity: 40 + (seq % 20) },
        traceId: 'bench',
        sourceTopic,
        kafka,
        storedAt: receivedAt,
        ...(TIME_SERIES ? { eventId: _id } : {}),
      });
      if (batch.length === chunk) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

const quarantine = () =>
  Array.from({ length: 1_000 }, (_, i) =>
    quarantineDocument(
      ['invalid_json', 'schema', 'unsafe_key'][i % 3] ?? 'schema',
      new Date(NOW.getTime() - i * 60_000),
    ),
  );

const VIEWS: readonly { name: string; route: string; params: Record<string, string> }[] = [
  {
    name: 'fleet overview (page 1 of 50, by last seen)',
    route: 'fleet',
    params: { sort: 'lastSeen', order: 'desc' },
  },
  {
    name: "one device's week",
    route: 'device',
    params: { id: `sensor-${String(Math.floor(DEVICES * 0.42)).padStart(4, '0')}`, range: 'week' },
  },
  { name: 'fleet trends, last day', route: 'trends', params: { range: 'day' } },
  { name: 'fleet trends, last hour', route: 'trends', params: { range: 'hour' } },
  { name: 'data quality, last hour', route: 'quality', params: { range: 'hour' } },
];

async function time(db: ReadableDb, runs: number, warmUp: boolean): Promise<void> {
  const api = new DashboardApi({
    db,
    collections: COLLECTIONS,
    freshness: { lateAfterMs: 60_000, silentAfterMs: 600_000 },
    refreshMs: 5_000,
    clock: () => NOW,
  });
  for (const view of VIEWS) {
    const call = () => api.get(view.route, new URLSearchParams(view.params));
    if (warmUp) await call();
    const figures: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await call();
      figures.push(performance.now() - started);
    }
    const median = figures.sort((a, b) => a - b)[Math.floor(figures.length / 2)] ?? Number.NaN;
    console.log(`  ${view.name.padEnd(46)} ${median.toFixed(0).padStart(7)} ms (median of ${figures.length})`);
  }
}

async function inMemory(): Promise<void> {
  const db = new MingoDb();
  const readings = db.documents(COLLECTIONS.readings);
  const states = new Map<string, DeviceStateDocument>();
  const started = performance.now();
  for (const chunk of readingChunks(100_000)) {
    for (const r of chunk) readings.push(r);
    keepNewest(chunk, states);
  }
  db.documents(COLLECTIONS.devices).push(...states.values());
  db.documents(COLLECTIONS.quarantine).push(...quarantine());
  console.log(
    `In memory (mingo): ${readings.length.toLocaleString()} readings of ${states.size} devices generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await time(db, 1, false);
}

async function onServer(uri: string): Promise<void> {
  const database = `telemetry_dashboard_bench_${process.pid}`;
  const client = new MongoClient(uri);
  await client.connect();
  try {
    const connection = new MongoConnection({
      uri,
      database,
      maxPoolSize: 2,
      timeSeries: TIME_SERIES,
      logger: new RecordingLogger(),
    });
    await connection.collections(30_000);
    await connection.close();
    const db = client.db(database);
    const states = new Map<string, DeviceStateDocument>();
    const started = performance.now();
    let count = 0;
    for (const chunk of readingChunks(10_000)) {
      await db.collection(COLLECTIONS.readings).insertMany(chunk as Document[], { ordered: false });
      keepNewest(chunk, states);
      count += chunk.length;
    }
    await db.collection(COLLECTIONS.devices).insertMany([...states.values()] as Document[]);
    await db.collection(COLLECTIONS.quarantine).insertMany(quarantine() as Document[]);
    console.log(
      `MongoDB (${TIME_SERIES ? 'time-series' : 'regular'} collection): ${count.toLocaleString()} readings loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    await time(db, 3, true);
  } finally {
    await client.db(database).dropDatabase();
    await client.close();
  }
}

async function main(): Promise<void> {
  console.log(`Dashboard views over ${DEVICES} devices × ${HOURS} h at one reading per 10 s`);
  await inMemory();
  const uri = process.env.MONGODB_URI;
  if (uri) await onServer(uri);
  else console.log('MongoDB: skipped (set MONGODB_URI to time a real server too)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
