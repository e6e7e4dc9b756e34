/**
 * The corpus against the sink core: each Kafka value is stored, or quarantined with its reason; nothing throws,
 * nothing is retried for the record's sake.
 */
import { describe, expect, it } from 'vitest';
import type { KafkaEvent, KafkaEventRecord } from '../../../lambdas/sink/kafka-event';
import { sinkBatch } from '../../../lambdas/sink/sink';
import { devicePayload, kafkaEvent, kafkaRecord, NOW } from '../../helpers/factories';
import { RecordingLogger, RecordingMetrics } from '../../helpers/recorders';
import { memoryStores } from '../../helpers/sink-stores';
import { AWS_SELF_MANAGED_KAFKA_EXAMPLE_EVENT } from './aws-events';
import { BODY_CASES, hostileKeyBodies, RECORD_CASES, strings, validBody } from './cases';

async function sink(records: readonly KafkaEventRecord[] | KafkaEvent) {
  const stores = memoryStores();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const event = Array.isArray(records) ? kafkaEvent(records) : (records as KafkaEvent);
  const response = await sinkBatch(event, {
    ...stores,
    logger,
    metrics,
    maxMessageBytes: 16_384,
    deadline: Date.now() + 10_000,
    now: () => NOW + 2_000,
  });
  return { response, ...stores, logger, metrics };
}

describe('sink corpus', () => {
  it.each(BODY_CASES.map((c) => [c.name, c] as const))('%s', async (_name, corpusCase) => {
    // Given the body as the value of a Kafka record
    const record = kafkaRecord(corpusCase.body, { offset: 7 });
    // When the sink handles it
    const { response, readings, quarantine } = await sink([record]);
    // Then it is stored, or quarantined with the expected reason, and acknowledged either way
    expect(response.batchItemFailures).toEqual([]);
    const expected = corpusCase.sink ?? corpusCase.forwarder;
    if (expected === 'pass') {
      expect(readings.docs.size).toBe(1);
      expect(quarantine.docs.size).toBe(0);
    } else {
      expect(readings.docs.size).toBe(0);
      expect(quarantine.all().map((q) => q.reason)).toEqual([expected]);
    }
  });

  it('keeps the "Records quarantined" line bounded however long the quoted key names are', async () => {
    const records = hostileKeyBodies().map((body, offset) => kafkaRecord(body, { offset }));
    const { logger, quarantine } = await sink(records);
    const [line] = logger.at('warn');
    expect(line?.message).toBe('Records quarantined');
    expect(JSON.stringify(line?.extra).length).toBeLessThanOrEqual(8_000);
    expect(Math.max(...strings(line?.extra).map((s) => s.length))).toBeLessThanOrEqual(1_000);
    expect(quarantine.all().every((q) => q.error.length <= 1_000)).toBe(true);
  });

  it.each(RECORD_CASES.map((c) => [c.name, c] as const))('record: %s', async (_name, corpusCase) => {
    const { response, readings, quarantine } = await sink([corpusCase.record]);
    expect(response.batchItemFailures).toEqual([]);
    if (corpusCase.sink === 'pass') {
      expect([readings.docs.size, quarantine.docs.size]).toEqual([1, 0]);
    } else {
      expect(readings.docs.size).toBe(0);
      const [parked] = quarantine.all();
      expect(parked?.reason).toBe(corpusCase.sink);
      // The record is kept as delivered, so it can be replayed byte for byte; header names stay values
      expect(parked).toMatchObject({ key: corpusCase.record.key ?? null, value: corpusCase.record.value ?? null });
      const headers = (corpusCase.record.headers ?? []).flatMap((h) =>
        Object.entries(h).map(([key, bytes]) => ({ key, value: Buffer.from(bytes).toString('base64') })),
      );
      expect(parked?.headers).toEqual(headers);
    }
  });

  it("quarantines AWS's self-managed Kafka example event verbatim (not an envelope), string partition and all", async () => {
    // Given the developer guide's example event, exactly as published
    const event = JSON.parse(AWS_SELF_MANAGED_KAFKA_EXAMPLE_EVENT) as KafkaEvent;
    // When the sink handles it
    const { response, quarantine, readings } = await sink(event);
    // Then its record ("Hello, this is a test.") is quarantined with its reason and source, and acknowledged
    expect(response.batchItemFailures).toEqual([]);
    expect(readings.docs.size).toBe(0);
    expect(quarantine.all()).toEqual([
      expect.objectContaining({
        _id: 'mytopic-0@15',
        reason: 'not_json',
        value: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
        key: null,
        headers: [{ key: 'headerKey', value: Buffer.from('headerValue').toString('base64') }],
      }),
    ]);
  });

  it('stores out-of-order and duplicate readings of one device in one batch once each; state = the newest', async () => {
    // Given seq 3, 1, 2, then 3 and 1 again (QoS 1 retransmissions), interleaved with another device
    const body = (device: string, seq: number) => validBody(device, devicePayload({ seq, ts: NOW - 10_000 + seq }));
    const order: [string, number][] = [
      ['sensor-a', 3],
      ['sensor-b', 1],
      ['sensor-a', 1],
      ['sensor-a', 2],
      ['sensor-a', 3],
      ['sensor-b', 1],
      ['sensor-a', 1],
    ];
    const { response, readings, devices, quarantine, metrics } = await sink(
      order.map(([device, seq], offset) => kafkaRecord(body(device, seq), { offset })),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(
      readings
        .all()
        .map((r) => `${r.deviceId}#${r.seq}`)
        .sort(),
    ).toEqual(['sensor-a#1', 'sensor-a#2', 'sensor-a#3', 'sensor-b#1']);
    expect(devices.get('sensor-a')?.seq).toBe(3);
    expect(devices.get('sensor-b')?.seq).toBe(1);
    expect(quarantine.docs.size).toBe(0);
    expect(metrics.single('DuplicatesSkipped')).toBe(3);
    expect(metrics.single('EventIdConflicts')).toBe(0);
  });
});
