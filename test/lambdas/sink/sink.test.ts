/**
 * The sink core against the in-memory MongoDB fake: the fault table of the sink issue.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SinkMetric } from '../../../contracts/metrics';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../../lambdas/sink/documents';
import type { KafkaEventRecord } from '../../../lambdas/sink/kafka-event';
import {
  type ReadingIdDocument,
  type ReadingWriter,
  TimeSeriesReadingWriter,
  UpsertReadingWriter,
} from '../../../lambdas/sink/reading-writers';
import { sinkBatch } from '../../../lambdas/sink/sink';
import { devicePayload, envelope, kafkaEvent, kafkaRecord, NOW } from '../../helpers/factories';
import { FakeCollection } from '../../helpers/fake-mongo';
import { RecordingLogger, RecordingMetrics } from '../../helpers/recorders';

let readings: FakeCollection<ReadingDocument>;
let devices: FakeCollection<DeviceStateDocument>;
let quarantined: FakeCollection<QuarantineDocument>;
let logger: RecordingLogger;
let metrics: RecordingMetrics;

beforeEach(() => {
  readings = new FakeCollection();
  devices = new FakeCollection();
  quarantined = new FakeCollection();
});

function run(
  records: KafkaEventRecord[],
  options: {
    writer?: 'upsert' | 'timeseries' | ReadingWriter;
    marks?: FakeCollection<ReadingIdDocument>;
    /** In place of the shared readings collection (a failing one). */
    readings?: FakeCollection<ReadingDocument>;
  } = {},
) {
  logger = new RecordingLogger();
  metrics = new RecordingMetrics();
  const collection = options.readings ?? readings;
  const writer =
    typeof options.writer === 'object'
      ? options.writer
      : options.writer === 'timeseries'
        ? new TimeSeriesReadingWriter(collection, options.marks ?? new FakeCollection<ReadingIdDocument>())
        : new UpsertReadingWriter(collection);
  return sinkBatch(kafkaEvent(records), {
    collections: { readings: collection, devices, quarantine: quarantined },
    readings: writer,
    logger,
    metrics,
    maxMessageBytes: 16_384,
    deadline: Date.now() + 10_000,
    now: () => NOW + 2_000,
  });
}

/** `count` readings from `devices` devices as consecutive records of partition 0. */
function batch(count: number, deviceCount = 3, firstOffset = 0): KafkaEventRecord[] {
  return Array.from({ length: count }, (_, i) =>
    kafkaRecord(
      envelope(`sensor-${i % deviceCount}`, devicePayload({ seq: Math.floor(i / deviceCount), ts: NOW - 60_000 + i })),
      {
        offset: firstOffset + i,
      },
    ),
  );
}

const failedOffsets = (response: Awaited<ReturnType<typeof run>>) =>
  response.batchItemFailures.map((f) => `${f.itemIdentifier.partition}@${f.itemIdentifier.offset}`);

describe('sink: each reading stored exactly once', () => {
  it('stores every reading with _id = eventId and the envelope fields, readings nested', async () => {
    const records = batch(6);
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(6);
    const first = JSON.parse(Buffer.from(records[0]!.value!, 'base64').toString());
    expect(readings.get(first.eventId)).toEqual({
      _id: first.eventId,
      deviceId: 'sensor-0',
      ts: new Date(first.ts),
      seq: 0,
      receivedAt: new Date(first.receivedAt),
      readings: first.readings,
      traceId: first.traceId,
      sourceTopic: 'sensors/sensor-0/telemetry',
      kafka: { partition: 0, offset: 0 },
      storedAt: new Date(NOW + 2_000),
    });
    expect(metrics.single(SinkMetric.Written)).toBe(6);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(0);
  });

  it('duplicate delivery: replaying the same batch any number of times leaves one document per reading', async () => {
    const records = batch(9);
    await run(records);
    const before = readings.all();
    for (let i = 0; i < 3; i++) {
      const response = await run(records);
      expect(response.batchItemFailures).toEqual([]);
      expect(metrics.single(SinkMetric.Written)).toBe(0);
      expect(metrics.single(SinkMetric.Duplicates)).toBe(9);
    }
    expect(readings.all()).toEqual(before);
  });

  it('the same reading twice in one batch (a device resend) is one document', async () => {
    const reading = envelope('sensor-7', devicePayload({ seq: 3 }));
    const response = await run([kafkaRecord(reading, { offset: 0 }), kafkaRecord(reading, { offset: 1 })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(1);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(1);
  });

  it('E11000 on some operations (a concurrent writer got there first) counts as stored', async () => {
    const records = batch(4);
    const raced = JSON.parse(Buffer.from(records[2]!.value!, 'base64').toString());
    // Another writer inserted that reading with a plain insert between our filter check and our insert
    const document = { _id: raced.eventId, deviceId: raced.deviceId, ts: new Date(raced.ts), seq: raced.seq };
    await readings.bulkWrite([
      { insertOne: { document: { ...document, readings: raced.readings } as ReadingDocument } },
    ]);
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(4);
  });

  it('retry after partial success: no duplicates, no loop', async () => {
    const records = batch(10);
    readings.failNext({ kind: 'network', afterOperations: 4 });
    const first = await run(records);
    // Nothing can be known about an interrupted bulk write: every record is retried
    expect(first.batchItemFailures).toHaveLength(10);
    expect(readings.docs.size).toBe(4);
    const retry = await run(records);
    expect(retry.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(10);
    expect(metrics.single(SinkMetric.Written)).toBe(6);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(4);
  });
});

describe('sink: latest state per device never moves backwards', () => {
  it('keeps the newest reading by device time, then sequence, whatever the arrival order', async () => {
    const at = (ts: number, seq: number, offset: number) =>
      kafkaRecord(envelope('sensor-1', devicePayload({ ts, seq })), { offset });
    // Out of order within a batch, then older and equal-time readings in later batches
    await run([at(NOW - 5_000, 5, 0), at(NOW - 1_000, 9, 1), at(NOW - 3_000, 7, 2)]);
    expect(devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 1_000), seq: 9 });
    await run([at(NOW - 2_000, 20, 3)]);
    expect(metrics.single(SinkMetric.Stale)).toBe(1);
    await run([at(NOW - 1_000, 8, 4)]);
    expect(devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 1_000), seq: 9 });
    await run([at(NOW - 1_000, 10, 5)]);
    expect(devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 1_000), seq: 10 });
    await run([at(NOW - 500, 1, 6)]);
    expect(devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 500), seq: 1 });
    expect(readings.docs.size).toBe(7);
  });

  it('a replayed old batch leaves the state where it is', async () => {
    const old = batch(6, 2, 0);
    const recent = batch(6, 2, 6).map((_, i) =>
      kafkaRecord(envelope(`sensor-${i % 2}`, devicePayload({ seq: 100 + i, ts: NOW - 1_000 + i })), { offset: 6 + i }),
    );
    await run(old);
    await run(recent);
    const state = devices.all();
    await run(old);
    expect(devices.all()).toEqual(state);
    expect(metrics.single(SinkMetric.Stale)).toBe(2);
  });

  it('readings without seq order by time alone', async () => {
    const { seq: _seq, ...payload } = devicePayload({ ts: NOW - 10 });
    await run([kafkaRecord(envelope('sensor-2', payload), { offset: 0 })]);
    expect(devices.get('sensor-2')).toMatchObject({ ts: new Date(NOW - 10), seq: -1 });
  });
});

describe('sink: bad input is quarantined and never blocks the partition', () => {
  const bad: [string, KafkaEventRecord, string][] = [
    ['a $where operator', kafkaRecord({ ...envelope(), $where: 'sleep(100)' }, { offset: 1 }), 'unsafe_key'],
    ['a $set operator', kafkaRecord({ ...envelope(), $set: { deviceId: 'x' } }, { offset: 1 }), 'unsafe_key'],
    ['a dotted key', kafkaRecord({ ...envelope(), readings: { 'a.b': 1 } }, { offset: 1 }), 'unsafe_key'],
    [
      'a __proto__ key',
      kafkaRecord(JSON.stringify(envelope()).replace('"readings":{', '"readings":{"__proto__":{"x":1},'), {
        offset: 1,
      }),
      'unsafe_key',
    ],
    [
      'a query operator as a value',
      kafkaRecord({ ...envelope(), deviceId: { $ne: null } }, { offset: 1 }),
      'unsafe_key',
    ],
    ['invalid base64', { ...kafkaRecord('x', { offset: 1 }), value: 'not*base64!' }, 'bad_base64'],
    [
      'a value that is not UTF-8',
      { ...kafkaRecord('x', { offset: 1 }), value: Buffer.from([0xc3, 0x28]).toString('base64') },
      'not_utf8',
    ],
    ['not JSON', kafkaRecord('{"deviceId":', { offset: 1 }), 'not_json'],
    ['an oversize value', kafkaRecord({ ...envelope(), clientId: 'x'.repeat(20_000) }, { offset: 1 }), 'too_large'],
    ['a tombstone', kafkaRecord(null, { offset: 1 }), 'missing_value'],
    [
      'a schema violation',
      kafkaRecord({ ...envelope(), readings: { temperature: 'hot' } }, { offset: 1 }),
      'schema_violation',
    ],
  ];

  it.each(bad)('quarantines %s, stores the good records around it', async (_name, record, reason) => {
    const good = [kafkaRecord(envelope('sensor-1'), { offset: 0 }), kafkaRecord(envelope('sensor-2'), { offset: 2 })];
    const response = await run([good[0]!, record, good[1]!]);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(2);
    const parked = quarantined.get('telemetry.readings.v1-0@1');
    expect(parked).toMatchObject({
      stage: 'sink',
      reason,
      attempts: 1,
      value: record.value ?? null,
      source: { partition: 0, offset: 1 },
    });
    expect(parked?.error.length).toBeGreaterThan(0);
    // Nothing from the bad record reached the readings or the device state
    expect(readings.all().every((doc) => !('$where' in doc) && !('$set' in doc))).toBe(true);
    expect(devices.docs.has('x')).toBe(false);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('counts deliveries of a quarantined record on replays, keeping the first failure time', async () => {
    const record = kafkaRecord('nope', { offset: 4 }, { 'event-id': 'abc' });
    await run([record]);
    await run([record]);
    expect(quarantined.get('telemetry.readings.v1-0@4')).toMatchObject({
      attempts: 2,
      firstFailedAt: new Date(NOW + 2_000),
      headers: [{ key: 'event-id', value: Buffer.from('abc').toString('base64') }],
    });
  });

  it('keeps header names out of field names, so a NUL or $ in a header name cannot block quarantine', async () => {
    const record = kafkaRecord('bad', { offset: 6 }, { 'a\u0000b': '1', $where: '2', 'x.y': '3' });
    const response = await run([record]);
    expect(response.batchItemFailures).toEqual([]);
    expect(quarantined.get('telemetry.readings.v1-0@6')?.headers.map((h) => h.key)).toEqual([
      'a\u0000b',
      '$where',
      'x.y',
    ]);
  });

  it('quarantines a record MongoDB rejects for good (document validation), not the rest', async () => {
    const records = batch(3);
    readings.reject((doc) => doc.deviceId === 'sensor-1');
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(2);
    expect(quarantined.get('telemetry.readings.v1-0@1')).toMatchObject({
      reason: 'write_rejected',
      error: expect.stringMatching(/^E121/),
    });
  });
});

describe('sink: transient failures are retried, exactly the right records', () => {
  it('a network error on the readings write reports every record of the batch in Kafka form', async () => {
    const records = batch(3);
    readings.failNext({ kind: 'network', afterOperations: 0 });
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 0 } },
      { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 1 } },
      { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 2 } },
    ]);
  });

  it('a transient error on one device’s state update reports that device’s records only; the retry completes it', async () => {
    const records = batch(6, 2);
    devices.reject((doc) => doc._id === 'sensor-1', 91, 'The server is in quiesce mode and will shut down');
    const response = await run(records);
    const sensor1 = records.filter((_, i) => i % 2 === 1).map((r) => `telemetry.readings.v1-0@${r.offset}`);
    expect(failedOffsets(response)).toEqual(sensor1);
    expect(devices.docs.has('sensor-1')).toBe(false);

    const healthy = new FakeCollection<DeviceStateDocument>();
    for (const doc of devices.all()) await healthy.bulkWrite([{ insertOne: { document: doc } }]);
    devices = healthy;
    const retry = await run(records.filter((r) => sensor1.includes(`telemetry.readings.v1-0@${r.offset}`)));
    expect(retry.batchItemFailures).toEqual([]);
    expect(devices.get('sensor-1')).toMatchObject({ seq: 2 });
    expect(readings.docs.size).toBe(6);
  });

  it('a connection lost during the state update retries every stored record (its outcome is unknown)', async () => {
    const records = batch(6, 2);
    devices.failNext({ kind: 'network', afterOperations: 1 });
    const response = await run(records);
    expect(failedOffsets(response)).toEqual(records.map((r) => `telemetry.readings.v1-0@${r.offset}`));
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(devices.docs.size).toBe(2);
  });

  it('an interrupted bulk write (MongoBulkWriteError without write errors) is not mistaken for success', async () => {
    const records = batch(6);
    readings.failNext({ kind: 'interrupted', afterOperations: 2 });
    const response = await run(records);
    // The two upserted are confirmed; the four unconfirmed are retried
    expect(failedOffsets(response)).toEqual(records.slice(2).map((r) => `telemetry.readings.v1-0@${r.offset}`));
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(6);
  });

  it('a write concern failure (applied on the primary, not majority-acknowledged) counts as not stored', async () => {
    const records = batch(3);
    readings.failNext({ kind: 'writeConcern' });
    const response = await run(records);
    expect(response.batchItemFailures).toHaveLength(3);
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(3);
  });

  it('time-series: a reading a write concern failure left on the primary alone is not acknowledged as stored', async () => {
    // Given a time-series insert applied on the primary that failed its write concern (a majority may never have it)
    const marks = new FakeCollection<ReadingIdDocument>();
    const records = batch(2);
    readings.failNext({ kind: 'writeConcern' });
    expect((await run(records, { writer: 'timeseries', marks })).batchItemFailures).toHaveLength(2);
    const onPrimaryOnly = [...readings.unreplicated];
    expect(onPrimaryOnly).toHaveLength(2);

    // When the batch is retried
    await run(records, { writer: 'timeseries', marks });

    // Then "already stored" rests on a majority read (a local read sees what a rollback can take away), so both are
    // written again rather than acknowledged on the primary's word
    expect(readings.findOptions.length).toBeGreaterThan(0);
    for (const options of readings.findOptions) expect(options).toMatchObject({ readConcern: { level: 'majority' } });
    for (const id of onPrimaryOnly) expect(readings.inserts.get(id)).toBe(2);
  });

  it('a concurrent first insert of a device state that loses the race is retried, not counted stale', async () => {
    const newer = kafkaRecord(envelope('sensor-5', devicePayload({ seq: 9, ts: NOW - 100 })), { offset: 0 });
    // Another writer creates sensor-5's state with an older reading between our filter match and our insert
    devices.failNext({ kind: 'race', document: { _id: 'sensor-5', ts: new Date(NOW - 5_000), seq: 1 } });
    const response = await run([newer]);
    expect(response.batchItemFailures).toEqual([]);
    expect(devices.get('sensor-5')).toMatchObject({ seq: 9, ts: new Date(NOW - 100) });
    expect(metrics.single(SinkMetric.Stale)).toBe(0);
  });

  it('writes nothing and retries everything once the deadline has passed', async () => {
    logger = new RecordingLogger();
    metrics = new RecordingMetrics();
    const response = await sinkBatch(kafkaEvent(batch(3)), {
      collections: { readings, devices, quarantine: quarantined },
      readings: new UpsertReadingWriter(readings),
      logger,
      metrics,
      maxMessageBytes: 16_384,
      deadline: Date.now() - 1,
    });
    expect(response.batchItemFailures).toHaveLength(3);
    expect(readings.calls).toBe(0);
  });

  it('server selection timeout names network access as the likely cause', async () => {
    readings.failNext({ kind: 'selection' });
    const response = await run(batch(2));
    expect(response.batchItemFailures).toHaveLength(2);
    expect(logger.at('error')[0]?.extra[0]).toMatchObject({ hint: expect.stringMatching(/Atlas network access list/) });
  });

  it('a quarantine write that fails reports the bad record for retry instead of dropping it', async () => {
    quarantined.failNext({ kind: 'network', afterOperations: 0 });
    const response = await run([kafkaRecord(envelope('sensor-1'), { offset: 0 }), kafkaRecord('bad', { offset: 1 })]);
    expect(failedOffsets(response)).toEqual(['telemetry.readings.v1-0@1']);
    expect(readings.docs.size).toBe(1);
  });

  it('records failures per partition', async () => {
    readings.failNext({ kind: 'network', afterOperations: 0 });
    const records = [
      kafkaRecord(envelope('a'), { partition: 0, offset: 10 }),
      kafkaRecord(envelope('b'), { partition: 3, offset: 7 }),
    ];
    const response = await run(records);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 10 } },
      { itemIdentifier: { partition: 'telemetry.readings.v1-3', offset: 7 } },
    ]);
  });
});

describe('sink: an eventId that names another reading is a conflict, never a duplicate', () => {
  const unsequenced = (deviceId: string, ts: number, eventId: string) => {
    const { seq: _seq, ...payload } = devicePayload({ ts });
    return { ...envelope(deviceId, payload), eventId };
  };
  const id = '6f1c2b1e-0c1a-4c55-9a43-7d1f0f4f2a10';

  it("quarantines device B's record carrying device A's stored eventId, both sides visible, B's state untouched", async () => {
    // Given device A's reading stored
    await run([kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 })]);
    // When device B's record arrives with the same eventId
    const response = await run([kafkaRecord(unsequenced('sensor-b', NOW - 4_000, id), { offset: 1 })]);
    // Then it is quarantined as a conflict naming both readings, counted, and moves no state
    expect(response.batchItemFailures).toEqual([]);
    const [parked] = quarantined.all();
    expect(parked).toMatchObject({
      reason: 'event_id_conflict',
      conflictsWith: { _id: id, deviceId: 'sensor-a', ts: new Date(NOW - 5_000) },
    });
    expect(parked?.error).toMatch(/belongs to sensor-a .*this record is sensor-b/);
    expect(JSON.parse(Buffer.from(parked?.value ?? '', 'base64').toString()).deviceId).toBe('sensor-b');
    expect(metrics.single(SinkMetric.Conflicts)).toBe(1);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(0);
    expect(devices.get('sensor-b')).toBeUndefined();
    expect(devices.get('sensor-a')?.eventId).toBe(id);
  });

  it('a UUID reused with another ts in one batch: the first is stored, the second quarantined, state = stored reading', async () => {
    const first = kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 });
    const reused = kafkaRecord(unsequenced('sensor-a', NOW - 1_000, id), { offset: 1 });
    const response = await run([first, reused]);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.all().map((r) => r.ts)).toEqual([new Date(NOW - 5_000)]);
    expect(quarantined.all().map((q) => [q._id, q.reason])).toEqual([
      ['telemetry.readings.v1-0@1', 'event_id_conflict'],
    ]);
    expect(devices.get('sensor-a')?.ts).toEqual(new Date(NOW - 5_000));
    expect(metrics.single(SinkMetric.Conflicts)).toBe(1);
  });

  it('a UUID reused in one batch whose first reading MongoDB rejects: the other is rejected with it, not a conflict', async () => {
    // Given the first reading of the eventId fails MongoDB's validation, permanently
    readings.reject((doc) => (doc.ts as Date).getTime() === NOW - 5_000);
    const first = kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 });
    const sibling = kafkaRecord(unsequenced('sensor-a', NOW - 1_000, id), { offset: 1 });

    // When both arrive in one batch
    const response = await run([first, sibling]);

    // Then both are parked as write_rejected, the sibling naming the rejected reading, not "belongs to" a reading
    // stored nowhere; nothing is stored and no state moves
    expect(response.batchItemFailures).toEqual([]);
    const parked = quarantined.all();
    expect(parked.map((q) => [q._id, q.reason])).toEqual([
      ['telemetry.readings.v1-0@0', 'write_rejected'],
      ['telemetry.readings.v1-0@1', 'write_rejected'],
    ]);
    expect(parked[1]?.error).toMatch(
      new RegExp(
        `first reading with eventId ${id} \\(sensor-a ts ${new Date(NOW - 5_000).toISOString()}.*was rejected`,
      ),
    );
    expect(parked[1]?.error).not.toMatch(/belongs to/);
    expect(parked[1]?.conflictsWith).toBeUndefined();
    expect(metrics.single(SinkMetric.Conflicts)).toBe(0);
    expect(readings.all()).toEqual([]);
    expect(devices.get('sensor-a')).toBeUndefined();
  });

  it('a replay (same reading, new receive time and trace) is still a duplicate', async () => {
    const reading = envelope('sensor-a', devicePayload({ seq: 4 }));
    await run([kafkaRecord(reading, { offset: 0 })]);
    const retransmission = { ...reading, receivedAt: reading.receivedAt + 3_000, traceId: 'another-trace' };
    const response = await run([kafkaRecord(retransmission, { offset: 9 })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(quarantined.docs.size).toBe(0);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(1);
    expect(metrics.single(SinkMetric.Conflicts)).toBe(0);
  });

  it('retries the duplicates when the stored readings cannot be read (no unchecked acknowledgement)', async () => {
    await run([kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 })]);
    const failing = Object.assign(Object.create(readings), {
      find: () => ({ toArray: async () => Promise.reject(new Error('connection reset')) }),
    }) as typeof readings;
    const response = await run([kafkaRecord(unsequenced('sensor-b', NOW, id), { offset: 1 })], { readings: failing });
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 1 } },
    ]);
    expect(devices.get('sensor-b')).toBeUndefined();
  });

  it.each(['upsert', 'timeseries'] as const)(
    "%s: a batch [B forging A's stored eventId, A replayed] resolves both against A: B conflicts, A is a replay",
    async (writer) => {
      // Given device A's reading stored
      const marks = new FakeCollection<ReadingIdDocument>();
      const a = unsequenced('sensor-a', NOW - 5_000, id);
      await run([kafkaRecord(a, { offset: 0 })], { writer, marks });
      // When one batch brings device B's record with A's eventId first, then A's replay
      const response = await run(
        [kafkaRecord(unsequenced('sensor-b', NOW - 4_000, id), { offset: 1 }), kafkaRecord(a, { offset: 2 })],
        { writer, marks },
      );
      // Then only B is quarantined, against the stored A; A's replay is a duplicate, not a conflict with B
      expect(response.batchItemFailures).toEqual([]);
      expect(quarantined.all().map((q) => [q._id, q.reason, q.conflictsWith?.deviceId])).toEqual([
        ['telemetry.readings.v1-0@1', 'event_id_conflict', 'sensor-a'],
      ]);
      expect(metrics.single(SinkMetric.Conflicts)).toBe(1);
      expect(metrics.single(SinkMetric.Duplicates)).toBe(1);
      expect(readings.all().map((r) => r.deviceId)).toEqual(['sensor-a']);
      expect(devices.get('sensor-b')).toBeUndefined();
      expect(devices.get('sensor-a')?.eventId).toBe(id);
    },
  );

  it('nothing stored: the first reading of the batch wins, every other one conflicts with it, its replays do not', async () => {
    const a = kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 });
    const b = unsequenced('sensor-b', NOW - 4_000, id);
    const response = await run([a, kafkaRecord(b, { offset: 1 }), kafkaRecord(b, { offset: 2 }), { ...a, offset: 3 }]);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.all().map((r) => r.deviceId)).toEqual(['sensor-a']);
    expect(quarantined.all().map((q) => [q._id, q.conflictsWith?.deviceId])).toEqual([
      ['telemetry.readings.v1-0@1', 'sensor-a'],
      ['telemetry.readings.v1-0@2', 'sensor-a'],
    ]);
    expect(quarantined.get('telemetry.readings.v1-0@1')?.conflictsWith).not.toHaveProperty('traceId');
    expect(metrics.single(SinkMetric.Conflicts)).toBe(2);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(1);
    expect(devices.get('sensor-b')).toBeUndefined();
  });

  it('a failed write decides nothing: every reading with that eventId is retried, none quarantined', async () => {
    // Given a batch with two different readings under one eventId, and a write that fails (was anything stored?)
    const records = [
      kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 }),
      kafkaRecord(unsequenced('sensor-b', NOW - 4_000, id), { offset: 1 }),
    ];
    readings.failNext({ kind: 'network', afterOperations: 0 });
    // When it is handled, Then both are retried and none is quarantined against a reading that may not exist
    expect(failedOffsets(await run(records))).toEqual(['telemetry.readings.v1-0@0', 'telemetry.readings.v1-0@1']);
    expect(quarantined.docs.size).toBe(0);
    // And the retry resolves them: A stored, B its conflict
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(quarantined.all().map((q) => q._id)).toEqual(['telemetry.readings.v1-0@1']);
  });

  it('time series: a mark whose reading is gone (expired, deleted) is not "stored": the record is inserted again', async () => {
    // Given device A's reading stored and marked, then removed from the time-series collection (its mark stays)
    const marks = new FakeCollection<ReadingIdDocument>();
    await run([kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 })], { writer: 'timeseries', marks });
    expect(marks.get(id)?.state).toBe('stored');
    readings.docs.clear();
    // When device B's record arrives with that eventId
    const b = { ...unsequenced('sensor-b', NOW - 1_000, id), readings: { temperature: 99 } };
    const response = await run([kafkaRecord(b, { offset: 1 })], { writer: 'timeseries', marks });
    // Then it is stored, not acknowledged as "already stored" while stored nowhere: the state points at a reading
    // the collection holds
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.all().map((r) => [r.eventId, r.deviceId])).toEqual([[id, 'sensor-b']]);
    expect(metrics.single(SinkMetric.Written)).toBe(1);
    expect(devices.get('sensor-b')).toMatchObject({ eventId: id, readings: { temperature: 99 } });
  });

  it('a writer that reports "already stored" for a reading no lookup finds: retried, never acknowledged, no state', async () => {
    // Given a reading writer whose write says duplicate (a mark, or a document deleted since) and whose read finds
    // nothing
    const vanished: ReadingWriter = {
      write: async (documents) => documents.map(() => ({ status: 'duplicate' as const })),
      stored: async () => [],
    };
    // When a record with that eventId arrives
    const response = await run([kafkaRecord(unsequenced('sensor-b', NOW, id), { offset: 1 })], { writer: vanished });
    // Then it is retried with a reason in the log, counted as neither stored nor duplicate, and moves no state
    expect(failedOffsets(response)).toEqual(['telemetry.readings.v1-0@1']);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(0);
    expect(devices.get('sensor-b')).toBeUndefined();
    expect(JSON.stringify(logger.at('error'))).toContain(`eventId ${id} reported stored, but no reading holds it`);
  });

  it('redacts credentials from the error of a failed stored-readings read before logging it', async () => {
    await run([kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 })]);
    const failing = Object.assign(Object.create(readings), {
      find: () => ({
        toArray: async () => Promise.reject(new Error('connection to mongodb://alice:s3cr3t-pw@cluster0 reset')),
      }),
    }) as typeof readings;
    await run([kafkaRecord(unsequenced('sensor-b', NOW, id), { offset: 1 })], { readings: failing });
    const logged = JSON.stringify(logger.at('error'));
    expect(logged).toContain('connection to mongodb://<redacted>@cluster0 reset');
    expect(logged).not.toContain('s3cr3t-pw');
  });

  it('detects the conflict in a time-series collection too (by its eventId field)', async () => {
    const marks = new FakeCollection<ReadingIdDocument>();
    await run([kafkaRecord(unsequenced('sensor-a', NOW - 5_000, id), { offset: 0 })], { writer: 'timeseries', marks });
    await run([kafkaRecord(unsequenced('sensor-b', NOW - 4_000, id), { offset: 1 })], { writer: 'timeseries', marks });
    expect(quarantined.all().map((q) => q.reason)).toEqual(['event_id_conflict']);
    expect(devices.get('sensor-b')).toBeUndefined();
  });
});

describe('sink: metrics', () => {
  it('emits counts once per invocation and freshness per written reading', async () => {
    await run([...batch(4), kafkaRecord('bad', { offset: 9 })]);
    expect(metrics.single(SinkMetric.BatchSize)).toBe(5);
    expect(metrics.single(SinkMetric.Invalid)).toBe(1);
    expect(metrics.single(SinkMetric.Failed)).toBe(0);
    expect(metrics.values.get(SinkMetric.FreshnessDevice)).toHaveLength(4);
    expect(metrics.values.get(SinkMetric.FreshnessIngest)).toEqual([2_000, 2_000, 2_000, 2_000]);
  });
});

describe('sink: time-series collection', () => {
  it('stores each reading once across replays and interrupted writes', async () => {
    const marks = new FakeCollection<ReadingIdDocument>();
    const records = batch(8);
    readings.failNext({ kind: 'network', afterOperations: 3 });
    const first = await run(records, { writer: 'timeseries', marks });
    expect(first.batchItemFailures).toHaveLength(8);
    for (let i = 0; i < 2; i++) {
      const again = await run(records, { writer: 'timeseries', marks });
      expect(again.batchItemFailures).toEqual([]);
    }
    expect(readings.docs.size).toBe(8);
    expect(marks.all().every((mark) => mark.state === 'stored')).toBe(true);
    expect(devices.docs.size).toBe(3);
  });
});
