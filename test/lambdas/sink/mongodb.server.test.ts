/**
 * The sink against a real MongoDB server. Runs when MONGODB_URI is set (for example
 * `MONGODB_URI=mongodb://127.0.0.1:27017 npm test`); reported as skipped otherwise. Each run uses its own database
 * and drops it afterwards.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkEnvironmentSchema } from '../../../contracts/environment';
import { createHandler, type SinkHandler } from '../../../lambdas/sink/create-handler';
import { devicePayload, envelope, kafkaEvent, kafkaRecord, lambdaContext, NOW } from '../../helpers/factories';

const uri = process.env.MONGODB_URI;

describe.skipIf(!uri)('sink against a real MongoDB server (MONGODB_URI)', () => {
  const database = `telemetry_test_${process.pid}_${Date.now()}`;
  let client: MongoClient;
  let sink: SinkHandler;
  let timeSeriesSink: SinkHandler;

  beforeAll(async () => {
    client = new MongoClient(uri ?? '');
    await client.connect();
    sink = createHandler(SinkEnvironmentSchema.parse({ MONGODB_URI: uri, MONGODB_DATABASE: database }));
    timeSeriesSink = createHandler(
      SinkEnvironmentSchema.parse({
        MONGODB_URI: uri,
        MONGODB_DATABASE: `${database}_ts`,
        MONGODB_TIME_SERIES: 'true',
      }),
    );
  });

  afterAll(async () => {
    await Promise.all([sink?.close(), timeSeriesSink?.close()]);
    await client?.db(database).dropDatabase();
    await client?.db(`${database}_ts`).dropDatabase();
    await client?.close();
  });

  const records = () =>
    Array.from({ length: 20 }, (_, i) =>
      kafkaRecord(envelope(`sensor-${i % 4}`, devicePayload({ seq: i, ts: NOW - 20_000 + i * 100 })), { offset: i }),
    );

  it('stores each reading once across replays, and the newest state per device', async () => {
    // Given 20 readings from 4 devices, and a record with an unsafe key
    const batch = [...records(), kafkaRecord({ ...envelope(), $where: '1' }, { offset: 99 })];
    // When the batch is handled three times, no record failing
    for (let i = 0; i < 3; i++) {
      const response = await sink(kafkaEvent(batch), lambdaContext(20_000, 'telemetry-sink'));
      expect(response.batchItemFailures).toEqual([]);
    }
    // Then each reading is stored once, each device has its newest state, the unsafe record is quarantined with 3
    // attempts, and the readings' and devices' query indexes exist
    const db = client.db(database);
    expect(await db.collection('readings').countDocuments()).toBe(20);
    expect(await db.collection('devices').findOne({ _id: 'sensor-3' as never })).toMatchObject({ seq: 19 });
    expect(await db.collection('quarantine').findOne({ _id: 'telemetry.readings.v1-0@99' as never })).toMatchObject({
      reason: 'unsafe_key',
      attempts: 3,
    });
    const indexes = (await db.collection('readings').indexes()).map((index) => index.name);
    expect(indexes).toContain('device_time');
    // The dashboard's freshness counts and pages by last seen (ops/dashboard/queries.ts)
    expect((await db.collection('devices').indexes()).map((index) => index.name)).toContain('last_seen');
  });

  it('with a time-series collection, still stores each reading once across replays', async () => {
    // Given a sink that writes to a time-series collection
    // When the 20 readings are handled twice, no record failing
    for (let i = 0; i < 2; i++) {
      const response = await timeSeriesSink(kafkaEvent(records()), lambdaContext(20_000, 'telemetry-sink'));
      expect(response.batchItemFailures).toEqual([]);
    }
    // Then each reading is stored once, in a time-series collection
    const db = client.db(`${database}_ts`);
    expect(await db.collection('readings').countDocuments()).toBe(20);
    const info = await db.listCollections({ name: 'readings' }).toArray();
    expect(info[0]?.type).toBe('timeseries');
  });
});
