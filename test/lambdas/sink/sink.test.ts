/**
 * The sink core against in-memory stores (test/helpers/sink-stores.ts): decoding and quarantine reasons, exactly once by
 * eventId, conflicts resolved against the stored reading, device state never backwards, and which records are
 * retried when a store fails. What MongoDB does underneath (E11000, interrupted and unacknowledged bulk writes,
 * majority reads, time-series marks, deadlines): ./mongo/stores.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SinkMetric } from '../../../contracts/metrics';
import type { KafkaEventRecord } from '../../../lambdas/sink/kafka-event';
import type { ReadingStore } from '../../../lambdas/sink/ports';
import { sinkBatch } from '../../../lambdas/sink/sink';
import { devicePayload, envelope, kafkaEvent, kafkaRecord, NOW } from '../../helpers/factories';
import { RecordingLogger, RecordingMetrics } from '../../helpers/recorders';
import {
  batch,
  describeDeliverySemantics,
  failedOffsets,
  EVENT_ID as id,
  unsequenced,
} from '../../helpers/sink-scenarios';
import { MemoryDeviceStateStore, MemoryQuarantineStore, MemoryReadingStore } from '../../helpers/sink-stores';

let readings: MemoryReadingStore;
let devices: MemoryDeviceStateStore;
let quarantined: MemoryQuarantineStore;
let logger: RecordingLogger;
let metrics: RecordingMetrics;

beforeEach(() => {
  readings = new MemoryReadingStore();
  devices = new MemoryDeviceStateStore();
  quarantined = new MemoryQuarantineStore();
});

/** One batch through the core; `store` replaces the readings store (one that misbehaves). */
function run(records: KafkaEventRecord[], store: ReadingStore = readings) {
  logger = new RecordingLogger();
  metrics = new RecordingMetrics();
  return sinkBatch(kafkaEvent(records), {
    readings: store,
    devices,
    quarantine: quarantined,
    logger,
    metrics,
    maxMessageBytes: 16_384,
    deadline: Date.now() + 10_000,
    now: () => NOW + 2_000,
  });
}

// After the stores are made afresh (hooks run in the order they are declared)
describeDeliverySemantics(() => ({
  readings,
  devices,
  quarantine: quarantined,
  run: (records) => run(records),
  get metrics() {
    return metrics;
  },
  loseReadingsWrite: (after) => readings.failNext({ afterDocuments: after }),
  loseStateWrite: (after) => devices.failNext({ afterDocuments: after }),
  loseQuarantineWrite: () => quarantined.failNext(),
  rejectReadings: (predicate) => readings.refuse(predicate, 'E121: Document failed validation'),
  failStates: (predicate) =>
    devices.refuse(predicate, 'E91: The server is in quiesce mode and will shut down', 'transient'),
  heal: () => devices.heal(),
}));

describe('sink: each reading stored exactly once', () => {
  it('the same reading twice in one batch (a device resend) is one document', async () => {
    const reading = envelope('sensor-7', devicePayload({ seq: 3 }));
    const response = await run([kafkaRecord(reading, { offset: 0 }), kafkaRecord(reading, { offset: 1 })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(1);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(1);
  });

  it('a reading another writer stored first (the store says "already stored") counts as stored', async () => {
    // Given one reading of the batch stored by another writer, with the fields that make it the same reading
    const records = batch(4);
    const raced = JSON.parse(Buffer.from(records[2]!.value!, 'base64').toString());
    const { readings: values, eventId, deviceId, seq, ts } = raced;
    readings.put({ _id: eventId, deviceId, ts: new Date(ts), seq, readings: values } as never);
    // When the batch is handled
    const response = await run(records);
    // Then it is acknowledged as a duplicate, not a conflict, and moves the state as a stored reading
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(4);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(1);
    expect(metrics.single(SinkMetric.Conflicts)).toBe(0);
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
});

describe('sink: transient failures are retried, exactly the right records', () => {
  it("logs the store's hint for an operator next to the errors of the records it retries", async () => {
    // Given a readings store that cannot reach its server, and says what to check
    readings.failNext({ error: 'MongoServerSelectionError: timed out', hint: 'Check the network access list' });
    // When a batch arrives
    const response = await run(batch(2));
    // Then every record is retried, and the log line carries the hint
    expect(response.batchItemFailures).toHaveLength(2);
    expect(logger.at('error')[0]?.extra[0]).toMatchObject({
      errors: ['MongoServerSelectionError: timed out'],
      hint: 'Check the network access list',
    });
  });

  it('records failures per partition', async () => {
    readings.failNext();
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
    readings.refuse((doc) => doc.ts.getTime() === NOW - 5_000, 'E121: Document failed validation');
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
    readings.failNextRead({ error: 'MongoNetworkError: connection reset' });
    const response = await run([kafkaRecord(unsequenced('sensor-b', NOW, id), { offset: 1 })]);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 1 } },
    ]);
    expect(devices.get('sensor-b')).toBeUndefined();
  });

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
    readings.failNext();
    // When it is handled, Then both are retried and none is quarantined against a reading that may not exist
    expect(failedOffsets(await run(records))).toEqual(['telemetry.readings.v1-0@0', 'telemetry.readings.v1-0@1']);
    expect(quarantined.docs.size).toBe(0);
    // And the retry resolves them: A stored, B its conflict
    expect((await run(records)).batchItemFailures).toEqual([]);
    expect(quarantined.all().map((q) => q._id)).toEqual(['telemetry.readings.v1-0@1']);
  });

  it('a writer that reports "already stored" for a reading no lookup finds: retried, never acknowledged, no state', async () => {
    // Given a reading writer whose write says duplicate (a mark, or a document deleted since) and whose read finds
    // nothing
    const vanished: ReadingStore = {
      write: async (documents) => documents.map(() => ({ status: 'duplicate' as const })),
      stored: async () => [],
    };
    // When a record with that eventId arrives
    const response = await run([kafkaRecord(unsequenced('sensor-b', NOW, id), { offset: 1 })], vanished);
    // Then it is retried with a reason in the log, counted as neither stored nor duplicate, and moves no state
    expect(failedOffsets(response)).toEqual(['telemetry.readings.v1-0@1']);
    expect(metrics.single(SinkMetric.Duplicates)).toBe(0);
    expect(devices.get('sensor-b')).toBeUndefined();
    expect(JSON.stringify(logger.at('error'))).toContain(`eventId ${id} reported stored, but no reading holds it`);
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
