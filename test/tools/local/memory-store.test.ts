/**
 * The in-memory store behaves as MongoDB does where the sink and the dashboard depend on it: unique `_id`, upserts,
 * conditional upserts that collide, unordered bulk writes past failures (with the driver's own error classes),
 * queries and aggregation — and the sink runs on it unchanged (the same scenario as the real-server test,
 * test/lambdas/sink/mongodb.server.test.ts).
 */

import { MessageChannel } from 'node:worker_threads';
import { type Document, MongoBulkWriteError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { SinkEnvironmentSchema } from '../../../contracts/environment';
import { createHandler } from '../../../lambdas/sink/create-handler';
import { classifyMongoError } from '../../../lambdas/sink/mongo/errors';
import { UpsertReadingStore } from '../../../lambdas/sink/mongo/reading-stores';
import { MemoryCollection, MemoryDb, memorySinkCollections } from '../../../tools/local/memory-store';
import {
  MemoryStoreCallError,
  remoteSinkCollections,
  serveMemoryStore,
} from '../../../tools/local/memory-store-channel';
import { devicePayload, envelope, kafkaEvent, kafkaRecord, lambdaContext, NOW } from '../../helpers/factories';

/** Documents keyed by a string `_id`, as the sink's are. */
type Doc = Document & { _id: string };

const at = (iso: string) => new Date(`2026-01-01T${iso}Z`);

async function bulkError(promise: Promise<unknown>): Promise<MongoBulkWriteError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof MongoBulkWriteError)) throw new Error(`expected a MongoBulkWriteError, got ${String(error)}`);
  return error;
}

describe('MemoryCollection: writes', () => {
  it('keeps _id unique: a second insert fails with E11000, classified as a duplicate', async () => {
    // Given a collection holding _id "a"
    const collection = new MemoryCollection<Doc>('t.readings');
    await collection.insertOne({ _id: 'a', v: 1 });

    // When another document with _id "a" is inserted
    const error = await bulkError(collection.insertOne({ _id: 'a', v: 2 }));

    // Then it fails with E11000, the sink's classifier calls it a duplicate, and the first stays
    expect(error.code).toBe(11000);
    expect(classifyMongoError([error.writeErrors].flat()[0])).toBe('duplicate');
    expect(await collection.find({ _id: 'a' }).toArray()).toEqual([{ _id: 'a', v: 1 }]);
  });

  it('carries on past a failed operation when unordered, stops at it when ordered', async () => {
    // Given two empty collections and three inserts, the second repeating the first's _id
    const unordered = new MemoryCollection<Doc>('t.u');
    const ordered = new MemoryCollection<Doc>('t.o');
    const operations = [
      { insertOne: { document: { _id: 'a' } } },
      { insertOne: { document: { _id: 'a' } } },
      { insertOne: { document: { _id: 'b' } } },
    ];

    // When one takes them unordered, the other ordered
    const loose = await bulkError(unordered.bulkWrite(operations, { ordered: false }));
    const strict = await bulkError(ordered.bulkWrite(operations, { ordered: true }));

    // Then unordered inserts the other two, ordered stops at the failure
    expect([loose.writeErrors].flat().map((e) => [e.index, e.code])).toEqual([[1, 11000]]);
    expect(loose.result.insertedCount).toBe(2);
    expect(unordered.size).toBe(2);
    expect(strict.result.insertedCount).toBe(1);
    expect(ordered.size).toBe(1);
  });

  it('inserts with $setOnInsert once; a replay matches and changes nothing', async () => {
    // Given an upsert that only sets fields on insert
    const collection = new MemoryCollection<Doc>('t.readings');
    const upsert = {
      updateOne: { filter: { _id: 'e1' }, update: { $setOnInsert: { v: 1, ts: at('00:00:00') } }, upsert: true },
    };

    // When it runs twice
    const first = await collection.bulkWrite([upsert], { ordered: false });
    const replay = await collection.bulkWrite([upsert], { ordered: false });

    // Then the first inserts, the replay matches and changes nothing
    expect(first.upsertedIds).toEqual({ 0: 'e1' });
    expect(replay.upsertedIds).toEqual({});
    expect(replay.matchedCount).toBe(1);
    expect(replay.modifiedCount).toBe(0);
    expect(await collection.find({}).toArray()).toEqual([{ _id: 'e1', v: 1, ts: at('00:00:00') }]);
  });

  it('a conditional upsert on an existing _id that the condition rejects collides (E11000); one it accepts updates', async () => {
    // Given a device state at 00:00:10 seq 5 and the sink's conditional upsert
    const devices = new MemoryCollection<Doc>('t.devices');
    await devices.insertOne({ _id: 'd1', ts: at('00:00:10'), seq: 5 });
    const newer = (ts: Date, seq: number) => ({
      updateOne: {
        filter: { _id: 'd1', $or: [{ ts: { $lt: ts } }, { ts, seq: { $lt: seq } }] },
        update: { $set: { ts, seq } },
        upsert: true,
      },
    });

    // When an older state and a newer one (same ts, higher seq) are upserted
    const stale = await bulkError(devices.bulkWrite([newer(at('00:00:05'), 9)], { ordered: false }));
    const fresh = await devices.bulkWrite([newer(at('00:00:10'), 6)], { ordered: false });

    // Then the older collides with E11000 and the newer updates
    expect(stale.code).toBe(11000);
    expect(fresh.modifiedCount).toBe(1);
    expect(await devices.find({ _id: 'd1' }).toArray()).toEqual([{ _id: 'd1', ts: at('00:00:10'), seq: 6 }]);
  });

  it('applies $inc on insert and on replay, next to $setOnInsert', async () => {
    // Given an upsert that sets a reason on insert and increments attempts
    const quarantine = new MemoryCollection<Doc>('t.quarantine');
    const park = {
      updateOne: {
        filter: { _id: 'q' },
        update: { $setOnInsert: { reason: 'x' }, $inc: { attempts: 1 } },
        upsert: true,
      },
    };

    // When it runs twice
    await quarantine.bulkWrite([park]);
    await quarantine.bulkWrite([park]);

    // Then the reason was set once and attempts counted twice
    expect(await quarantine.find({}).toArray()).toEqual([{ _id: 'q', reason: 'x', attempts: 2 }]);
  });

  it('refuses to change _id (code 66) and a document over 16 MiB (code 10334), as write errors', async () => {
    // Given a collection holding _id "a"
    const collection = new MemoryCollection<Doc>('t.x');
    await collection.insertOne({ _id: 'a' });

    // When an update changes its _id and an insert exceeds 16 MiB
    const changed = await bulkError(
      collection.bulkWrite([{ updateOne: { filter: { _id: 'a' }, update: { $set: { _id: 'b' } } } }]),
    );
    const large = await bulkError(collection.insertOne({ _id: 'big', blob: 'x'.repeat(16 * 1024 * 1024) }));

    // Then both fail with MongoDB's codes, the size one classified permanent
    expect(changed.code).toBe(66);
    expect(large.code).toBe(10334);
    expect(classifyMongoError([large.writeErrors].flat()[0])).toBe('permanent');
  });

  it('never shares objects with its callers', async () => {
    // Given a document inserted, then changed by the caller
    const collection = new MemoryCollection<Doc>('t.x');
    const document = { _id: 'a', nested: { v: 1 } };
    await collection.insertOne(document);
    document.nested.v = 2;
    // When a read result is changed by the caller too
    const [read] = await collection.find({}).toArray();
    (read as unknown as { nested: { v: number } }).nested.v = 3;

    // Then the stored document is the one inserted
    expect(await collection.find({}).toArray()).toEqual([{ _id: 'a', nested: { v: 1 } }]);
  });
});

describe('MemoryCollection: reads', () => {
  const readings = async () => {
    const collection = new MemoryDb('t').collection<Doc>('readings');
    await collection.bulkWrite(
      [
        ['r1', 'd1', '00:01:10', 20],
        ['r2', 'd1', '00:01:50', 22],
        ['r3', 'd2', '00:03:00', 30],
        ['r4', 'd1', '00:02:30', 21],
      ].map(([_id, deviceId, time, temperature]) => ({
        insertOne: { document: { _id: String(_id), deviceId, ts: at(String(time)), readings: { temperature } } },
      })),
    );
    return collection;
  };

  it('finds with filter, projection, sort, skip and limit; counts with a filter', async () => {
    // Given four readings of two devices
    const collection = await readings();

    // When d1's readings are found newest first, skipping one, limited to one, with one field projected
    const found = await collection
      .find({ deviceId: 'd1' }, { projection: { ts: 1 }, sort: { ts: -1 }, skip: 1, limit: 1 })
      .toArray();

    // Then the second newest comes with only its ts, and counts match their filters
    expect(found).toEqual([{ _id: 'r2', ts: at('00:01:50') }]);
    expect(await collection.countDocuments({ 'readings.temperature': { $gte: 21 } })).toBe(3);
    expect(await collection.countDocuments()).toBe(4);
  });

  it('aggregates per device and minute: $match, $dateTrunc, $group accumulators, $sort, $project, $skip, $limit', async () => {
    // Given four readings of two devices
    const collection = await readings();

    // When they are aggregated per device and minute
    const rows = await collection
      .aggregate([
        { $match: { ts: { $gte: at('00:00:00') } } },
        { $sort: { ts: 1 } },
        {
          $group: {
            _id: { deviceId: '$deviceId', minute: { $dateTrunc: { date: '$ts', unit: 'minute' } } },
            min: { $min: '$readings.temperature' },
            max: { $max: '$readings.temperature' },
            avg: { $avg: '$readings.temperature' },
            first: { $first: '$readings.temperature' },
            last: { $last: '$readings.temperature' },
            count: { $sum: 1 },
          },
        },
        { $sort: { '_id.deviceId': 1, '_id.minute': 1 } },
        {
          $project: {
            _id: 0,
            deviceId: '$_id.deviceId',
            minute: '$_id.minute',
            min: 1,
            max: 1,
            avg: 1,
            first: 1,
            last: 1,
            count: 1,
          },
        },
        { $skip: 0 },
        { $limit: 1 },
      ])
      .toArray();

    // Then d1's first minute has every accumulator as MongoDB computes it
    expect(rows).toEqual([
      { deviceId: 'd1', minute: at('00:01:00'), min: 20, max: 22, avg: 21, first: 20, last: 22, count: 2 },
    ]);
  });

  it('runs $facet and $setWindowFields', async () => {
    // Given four readings of two devices
    const collection = await readings();

    // When $facet and $setWindowFields run
    const [facets] = await collection
      .aggregate([
        { $facet: { total: [{ $count: 'n' }], hottest: [{ $sort: { 'readings.temperature': -1 } }, { $limit: 1 }] } },
      ])
      .toArray();
    const windowed = await collection
      .aggregate([
        { $match: { deviceId: 'd1' } },
        {
          $setWindowFields: {
            partitionBy: '$deviceId',
            sortBy: { ts: 1 },
            output: { previous: { $shift: { output: '$readings.temperature', by: -1 } } },
          },
        },
        { $project: { _id: 1, previous: 1 } },
      ])
      .toArray();

    // Then the facets and the previous reading per device come out as MongoDB's
    expect(facets).toMatchObject({ total: [{ n: 4 }], hottest: [{ _id: 'r3' }] });
    expect(windowed).toEqual([
      { _id: 'r1', previous: null },
      { _id: 'r2', previous: 20 },
      { _id: 'r4', previous: 22 },
    ]);
  });

  it('accepts createIndex and createIndexes', async () => {
    // Given a readings collection
    const collection = await readings();

    // When indexes are created one at a time and several at once
    await collection.createIndex({ deviceId: 1, ts: -1 }, { name: 'device_time' });
    await collection.createIndexes([{ key: { eventId: 1 } }]);

    // Then every index is named as MongoDB names it
    expect(await collection.indexNames()).toEqual(['_id_', 'device_time', 'eventId_1']);
  });
});

describe('the sink on the in-memory store', () => {
  const records = () =>
    Array.from({ length: 20 }, (_, i) =>
      kafkaRecord(envelope(`sensor-${i % 4}`, devicePayload({ seq: i, ts: NOW - 20_000 + i * 100 })), { offset: i }),
    );

  it('stores each reading once across replays, the newest state per device, and quarantines what cannot be stored', async () => {
    // Given the sink on the in-memory store and 20 readings out of order, plus a record with an unsafe key
    const db = new MemoryDb('telemetry');
    const sink = createHandler(SinkEnvironmentSchema.parse({ MONGODB_URI: 'mongodb://127.0.0.1:9' }), {
      collections: memorySinkCollections(db),
    });
    // Out of order: the newest readings come first, then the rest, then everything again
    const batch = [...records().reverse(), kafkaRecord({ ...envelope(), $where: '1' }, { offset: 99 })];

    // When the batch is delivered three times
    for (let i = 0; i < 3; i++) {
      const response = await sink(kafkaEvent(batch), lambdaContext(20_000, 'telemetry-sink'));
      expect(response.batchItemFailures).toEqual([]);
    }

    // Then each reading is stored once, each device holds its newest state, and the bad record is quarantined with 3 attempts
    expect(await db.collection('readings').countDocuments()).toBe(20);
    expect(await db.collection('devices').find({ _id: 'sensor-3' }).toArray()).toMatchObject([{ seq: 19 }]);
    expect(await db.collection('quarantine').find({ _id: 'telemetry.readings.v1-0@99' }).toArray()).toMatchObject([
      { reason: 'unsafe_key', attempts: 3 },
    ]);
  });

  it('reports a replayed reading as a duplicate, a new one as written', async () => {
    // Given a reading store on the in-memory store that stored reading "a"
    const writer = new UpsertReadingStore(new MemoryDb('t').collection('readings'));
    const document = (id: string) => ({ _id: id, deviceId: 'd', ts: new Date(NOW) }) as never;

    await writer.write([document('a')], Date.now() + 5_000);
    // When "a" and "b" are written
    const outcomes = await writer.write([document('a'), document('b')], Date.now() + 5_000);

    // Then "a" is a duplicate and "b" is written
    expect(outcomes).toEqual([{ status: 'duplicate' }, { status: 'written' }]);
  });
});

describe('the in-memory store across a MessagePort (the sink bundle in its worker thread)', () => {
  it('returns what the driver returns, and throws what it throws: a MongoBulkWriteError with each write error', async () => {
    // Given the in-memory store served across a MessagePort
    const db = new MemoryDb('telemetry');
    const { port1, port2 } = new MessageChannel();
    serveMemoryStore(port1, db);
    const remote = remoteSinkCollections(port2);
    const insert = (id: string) => ({ insertOne: { document: { _id: id, ts: new Date(NOW) } as never } });
    try {
      // When writes, a duplicate, a read and an update without operators go across it
      const first = await remote.readings.bulkWrite([insert('a')], { ordered: false });
      const error = await bulkError(remote.readings.bulkWrite([insert('a'), insert('b')], { ordered: false }));
      const found = await remote.readings.find({ _id: { $in: ['a', 'b'] } }, { projection: { ts: 1 } }).toArray();
      const refused = remote.devices.bulkWrite([{ updateOne: { filter: { _id: 'd' }, update: { ts: 1 } } } as never]);

      // Then each answers as the driver does, errors included, and the store holds both readings
      expect(first.insertedCount).toBe(1);
      expect([error.writeErrors].flat().map((e) => [e.index, e.code])).toEqual([[0, 11000]]);
      expect(error.result.insertedCount).toBe(1);
      expect(found).toEqual([
        { _id: 'a', ts: new Date(NOW) },
        { _id: 'b', ts: new Date(NOW) },
      ]);
      await expect(refused).rejects.toThrow(MemoryStoreCallError);
      await expect(refused).rejects.toMatchObject({
        name: 'MongoInvalidArgumentError',
        message: 'Update document requires atomic operators',
      });
      expect(db.collection('readings').size).toBe(2);
    } finally {
      port1.close();
    }
  });
});
