/**
 * The sink on its MongoDB stores (`mongoStores`), against the driver-level fake: what the driver and the server do —
 * E11000, matched upserts, interrupted bulk writes, write concern failures, majority reads, the conditional device
 * state upsert, time-series idempotency marks, server selection, deadlines — read as the sink's outcomes. The core's
 * own rules against in-memory ports: ../sink.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SinkMetric } from '../../../../contracts/metrics';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../../../lambdas/sink/documents';
import type { KafkaEventRecord } from '../../../../lambdas/sink/kafka-event';
import type { ReadingIdDocument } from '../../../../lambdas/sink/mongo/collections';
import { mongoStores } from '../../../../lambdas/sink/mongo/stores';
import { sinkBatch } from '../../../../lambdas/sink/sink';
import { devicePayload, envelope, kafkaEvent, kafkaRecord, NOW } from '../../../helpers/factories';
import { FakeCollection } from '../../../helpers/fake-mongo';
import { RecordingLogger, RecordingMetrics } from '../../../helpers/recorders';
import {
  batch,
  describeDeliverySemantics,
  failedOffsets,
  forgedEventIdNextToItsReplay,
  EVENT_ID as id,
  type SinkHarness,
  unsequenced,
} from '../../../helpers/sink-scenarios';

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
    writer?: 'upsert' | 'timeseries';
    marks?: FakeCollection<ReadingIdDocument>;
    /** In place of the shared readings collection (a failing one). */
    readings?: FakeCollection<ReadingDocument>;
    deadline?: number;
  } = {},
) {
  logger = new RecordingLogger();
  metrics = new RecordingMetrics();
  const stores = mongoStores(
    {
      readings: options.readings ?? readings,
      devices,
      quarantine: quarantined,
      readingIds: options.marks ?? new FakeCollection<ReadingIdDocument>(),
    },
    options.writer === 'timeseries',
  );
  return sinkBatch(kafkaEvent(records), {
    ...stores,
    logger,
    metrics,
    maxMessageBytes: 16_384,
    deadline: options.deadline ?? Date.now() + 10_000,
    now: () => NOW + 2_000,
  });
}

/** The scenarios' view of the collections and faults, with the readings store of `writer`. */
function harness(writer: 'upsert' | 'timeseries'): SinkHarness {
  const marks = new FakeCollection<ReadingIdDocument>();
  return {
    readings,
    devices,
    quarantine: quarantined,
    run: (records) => run(records, { writer, marks }),
    get metrics() {
      return metrics;
    },
    loseReadingsWrite: (after) => readings.failNext({ kind: 'network', afterOperations: after }),
    loseStateWrite: (after) => devices.failNext({ kind: 'network', afterOperations: after }),
    loseQuarantineWrite: () => quarantined.failNext({ kind: 'network', afterOperations: 0 }),
    rejectReadings: (predicate) => readings.reject((doc) => predicate(doc as ReadingDocument)),
    failStates: (predicate) =>
      devices.reject(
        (doc) => predicate(doc as DeviceStateDocument),
        91,
        'The server is in quiesce mode and will shut down',
      ),
    heal: () => devices.heal(),
  };
}

// After the collections are made afresh (hooks run in the order they are declared)
describeDeliverySemantics(() => harness('upsert'));

describe('sink: each reading stored exactly once', () => {
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
});

describe('sink: transient failures are retried, exactly the right records', () => {
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
    const response = await run(batch(3), { deadline: Date.now() - 1 });
    expect(response.batchItemFailures).toHaveLength(3);
    expect(readings.calls).toBe(0);
  });

  it('server selection timeout names network access as the likely cause', async () => {
    readings.failNext({ kind: 'selection' });
    const response = await run(batch(2));
    expect(response.batchItemFailures).toHaveLength(2);
    expect(logger.at('error')[0]?.extra[0]).toMatchObject({ hint: expect.stringMatching(/Atlas network access list/) });
  });
});

describe('sink: an eventId that names another reading is a conflict, never a duplicate', () => {
  it("time series: a batch [B forging A's stored eventId, A replayed] resolves both against A (the upsert store: the shared scenarios)", () =>
    forgedEventIdNextToItsReplay(harness('timeseries')));

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
