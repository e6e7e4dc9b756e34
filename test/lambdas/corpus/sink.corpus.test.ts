/**
 * The corpus against the sink core: each Kafka value is stored, or quarantined with its reason; nothing throws,
 * nothing is retried for the record's sake.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../../../lambdas/sink/documents';
import type { KafkaEventRecord } from '../../../lambdas/sink/kafka-event';
import { UpsertReadingWriter } from '../../../lambdas/sink/reading-writers';
import { sinkBatch } from '../../../lambdas/sink/sink';
import { kafkaEvent, kafkaRecord, NOW } from '../../helpers/factories';
import { FakeCollection } from '../../helpers/fake-mongo';
import { RecordingLogger, RecordingMetrics } from '../../helpers/recorders';
import { BODY_CASES, hostileKeyBodies, strings } from './cases';

async function sink(records: readonly KafkaEventRecord[]) {
  const collections = {
    readings: new FakeCollection<ReadingDocument>(),
    devices: new FakeCollection<DeviceStateDocument>(),
    quarantine: new FakeCollection<QuarantineDocument>(),
  };
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const response = await sinkBatch(kafkaEvent(records), {
    collections,
    readings: new UpsertReadingWriter(collections.readings),
    logger,
    metrics,
    maxMessageBytes: 16_384,
    deadline: Date.now() + 10_000,
    now: () => NOW + 2_000,
  });
  return { response, ...collections, logger, metrics };
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
});
