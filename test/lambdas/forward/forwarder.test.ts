import { describe, expect, it } from 'vitest';
import { InvalidReason } from '../../../contracts/envelope';
import { KafkaHeader } from '../../../contracts/kafka-headers';
import { ForwarderMetric } from '../../../contracts/metrics';
import { forwardBatch } from '../../../lambdas/forward/forwarder';
import { envelope, NOW, sqsRecord, telemetryBatch } from '../../helpers/factories';
import { FakePublisher, FakeQuarantine } from '../../helpers/forwarder-fakes';
import { RecordingLogger, RecordingMetrics } from '../../helpers/recorders';

function setup(publisher = new FakePublisher(), quarantine = new FakeQuarantine()) {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps = {
    publisher,
    quarantine,
    logger,
    metrics,
    maxMessageBytes: 16_384,
    deadline: NOW + 25_000,
    now: () => NOW + 100,
  };
  return { deps, publisher, quarantine, logger, metrics };
}

describe('forwardBatch', () => {
  it('produces every valid record in one publish call, keyed by device id, with the tracing headers', async () => {
    // Given a batch of valid readings
    const { deps, publisher } = setup();
    const records = telemetryBatch(25, 5);
    // When it is forwarded
    const response = await forwardBatch(records, deps);
    // Then one publish carries all of them, with key, value and headers taken from the envelope
    expect(response.batchItemFailures).toEqual([]);
    expect(publisher.calls).toHaveLength(1);
    const sent = publisher.calls[0] ?? [];
    expect(sent.map((m) => m.id)).toEqual(records.map((r) => r.messageId));
    const first = JSON.parse(records[0]?.body ?? '');
    expect(sent[0]).toEqual({
      id: records[0]?.messageId,
      key: first.deviceId,
      value: records[0]?.body,
      headers: {
        [KafkaHeader.EventId]: first.eventId,
        [KafkaHeader.ReceivedAt]: String(first.receivedAt),
        [KafkaHeader.SchemaVersion]: '1',
        [KafkaHeader.SourceTopic]: first.sourceTopic,
        [KafkaHeader.TraceId]: first.traceId,
        [KafkaHeader.ContentType]: 'application/json',
      },
    });
  });

  it('sends invalid records to quarantine with their reason, and forwards the rest of the batch', async () => {
    const { deps, publisher, quarantine } = setup();
    const good = telemetryBatch(3);
    const notJson = sqsRecord('{oops', { attributes: { ...good[0]!.attributes, ApproximateReceiveCount: '3' } });
    const injection = sqsRecord({ ...envelope(), $where: '1' });
    const records = [good[0]!, notJson, good[1]!, injection, good[2]!];

    const response = await forwardBatch(records, deps);

    expect(response.batchItemFailures).toEqual([]);
    expect(publisher.calls[0]?.map((m) => m.id)).toEqual(good.map((r) => r.messageId));
    expect(quarantine.entries).toEqual([
      expect.objectContaining({ id: notJson.messageId, body: '{oops', reason: InvalidReason.NotJson, attempts: 3 }),
      expect.objectContaining({
        id: injection.messageId,
        reason: InvalidReason.UnsafeKey,
        detail: 'forbidden key "$where"',
      }),
    ]);
    expect(quarantine.entries[0]?.firstReceivedAt).toBe(NOW + 5);
  });

  it('reports exactly the records Kafka did not acknowledge', async () => {
    const publisher = new FakePublisher((m) => m.key === 'sensor-0001');
    const { deps, logger } = setup(publisher);
    const records = telemetryBatch(6, 3);

    const response = await forwardBatch(records, deps);

    const expected = records.filter((r) => JSON.parse(r.body).deviceId === 'sensor-0001').map((r) => r.messageId);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(expected);
    expect(expected).toHaveLength(2);
    expect(logger.at('error')[0]?.extra[0]).toMatchObject({ count: 2, errors: ['KafkaJSError: broker down'] });
  });

  it('reports invalid records the quarantine did not take, so SQS delivers them again rather than losing them', async () => {
    const { deps } = setup(new FakePublisher(), new FakeQuarantine(() => true));
    const bad = sqsRecord('not json');
    const response = await forwardBatch([...telemetryBatch(2), bad], deps);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
  });

  it('emits each metric once per invocation, with the age of the oldest forwarded record', async () => {
    const publisher = new FakePublisher((m) => m.key === 'sensor-0000');
    const { deps, metrics } = setup(publisher);
    const records = [...telemetryBatch(4, 2, NOW - 3_000), sqsRecord('[]')];

    await forwardBatch(records, deps);

    expect(metrics.single(ForwarderMetric.BatchSize)).toBe(5);
    expect(metrics.single(ForwarderMetric.Forwarded)).toBe(2);
    expect(metrics.single(ForwarderMetric.Invalid)).toBe(1);
    expect(metrics.single(ForwarderMetric.Failed)).toBe(2);
    expect(metrics.single(ForwarderMetric.OldestRecordAge)).toBe(3_100);
  });

  it('logs nothing per record at INFO or above for a clean batch', async () => {
    const { deps, logger } = setup();
    await forwardBatch(telemetryBatch(50), deps);
    expect(logger.entries.filter((e) => e.level !== 'debug')).toEqual([]);
  });

  it('handles an empty batch without calling Kafka work that would fail', async () => {
    const { deps, metrics } = setup();
    const response = await forwardBatch([], deps);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(metrics.single(ForwarderMetric.BatchSize)).toBe(0);
    expect(metrics.values.has(ForwarderMetric.OldestRecordAge)).toBe(false);
  });
});
