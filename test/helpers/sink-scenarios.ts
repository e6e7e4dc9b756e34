/**
 * The sink's delivery semantics as scenarios that run against any set of stores: the in-memory ports
 * (test/lambdas/sink/sink.test.ts, the core's rules) and the MongoDB adapters over the driver-level fake
 * (test/lambdas/sink/mongo/stores.test.ts, the same rules resting on what the driver and the server do). One text
 * for both, so the two levels cannot drift apart.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SinkMetric } from '../../contracts/metrics';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../lambdas/sink/documents';
import type { KafkaBatchResponse, KafkaEventRecord } from '../../lambdas/sink/kafka-event';
import { devicePayload, envelope, kafkaRecord, NOW } from './factories';
import type { RecordingMetrics } from './recorders';

/** What a scenario reads back from a store. */
export interface Inspectable<T> {
  readonly docs: ReadonlyMap<string, unknown>;
  get(id: string): T | undefined;
  all(): T[];
}

/** The stores under test, the sink over them, and the faults a scenario injects. */
export interface SinkHarness {
  readonly readings: Inspectable<ReadingDocument>;
  readonly devices: Inspectable<DeviceStateDocument>;
  readonly quarantine: Inspectable<QuarantineDocument>;
  /** One batch through `sinkBatch`, at `NOW + 2_000`. */
  run(records: KafkaEventRecord[]): Promise<KafkaBatchResponse>;
  /** The metrics of the last run. */
  readonly metrics: RecordingMetrics;
  /** The next readings write is lost after applying `after` documents (a connection lost mid-call). */
  loseReadingsWrite(after: number): void;
  /** The next device-state write is lost after applying `after` states. */
  loseStateWrite(after: number): void;
  /** The next quarantine write is lost before applying anything. */
  loseQuarantineWrite(): void;
  /** Readings matching `predicate` are refused for good: document validation (E121). */
  rejectReadings(predicate: (document: ReadingDocument) => boolean): void;
  /** State updates of matching devices fail transiently (a server shutting down: E91), until `heal`. */
  failStates(predicate: (state: DeviceStateDocument) => boolean): void;
  /** The device-state store works again, with what it holds. */
  heal(): void;
}

/** `count` readings from `deviceCount` devices as consecutive records of partition 0. */
export function batch(count: number, deviceCount = 3, firstOffset = 0): KafkaEventRecord[] {
  return Array.from({ length: count }, (_, i) =>
    kafkaRecord(
      envelope(`sensor-${i % deviceCount}`, devicePayload({ seq: Math.floor(i / deviceCount), ts: NOW - 60_000 + i })),
      { offset: firstOffset + i },
    ),
  );
}

export const failedOffsets = (response: KafkaBatchResponse) =>
  response.batchItemFailures.map((f) => `${f.itemIdentifier.partition}@${f.itemIdentifier.offset}`);

/** An envelope without a sequence number (ordered by time alone), under a given eventId. */
export const unsequenced = (deviceId: string, ts: number, eventId: string) => {
  const { seq: _seq, ...payload } = devicePayload({ ts });
  return { ...envelope(deviceId, payload), eventId };
};

export const EVENT_ID = '6f1c2b1e-0c1a-4c55-9a43-7d1f0f4f2a10';

/** A batch [B forging A's stored eventId, A replayed] resolves both against A: B conflicts, A is a replay. */
export async function forgedEventIdNextToItsReplay(h: SinkHarness): Promise<void> {
  // Given device A's reading stored
  const a = unsequenced('sensor-a', NOW - 5_000, EVENT_ID);
  await h.run([kafkaRecord(a, { offset: 0 })]);
  // When one batch brings device B's record with A's eventId first, then A's replay
  const response = await h.run([
    kafkaRecord(unsequenced('sensor-b', NOW - 4_000, EVENT_ID), { offset: 1 }),
    kafkaRecord(a, { offset: 2 }),
  ]);
  // Then only B is quarantined, against the stored A; A's replay is a duplicate, not a conflict with B
  expect(response.batchItemFailures).toEqual([]);
  expect(h.quarantine.all().map((q) => [q._id, q.reason, q.conflictsWith?.deviceId])).toEqual([
    ['telemetry.readings.v1-0@1', 'event_id_conflict', 'sensor-a'],
  ]);
  expect(h.metrics.single(SinkMetric.Conflicts)).toBe(1);
  expect(h.metrics.single(SinkMetric.Duplicates)).toBe(1);
  expect(h.readings.all().map((r) => r.deviceId)).toEqual(['sensor-a']);
  expect(h.devices.get('sensor-b')).toBeUndefined();
  expect(h.devices.get('sensor-a')?.eventId).toBe(EVENT_ID);
}

/** Registers the scenarios, each on a fresh harness. */
export function describeDeliverySemantics(harness: () => SinkHarness): void {
  let h: SinkHarness;
  beforeEach(() => {
    h = harness();
  });

  describe('sink: each reading stored exactly once', () => {
    it('stores every reading with _id = eventId and the envelope fields, readings nested', async () => {
      const records = batch(6);
      const response = await h.run(records);
      expect(response.batchItemFailures).toEqual([]);
      expect(h.readings.docs.size).toBe(6);
      const first = JSON.parse(Buffer.from(records[0]?.value ?? '', 'base64').toString());
      expect(h.readings.get(first.eventId)).toEqual({
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
      expect(h.metrics.single(SinkMetric.Written)).toBe(6);
      expect(h.metrics.single(SinkMetric.Duplicates)).toBe(0);
    });

    it('duplicate delivery: replaying the same batch any number of times leaves one document per reading', async () => {
      const records = batch(9);
      await h.run(records);
      const before = h.readings.all();
      for (let i = 0; i < 3; i++) {
        const response = await h.run(records);
        expect(response.batchItemFailures).toEqual([]);
        expect(h.metrics.single(SinkMetric.Written)).toBe(0);
        expect(h.metrics.single(SinkMetric.Duplicates)).toBe(9);
      }
      expect(h.readings.all()).toEqual(before);
    });

    it('retry after partial success: no duplicates, no loop', async () => {
      const records = batch(10);
      h.loseReadingsWrite(4);
      const first = await h.run(records);
      // Nothing can be known about an interrupted write: every record is retried
      expect(first.batchItemFailures).toHaveLength(10);
      expect(h.readings.docs.size).toBe(4);
      const retry = await h.run(records);
      expect(retry.batchItemFailures).toEqual([]);
      expect(h.readings.docs.size).toBe(10);
      expect(h.metrics.single(SinkMetric.Written)).toBe(6);
      expect(h.metrics.single(SinkMetric.Duplicates)).toBe(4);
    });
  });

  describe('sink: latest state per device never moves backwards', () => {
    it('keeps the newest reading by device time, then sequence, whatever the arrival order', async () => {
      const at = (ts: number, seq: number, offset: number) =>
        kafkaRecord(envelope('sensor-1', devicePayload({ ts, seq })), { offset });
      // Out of order within a batch, then older and equal-time readings in later batches
      await h.run([at(NOW - 5_000, 5, 0), at(NOW - 1_000, 9, 1), at(NOW - 3_000, 7, 2)]);
      expect(h.devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 1_000), seq: 9 });
      await h.run([at(NOW - 2_000, 20, 3)]);
      expect(h.metrics.single(SinkMetric.Stale)).toBe(1);
      await h.run([at(NOW - 1_000, 8, 4)]);
      expect(h.devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 1_000), seq: 9 });
      await h.run([at(NOW - 1_000, 10, 5)]);
      expect(h.devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 1_000), seq: 10 });
      await h.run([at(NOW - 500, 1, 6)]);
      expect(h.devices.get('sensor-1')).toMatchObject({ ts: new Date(NOW - 500), seq: 1 });
      expect(h.readings.docs.size).toBe(7);
    });

    it('a replayed old batch leaves the state where it is', async () => {
      const old = batch(6, 2, 0);
      const recent = batch(6, 2, 6).map((_, i) =>
        kafkaRecord(envelope(`sensor-${i % 2}`, devicePayload({ seq: 100 + i, ts: NOW - 1_000 + i })), {
          offset: 6 + i,
        }),
      );
      await h.run(old);
      await h.run(recent);
      const state = h.devices.all();
      await h.run(old);
      expect(h.devices.all()).toEqual(state);
      expect(h.metrics.single(SinkMetric.Stale)).toBe(2);
    });

    it('readings without seq order by time alone', async () => {
      const { seq: _seq, ...payload } = devicePayload({ ts: NOW - 10 });
      await h.run([kafkaRecord(envelope('sensor-2', payload), { offset: 0 })]);
      expect(h.devices.get('sensor-2')).toMatchObject({ ts: new Date(NOW - 10), seq: -1 });
    });
  });

  describe('sink: bad input is quarantined and never blocks the partition', () => {
    it('counts deliveries of a quarantined record on replays, keeping the first failure time', async () => {
      const record = kafkaRecord('nope', { offset: 4 }, { 'event-id': 'abc' });
      await h.run([record]);
      await h.run([record]);
      expect(h.quarantine.get('telemetry.readings.v1-0@4')).toMatchObject({
        attempts: 2,
        firstFailedAt: new Date(NOW + 2_000),
        headers: [{ key: 'event-id', value: Buffer.from('abc').toString('base64') }],
      });
    });

    it('keeps header names out of field names, so a NUL or $ in a header name cannot block quarantine', async () => {
      const record = kafkaRecord('bad', { offset: 6 }, { 'a\u0000b': '1', $where: '2', 'x.y': '3' });
      const response = await h.run([record]);
      expect(response.batchItemFailures).toEqual([]);
      expect(h.quarantine.get('telemetry.readings.v1-0@6')?.headers.map((header) => header.key)).toEqual([
        'a\u0000b',
        '$where',
        'x.y',
      ]);
    });

    it('quarantines a record the store rejects for good (document validation), not the rest', async () => {
      const records = batch(3);
      h.rejectReadings((doc) => doc.deviceId === 'sensor-1');
      const response = await h.run(records);
      expect(response.batchItemFailures).toEqual([]);
      expect(h.readings.docs.size).toBe(2);
      expect(h.quarantine.get('telemetry.readings.v1-0@1')).toMatchObject({
        reason: 'write_rejected',
        error: expect.stringMatching(/^E121/),
      });
    });
  });

  describe('sink: transient failures are retried, exactly the right records', () => {
    it('a lost readings write reports every record of the batch in Kafka form', async () => {
      const records = batch(3);
      h.loseReadingsWrite(0);
      const response = await h.run(records);
      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 0 } },
        { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 1 } },
        { itemIdentifier: { partition: 'telemetry.readings.v1-0', offset: 2 } },
      ]);
    });

    it('a transient error on one device’s state update reports that device’s records only; the retry completes it', async () => {
      const records = batch(6, 2);
      h.failStates((state) => state._id === 'sensor-1');
      const response = await h.run(records);
      const sensor1 = records.filter((_, i) => i % 2 === 1).map((r) => `telemetry.readings.v1-0@${r.offset}`);
      expect(failedOffsets(response)).toEqual(sensor1);
      expect(h.devices.docs.has('sensor-1')).toBe(false);

      h.heal();
      const retry = await h.run(records.filter((r) => sensor1.includes(`telemetry.readings.v1-0@${r.offset}`)));
      expect(retry.batchItemFailures).toEqual([]);
      expect(h.devices.get('sensor-1')).toMatchObject({ seq: 2 });
      expect(h.readings.docs.size).toBe(6);
    });

    it('a connection lost during the state update retries every stored record (its outcome is unknown)', async () => {
      const records = batch(6, 2);
      h.loseStateWrite(1);
      const response = await h.run(records);
      expect(failedOffsets(response)).toEqual(records.map((r) => `telemetry.readings.v1-0@${r.offset}`));
      expect((await h.run(records)).batchItemFailures).toEqual([]);
      expect(h.devices.docs.size).toBe(2);
    });

    it('a quarantine write that fails reports the bad record for retry instead of dropping it', async () => {
      h.loseQuarantineWrite();
      const response = await h.run([
        kafkaRecord(envelope('sensor-1'), { offset: 0 }),
        kafkaRecord('bad', { offset: 1 }),
      ]);
      expect(failedOffsets(response)).toEqual(['telemetry.readings.v1-0@1']);
      expect(h.readings.docs.size).toBe(1);
    });
  });

  describe('sink: an eventId that names another reading is a conflict, never a duplicate', () => {
    it("a batch [B forging A's stored eventId, A replayed] resolves both against A: B conflicts, A is a replay", () =>
      forgedEventIdNextToItsReplay(h));
  });
}
